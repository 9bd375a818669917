package summary

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/thawtrace/thaw/internal/segment"
)

// Compute summarises an assembled trace per spec/xray.md §6.6. revision is the
// number of accepted document updates for the trace, which the caller keeps.
//
// Inferred segments (inferred: true, as found in documents imported from
// AWS's BatchGetTraces) are ignored: thaw derives inferred nodes from the
// calling subsegments itself, and counting those documents as segments would
// turn every inferred node into an instrumented one.
//
// Compute reads t and does not modify it. Its output is deterministic: lists
// are sorted, except annotation values, which keep the order in which a walk
// of the trace (segments by start time, each depth first with children by
// start time, then orphans) first meets them.
func Compute(t *segment.Trace, revision int) Summary {
	segs := sortedDocs(realSegments(t.Segments))
	orphans := sortedDocs(t.Orphans)
	c := computer{
		walker:      newWalker(segs),
		nodes:       indexedSet[nodeKey]{keys: make([]nodeKey, 0, 2*len(segs)+4)},
		annotations: annotationSet{limit: MaxAnnotationKeys},
	}

	s := Summary{ID: string(t.ID), Revision: revision}
	for _, d := range segs {
		c.segment(d.Entity)
	}
	c.node = -1 // an orphan's segment is unknown
	for _, d := range orphans {
		c.partial = true // its parent never arrived
		c.walk(d.Entity, false, false, c.visit)
	}

	events := segs
	if len(segs) == 0 {
		events = orphans // a trace of orphans still has a start and activity
	}
	if len(events) > 0 {
		s.Events = make([]Event, 0, len(events))
	}
	for i, d := range events {
		if i == 0 || d.Entity.StartTime < s.StartTime {
			s.StartTime = d.Entity.StartTime
		}
		ev := Event{Start: d.Entity.StartTime}
		if d.Entity.Complete() {
			ev.End = d.Entity.EndTime
		}
		s.Events = append(s.Events, ev)
	}
	if c.completed {
		s.EndTime = c.maxEnd
		s.Duration = seconds(max(0, s.EndTime-s.StartTime))
		s.HasDuration = true
	}

	var rootEntity *segment.Entity
	if root := rootOf(t, segs); root != nil {
		e := root.Entity
		rootEntity = e
		if e.Complete() {
			s.ResponseTime = seconds(e.Duration())
			s.HasResponse = true
		}
		s.HasFault = isFault(e)
		s.HasError = isError(e)
		s.HTTP = httpOf(e)
	}
	s.HasThrottle = c.throttle
	s.IsPartial = c.partial

	c.nodeLists(&s, rootEntity)
	s.ResourceARNs = c.arns
	s.InstanceIDs = c.instances
	s.AvailabilityZones = c.zones
	var annotation *bool
	if c.coldStartAnnotated {
		annotation = &c.coldStartAnnotation
	}
	s.ColdStart, s.ColdStartSource = coldStart(segs, annotation)
	s.FaultRootCauses, s.ErrorRootCauses, s.ResponseTimeRootCauses = rootCauses(rootEntity, segs)
	return s
}

// computer accumulates what one walk over the trace's entities finds.
type computer struct {
	walker

	completed bool
	maxEnd    float64
	throttle  bool
	partial   bool

	// nodes are the trace's distinct nodes; elsewhere a node is its index
	// here. node is the node of the segment being walked, -1 under an
	// orphan.
	nodes       indexedSet[nodeKey]
	node        int
	users       indexedSet[userNode]
	arns        stringSet
	instances   stringSet
	zones       stringSet
	annotations annotationSet
	// coldStartAnnotation is the ColdStart annotation (Powertools) when
	// coldStartAnnotated, that is when any entity carries one as a
	// boolean: true if any says true.
	coldStartAnnotated  bool
	coldStartAnnotation bool

	entityAnnotations []annotation // scratch for annotate
}

// userNode says that the node with index node recorded the user.
type userNode struct {
	user string
	node int
}

// annotation is one annotation of an entity.
type annotation struct {
	key   string
	value any
}

// segment records a segment's node and resource fields, then walks it.
func (c *computer) segment(e *segment.Entity) {
	c.node = c.nodes.add(segmentNode(e))
	if e.User != "" {
		c.users.add(userNode{user: e.User, node: c.node})
	}
	c.arns.add(e.ResourceARN)
	if a := e.AWS; a != nil {
		if a.EC2 != nil {
			c.instances.add(a.EC2.InstanceID)
			c.zones.add(a.EC2.AvailabilityZone)
		}
		if a.ECS != nil {
			c.zones.add(a.ECS.AvailabilityZone)
		}
	}
	c.walk(e, true, false, c.visit)
}

// visit handles one entity of the walk (see visitFunc), which belongs to
// the segment whose node is c.node.
func (c *computer) visit(e *segment.Entity, isSegment, inferred bool) {
	if e.Complete() {
		if !c.completed || e.EndTime > c.maxEnd {
			c.maxEnd = e.EndTime
		}
		c.completed = true
	} else {
		c.partial = true
	}
	if isThrottle(e) {
		c.throttle = true
	}
	c.annotate(e)

	if !isSegment && e.CallsTraced() && !c.hasSegment(e.ID) {
		c.partial = true // the instrumented callee's segment has not arrived
	}
	if inferred {
		k, _ := inferredNode(e)
		c.nodes.add(k)
	}
}

// annotate adds e's annotations, attributed to c.node, in key order so that
// which keys pass the cap does not depend on map iteration.
func (c *computer) annotate(e *segment.Entity) {
	if len(e.Annotations) == 0 {
		return
	}
	as := c.entityAnnotations[:0]
	if cap(as) < len(e.Annotations) {
		as = make([]annotation, 0, max(8, len(e.Annotations)))
	}
	for k, v := range e.Annotations {
		as = append(as, annotation{key: k, value: v})
	}
	slices.SortFunc(as, func(a, b annotation) int { return strings.Compare(a.key, b.key) })
	for _, a := range as {
		v, ok := valueKeyOf(a.value)
		if !ok {
			continue
		}
		if a.key == coldStartAnnotation && v.kind == 'b' {
			c.coldStartAnnotation = c.coldStartAnnotation || v.b
			c.coldStartAnnotated = true
		}
		c.annotations.add(a.key, v, c.node)
	}
	c.entityAnnotations = as
}

// nodeLists sets the summary's lists of ServiceIDs, all from one arena: the
// trace's nodes, its entry point (the root's node), and the nodes of each
// user and of each annotation value.
func (c *computer) nodeLists(s *Summary, root *segment.Entity) {
	sorted, rank := c.rankNodes()
	ids := newIDArena(len(sorted) + 1 + len(c.users.keys) + len(c.annotations.nodes.keys))
	for _, k := range sorted {
		ids.push(k)
	}
	s.ServiceIDs = ids.done()
	if root != nil {
		ids.push(segmentNode(root))
		s.EntryPoint = &ids.done()[0]
	}
	s.Users = c.userList(sorted, rank, &ids)
	s.Annotations = c.annotations.result(sorted, rank, &ids)
}

// rankNodes returns the trace's nodes ordered by name, type and account,
// and for each node index its position in that order.
func (c *computer) rankNodes() (sorted []nodeKey, rank []int) {
	keys := c.nodes.keys
	order := make([]int, 2*len(keys))
	order, rank = order[:len(keys)], order[len(keys):]
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return compareNodes(keys[a], keys[b]) })
	sorted = make([]nodeKey, len(keys))
	for pos, i := range order {
		sorted[pos] = keys[i]
		rank[i] = pos
	}
	return sorted, rank
}

// userList returns the distinct users by name, each with its nodes in
// output order (see annotationSet.result for sorted and rank).
func (c *computer) userList(sorted []nodeKey, rank []int, ids *idArena) []User {
	if len(c.users.keys) == 0 {
		return nil
	}
	refs := make([]userNode, len(c.users.keys))
	for i, u := range c.users.keys {
		refs[i] = userNode{user: u.user, node: rank[u.node]}
	}
	slices.SortFunc(refs, func(a, b userNode) int {
		return cmp.Or(strings.Compare(a.user, b.user), cmp.Compare(a.node, b.node))
	})
	var out []User
	for i := 0; i < len(refs); {
		name := refs[i].user
		for ; i < len(refs) && refs[i].user == name; i++ {
			ids.push(sorted[refs[i].node])
		}
		out = append(out, User{UserName: name, ServiceIDs: ids.done()})
	}
	return out
}

// rootOf returns the root segment (spec/xray.md §2.14 rule 5), never an
// inferred one. segs are the trace's non-inferred segments by start time.
func rootOf(t *segment.Trace, segs []*segment.Document) *segment.Document {
	if r := t.Root(); r == nil || !r.Entity.Inferred {
		return r
	}
	// Only reachable with an inferred segment whose caller is missing, which
	// thaw never produces; apply the rule to the real segments.
	ids := map[string]bool{}
	for _, list := range [][]*segment.Document{t.Segments, t.Orphans} {
		for _, d := range list {
			d.Entity.Walk(func(e, _ *segment.Entity) bool { ids[e.ID] = true; return true })
		}
	}
	for _, d := range segs {
		if d.ParentID == "" || !ids[d.ParentID] {
			return d
		}
	}
	return nil
}

// seconds rounds a difference of epoch times to the microsecond. At today's
// epochs a float64 resolves only about 0.2 µs, so finer digits are noise,
// and that noise would turn X-Ray's 3.232 into 3.2319998741 and make the
// filter "duration >= 3.232" miss.
func seconds(d float64) float64 { return math.Round(d*1e6) / 1e6 }

func status(e *segment.Entity) int {
	if e.HTTP == nil || e.HTTP.Response == nil {
		return 0
	}
	return e.HTTP.Response.Status
}

// isFault reports a fault: the fault flag or a 5xx status (spec/xray.md §6.4).
func isFault(e *segment.Entity) bool {
	st := status(e)
	return e.Fault || (st >= 500 && st < 600)
}

// isError reports an error: the error or throttle flag, or a 4xx status.
// Unlike the statistics of §6.4, a summary's HasError does not give way to
// HasFault: X-Ray defines each on its own.
func isError(e *segment.Entity) bool {
	st := status(e)
	return e.Error || e.Throttle || (st >= 400 && st < 500)
}

// isThrottle reports a throttle: the throttle flag or status 429.
func isThrottle(e *segment.Entity) bool { return e.Throttle || status(e) == 429 }

func httpOf(e *segment.Entity) *HTTP {
	if e.HTTP == nil {
		return nil
	}
	var h HTTP
	if r := e.HTTP.Request; r != nil {
		h.HTTPURL, h.HTTPMethod, h.UserAgent, h.ClientIP = r.URL, r.Method, r.UserAgent, r.ClientIP
	}
	if r := e.HTTP.Response; r != nil {
		h.HTTPStatus = r.Status
	}
	if h == (HTTP{}) {
		return nil
	}
	return &h
}
