package summary

import "github.com/thawtrace/thaw/internal/segment"

// Cold-start sources: what Summary.ColdStartSource names as the evidence.
const (
	// SourceInitialization means a Lambda function segment has an Initialization
	// subsegment, which Lambda writes on the first invocation of an
	// execution environment.
	SourceInitialization = "initialization-subsegment"
	// SourceRestore means a function segment has a Restore subsegment (SnapStart).
	SourceRestore = "restore-subsegment"
	// SourcePlatformSegments means the trace has function segments and none has
	// either subsegment, so every invocation in it was warm.
	SourcePlatformSegments = "platform-segments"
	// SourceAnnotation means no function segment, but an entity carries the
	// boolean ColdStart annotation that Powertools tracers record.
	SourceAnnotation = "annotation"
)

// OriginLambdaFunction is the origin of the segment Lambda writes for the
// function's side of an invocation (spec/xray.md §7.1).
const OriginLambdaFunction = "AWS::Lambda::Function"

const coldStartAnnotation = "ColdStart"

// coldStart decides the trace's cold-start state (spec/xray.md §7.3) from the
// function segments among segs (by start time): the first one with an
// Initialization or Restore subsegment makes the trace cold. Lambda's own
// segments outrank the annotation, which user code sets and may get wrong.
func coldStart(segs []*segment.Document, annotation *bool) (*bool, string) {
	functions := 0
	for _, d := range segs {
		if d.Entity.Origin != OriginLambdaFunction {
			continue
		}
		functions++
		// Only direct children: a user subsegment named Initialization
		// deep inside the handler says nothing about the platform. The
		// first by start time (then id) decides.
		var first *segment.Entity
		for _, sub := range d.Entity.Subsegments {
			if (sub.Name == "Initialization" || sub.Name == "Restore") && (first == nil || compareStart(sub, first) < 0) {
				first = sub
			}
		}
		if first == nil {
			continue
		}
		if first.Name == "Initialization" {
			return new(true), SourceInitialization
		}
		return new(true), SourceRestore
	}
	if functions > 0 {
		return new(false), SourcePlatformSegments
	}
	if annotation != nil {
		return new(*annotation), SourceAnnotation
	}
	return nil, ""
}
