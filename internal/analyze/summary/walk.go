package summary

import (
	"cmp"
	"slices"
	"strings"

	"github.com/thawtrace/thaw/internal/segment"
)

// walker walks a trace's entities in the order summaries are defined by:
// segments by start time, each depth first with children by start time,
// then orphans (the caller goes through the documents in that order). On
// the way it finds the calls that make inferred nodes.
//
// It has no guard against meeting an entity twice: segment.Assemble
// guarantees that cannot happen. It links each attached subsegment under
// exactly one parent (copying only the entities whose children change) and
// makes every document on a parent_id cycle an orphan, so the segments' and
// orphans' trees are disjoint trees.
type walker struct {
	// downstream holds the parent_id of every real segment, sorted: a
	// subsegment whose id is in it called an instrumented service.
	downstream []string
	// stack holds, for each entity on the path being walked, the order of
	// its subsegments (see walk).
	stack []int
}

// visitFunc is called for each entity of a walk. isSegment says e is a
// segment document's own entity; inferred says e makes an inferred node: it
// is the outermost aws or remote subsegment of its segment, and no segment
// in the trace is its callee.
type visitFunc func(e *segment.Entity, isSegment, inferred bool)

// newWalker returns a walker for a trace whose real segments are segs.
func newWalker(segs []*segment.Document) walker {
	w := walker{
		downstream: make([]string, 0, len(segs)),
		stack:      make([]int, 0, 32),
	}
	for _, d := range segs {
		if d.ParentID != "" {
			w.downstream = append(w.downstream, d.ParentID)
		}
	}
	slices.Sort(w.downstream)
	return w
}

// hasSegment reports whether a segment in the trace has the subsegment id
// as its parent_id.
func (w *walker) hasSegment(id string) bool {
	_, ok := slices.BinarySearch(w.downstream, id)
	return ok
}

// walk calls visit for e and everything below it, depth first, children by
// start time then id. isSegment says e is a segment; inCall says an aws or
// remote subsegment encloses e within its segment: SDK child subsegments
// (marshal, attempt, ...) are parts of that call and make no node.
func (w *walker) walk(e *segment.Entity, isSegment, inCall bool, visit visitFunc) {
	call := !isSegment && isCall(e)
	visit(e, isSegment, call && !inCall && !w.hasSegment(e.ID))

	// The children are sorted on a stack shared by the whole walk rather
	// than in a copy per entity, leaving e's own slice as it is. The stack
	// holds positions in e.Subsegments, not pointers: sorting pointers
	// costs a write barrier per move while the GC runs. Walking a child
	// may grow (move) the stack, so it is indexed afresh each time.
	subs := e.Subsegments
	base := len(w.stack)
	for i := range subs {
		w.stack = append(w.stack, i)
	}
	if len(subs) > 1 {
		slices.SortStableFunc(w.stack[base:], func(a, b int) int { return compareStart(subs[a], subs[b]) })
	}
	for i := base; i < base+len(subs); i++ {
		w.walk(subs[w.stack[i]], false, inCall || call, visit)
	}
	w.stack = w.stack[:base]
}

// isCall reports an aws or remote subsegment: a call of another service.
func isCall(e *segment.Entity) bool {
	return strings.EqualFold(e.Namespace, "aws") || strings.EqualFold(e.Namespace, "remote")
}

// compareStart orders entities by start time, then id.
func compareStart(a, b *segment.Entity) int {
	return cmp.Or(cmp.Compare(a.StartTime, b.StartTime), strings.Compare(a.ID, b.ID))
}

// compareDocStart orders documents by their entity's start time, then id.
func compareDocStart(a, b *segment.Document) int {
	return cmp.Or(cmp.Compare(a.Entity.StartTime, b.Entity.StartTime), strings.Compare(a.ID, b.ID))
}

// sortedDocs returns ds ordered by start time, then id, so that the walk is
// the same whatever order the documents arrived in. It returns ds itself
// when it is in order already, as Assemble's lists usually are: callers
// must not modify the result.
func sortedDocs(ds []*segment.Document) []*segment.Document {
	if slices.IsSortedFunc(ds, compareDocStart) {
		return ds
	}
	out := slices.Clone(ds)
	slices.SortStableFunc(out, compareDocStart)
	return out
}

// realSegments drops inferred segments (see Compute). It returns ds itself
// when none is inferred: callers must not modify the result.
func realSegments(ds []*segment.Document) []*segment.Document {
	if !slices.ContainsFunc(ds, isInferred) {
		return ds
	}
	out := make([]*segment.Document, 0, len(ds))
	for _, d := range ds {
		if !d.Entity.Inferred {
			out = append(out, d)
		}
	}
	return out
}

func isInferred(d *segment.Document) bool { return d.Entity.Inferred }
