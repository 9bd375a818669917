package summary

import (
	"strings"

	"github.com/thawtrace/thaw/internal/segment"
)

// InferredCall is a downstream call that makes an inferred node (spec/xray.md
// §6.2): the outermost aws or remote subsegment of its segment, with no
// segment of its own in the trace.
type InferredCall struct {
	// Sub is the calling subsegment.
	Sub *segment.Entity
	// Node is the inferred node it calls.
	Node ServiceID
	// SegmentName is the inferred segment's name in BatchGetTraces (§6.8):
	// the AWS service ("DynamoDB") for aws calls, the subsegment's name for
	// remote ones.
	SegmentName string
}

// InferredCalls lists the trace's inferred calls, segments in start order,
// each depth first; orphans' calls come last. It does not modify t.
func InferredCalls(t *segment.Trace) []InferredCall {
	segs := sortedDocs(realSegments(t.Segments))
	w := newWalker(segs)
	var out []InferredCall
	visit := func(e *segment.Entity, _, inferred bool) {
		if !inferred {
			return
		}
		node, _ := InferredNode(e)
		name := e.Name
		if strings.EqualFold(e.Namespace, "aws") {
			name = ServiceName(e.Name)
		}
		out = append(out, InferredCall{Sub: e, Node: node, SegmentName: name})
	}
	for _, d := range segs {
		w.walk(d.Entity, true, false, visit)
	}
	for _, d := range sortedDocs(t.Orphans) {
		w.walk(d.Entity, false, false, visit)
	}
	return out
}
