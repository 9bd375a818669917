package summary

import (
	"cmp"
	"maps"
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
	c := computer{
		downstream:  map[string]bool{},
		visited:     map[*segment.Entity]bool{},
		nodes:       nodeSet{},
		users:       map[string]nodeSet{},
		arns:        map[string]bool{},
		instances:   map[string]bool{},
		zones:       map[string]bool{},
		annotations: newAnnotationSet(MaxAnnotationKeys),
	}
	segs := sortedDocs(realSegments(t.Segments))
	orphans := sortedDocs(t.Orphans)
	for _, d := range segs {
		if d.ParentID != "" {
			c.downstream[d.ParentID] = true
		}
	}

	s := Summary{ID: string(t.ID), Revision: revision}
	for _, d := range segs {
		c.segment(d.Entity)
	}
	for _, d := range orphans {
		c.partial = true // its parent never arrived
		c.visit(d.Entity, nil, false, false)
	}

	events := segs
	if len(segs) == 0 {
		events = orphans // a trace of orphans still has a start and activity
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

	if root := rootOf(t, segs); root != nil {
		e := root.Entity
		if e.Complete() {
			s.ResponseTime = seconds(e.Duration())
			s.HasResponse = true
		}
		s.HasFault = isFault(e)
		s.HasError = isError(e)
		s.HTTP = httpOf(e)
		entry := NodeOf(e)
		s.EntryPoint = &entry
	}
	s.HasThrottle = c.throttle
	s.IsPartial = c.partial

	s.Annotations = c.annotations.result()
	s.Users = usersOf(c.users)
	s.ServiceIDs = c.nodes.sorted()
	s.ResourceARNs = sortedKeys(c.arns)
	s.InstanceIDs = sortedKeys(c.instances)
	s.AvailabilityZones = sortedKeys(c.zones)
	s.ColdStart, s.ColdStartSource = coldStart(segs, c.coldStartAnnotation)
	return s
}

// computer accumulates what one walk over the trace's entities finds.
type computer struct {
	// downstream holds the parent_id of every segment: a subsegment whose id
	// is in it called an instrumented service.
	downstream map[string]bool
	// visited guards the walk; assembly never links an entity twice, but a
	// summary must not loop or double count if it ever did.
	visited map[*segment.Entity]bool

	completed bool
	maxEnd    float64
	throttle  bool
	partial   bool

	nodes       nodeSet
	users       map[string]nodeSet
	arns        map[string]bool
	instances   map[string]bool
	zones       map[string]bool
	annotations *annotationSet
	// coldStartAnnotation is the ColdStart annotation (Powertools) when any
	// entity carries one as a boolean: true if any says true.
	coldStartAnnotation *bool
}

// segment records a segment's node and resource fields, then walks it.
func (c *computer) segment(e *segment.Entity) {
	node := NodeOf(e)
	c.nodes.add(node)
	if e.User != "" {
		if c.users[e.User] == nil {
			c.users[e.User] = nodeSet{}
		}
		c.users[e.User].add(node)
	}
	if e.ResourceARN != "" {
		c.arns[e.ResourceARN] = true
	}
	if a := e.AWS; a != nil {
		if a.EC2 != nil {
			addNonEmpty(c.instances, a.EC2.InstanceID)
			addNonEmpty(c.zones, a.EC2.AvailabilityZone)
		}
		if a.ECS != nil {
			addNonEmpty(c.zones, a.ECS.AvailabilityZone)
		}
	}
	c.visit(e, &node, true, false)
}

// visit handles e and everything below it. node is the node of the segment
// e belongs to (nil under an orphan, whose segment is unknown); isSegment
// says e is the segment itself; inCall says an aws or remote subsegment
// encloses e within its segment.
func (c *computer) visit(e *segment.Entity, node *ServiceID, isSegment, inCall bool) {
	if c.visited[e] {
		return
	}
	c.visited[e] = true

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
	c.annotate(e, node)

	call := false
	if !isSegment {
		if e.HTTP != nil && e.HTTP.Request != nil && e.HTTP.Request.Traced && !c.downstream[e.ID] {
			c.partial = true // the instrumented callee's segment has not arrived
		}
		if id, ok := InferredNode(e); ok {
			call = true
			// Only the outermost call makes a node: SDK child subsegments
			// (marshal, attempt, ...) are parts of that call.
			if !inCall && !c.downstream[e.ID] {
				c.nodes.add(id)
			}
		}
	}
	for _, sub := range byStart(e.Subsegments) {
		c.visit(sub, node, false, inCall || call)
	}
}

// annotate adds e's annotations, attributed to node, in key order so that
// which keys pass the cap does not depend on map iteration.
func (c *computer) annotate(e *segment.Entity, node *ServiceID) {
	for _, k := range slices.Sorted(maps.Keys(e.Annotations)) {
		v, ok := annotationValue(e.Annotations[k])
		if !ok {
			continue
		}
		if k == coldStartAnnotation && v.BooleanValue != nil {
			b := *v.BooleanValue || (c.coldStartAnnotation != nil && *c.coldStartAnnotation)
			c.coldStartAnnotation = &b
		}
		c.annotations.add(k, v, node)
	}
}

// realSegments drops inferred segments (see Compute).
func realSegments(ds []*segment.Document) []*segment.Document {
	out := make([]*segment.Document, 0, len(ds))
	for _, d := range ds {
		if !d.Entity.Inferred {
			out = append(out, d)
		}
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

// sortedDocs returns ds ordered by start time, then id, so that the walk is
// the same whatever order the documents arrived in.
func sortedDocs(ds []*segment.Document) []*segment.Document {
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b *segment.Document) int {
		return cmp.Or(cmp.Compare(a.Entity.StartTime, b.Entity.StartTime), strings.Compare(a.ID, b.ID))
	})
	return out
}

// byStart returns subsegments ordered by start time, then id, leaving the
// entity's own slice as it is.
func byStart(subs []*segment.Entity) []*segment.Entity {
	if len(subs) < 2 {
		return subs
	}
	out := slices.Clone(subs)
	slices.SortStableFunc(out, func(a, b *segment.Entity) int {
		return cmp.Or(cmp.Compare(a.StartTime, b.StartTime), strings.Compare(a.ID, b.ID))
	})
	return out
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

func usersOf(users map[string]nodeSet) []User {
	var out []User
	for _, name := range slices.Sorted(maps.Keys(users)) {
		out = append(out, User{UserName: name, ServiceIDs: users[name].sorted()})
	}
	return out
}

func addNonEmpty(set map[string]bool, s string) {
	if s != "" {
		set[s] = true
	}
}

func sortedKeys(set map[string]bool) []string {
	if len(set) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(set))
}
