package graph

import (
	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/segment"
)

// caller is an entity that a segment names as its parent, and the node of
// the segment it belongs to.
type caller struct {
	ent  *segment.Entity
	node NodeKey
	// isSegment says ent is the segment itself (AWS::Lambda calling its
	// function segment), which needs no alias.
	isSegment bool
}

// AddTrace adds a trace's nodes, edges and statistics to g (spec/xray.md
// §6.1–6.5). Inferred segments in the trace (as BatchGetTraces returns
// them) are ignored: inferred nodes come from the calls themselves.
// Orphan subsegments add nothing, since the segment they belong to is
// unknown. In-progress entities add their nodes and edges but are not
// counted. t is not modified.
func (g *Graph) AddTrace(t *segment.Trace) {
	segs := make([]*segment.Entity, 0, len(t.Segments))
	for _, d := range t.Segments {
		if !d.Entity.Inferred {
			segs = append(segs, d.Entity)
		}
	}
	if len(segs) == 0 {
		return
	}
	root := rootOf(t, segs)

	inferred := make(map[*segment.Entity]NodeKey)
	for _, c := range summary.InferredCalls(t) {
		inferred[c.Sub] = keyOf(c.Node)
	}
	// callers maps the parent_id of each segment to its entity, found
	// while walking the segments.
	callers := make(map[string]caller, len(segs))
	for _, s := range segs {
		if s.ParentID != "" {
			callers[s.ParentID] = caller{}
		}
	}

	for _, s := range segs {
		k := keyOf(summary.NodeOf(s))
		n := g.node(k)
		n.active = true
		n.stats.window(s)
		isRoot := s == root
		if isRoot {
			n.root = true
			n.rootStats.window(s)
		}
		if s.Complete() {
			d, e2e := s.Duration(), endToEnd(s)
			n.stats.add(s, d)
			n.duration.add(e2e)
			if isRoot {
				n.rootStats.add(s, d)
				n.rootDuration.add(e2e)
			}
		}
		s.Walk(func(e, _ *segment.Entity) bool {
			if _, ok := callers[e.ID]; ok {
				callers[e.ID] = caller{ent: e, node: k, isSegment: e == s}
			}
			if to, ok := inferred[e]; ok {
				g.addInferred(k, to, e)
			}
			return true
		})
	}

	// A caller with several downstream segments of one node (retries, or
	// duplicate documents) is counted once on the edge.
	type call struct {
		ent *segment.Entity
		to  NodeKey
	}
	var counted map[call]bool
	for _, s := range segs {
		c := callers[s.ParentID]
		if s.ParentID == "" || c.ent == nil {
			continue
		}
		to := keyOf(summary.NodeOf(s))
		if counted[call{c.ent, to}] {
			continue
		}
		if counted == nil {
			counted = make(map[call]bool)
		}
		counted[call{c.ent, to}] = true
		e := g.edge(c.node, to)
		e.stats.window(c.ent)
		if c.ent.Complete() {
			e.stats.add(c.ent, c.ent.Duration())
		}
		if !c.isSegment && c.ent.Name != to.Name {
			e.addAlias(aliasOf(c.ent))
		}
	}
}

// addInferred adds the inferred node a call makes and the edge to it, both
// counted from the calling subsegment.
func (g *Graph) addInferred(from, to NodeKey, call *segment.Entity) {
	n := g.node(to)
	e := g.edge(from, to)
	n.stats.window(call)
	e.stats.window(call)
	if call.Complete() {
		d := call.Duration()
		n.stats.add(call, d)
		n.duration.add(d)
		e.stats.add(call, d)
	}
}

// aliasOf is the alias a calling subsegment gives the segment it calls:
// its own name, typed as the node it would have inferred (remote for an
// HTTP call, AWS::Lambda for a Lambda Invoke).
func aliasOf(sub *segment.Entity) alias {
	a := alias{name: sub.Name, typ: summary.TypeRemote}
	if id, ok := summary.InferredNode(sub); ok {
		a.typ = id.Type
	}
	return a
}

// rootOf returns the trace's root segment among segs, the real segments
// (spec/xray.md §2.14 rule 5).
func rootOf(t *segment.Trace, segs []*segment.Entity) *segment.Entity {
	if r := t.Root(); r != nil && !r.Entity.Inferred {
		return r.Entity
	}
	// Only reachable when an inferred segment has no caller in the trace.
	ids := make(map[string]bool)
	for _, s := range segs {
		s.Walk(func(e, _ *segment.Entity) bool { ids[e.ID] = true; return true })
	}
	var root *segment.Entity
	for _, s := range segs {
		if (s.ParentID == "" || !ids[s.ParentID]) && (root == nil || s.StartTime < root.StartTime) {
			root = s
		}
	}
	return root
}

// endToEnd is a complete segment's duration up to the latest end among it
// and its subsegments, which can outlast it when work continues
// asynchronously (DurationHistogram, spec/xray.md §6.4).
func endToEnd(s *segment.Entity) float64 {
	end := s.EndTime
	s.Walk(func(e, _ *segment.Entity) bool {
		if e.Complete() {
			end = max(end, e.EndTime)
		}
		return true
	})
	return max(end-s.StartTime, 0)
}
