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
	downstream := map[string]bool{}
	for _, d := range segs {
		if d.ParentID != "" {
			downstream[d.ParentID] = true
		}
	}
	var out []InferredCall
	visited := map[*segment.Entity]bool{}
	var visit func(e *segment.Entity, isSegment, inCall bool)
	visit = func(e *segment.Entity, isSegment, inCall bool) {
		if visited[e] {
			return
		}
		visited[e] = true
		call := false
		if !isSegment {
			if node, ok := InferredNode(e); ok {
				call = true
				if !inCall && !downstream[e.ID] {
					name := e.Name
					if strings.EqualFold(e.Namespace, "aws") {
						name = ServiceName(e.Name)
					}
					out = append(out, InferredCall{Sub: e, Node: node, SegmentName: name})
				}
			}
		}
		for _, sub := range byStart(e.Subsegments) {
			visit(sub, false, inCall || call)
		}
	}
	for _, d := range segs {
		visit(d.Entity, true, false)
	}
	for _, d := range sortedDocs(t.Orphans) {
		visit(d.Entity, false, false)
	}
	return out
}
