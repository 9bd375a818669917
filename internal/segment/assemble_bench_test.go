package segment

import (
	"testing"
	"time"

	"github.com/thawtrace/thaw/internal/loadgen"
)

// loadgenTrace decodes one typical serverless trace from loadgen: API
// Gateway, a warm Lambda function and three subsegments streamed by the SDK,
// in the order the SDK sends them. (loadgen imports only the standard
// library, so the test may import it.)
func loadgenTrace(tb testing.TB) (TraceID, []Document) {
	tb.Helper()
	g := loadgen.New(1)
	g.ColdStartRate, g.ErrorRate = 0, 0
	tr := g.Trace(time.Unix(1_800_000_000, 0))
	var docs []Document
	for _, raw := range tr.Docs {
		ds, errs := Decode(raw, 0)
		if len(errs) != 0 {
			tb.Fatalf("Decode(%s): %v", raw, errs[0])
		}
		docs = append(docs, ds...)
	}
	return TraceID(tr.ID), docs
}

// TestAssembleLoadgenTrace checks the benchmark's trace assembles into one
// tree: everything nested under the API Gateway segment's chain.
func TestAssembleLoadgenTrace(t *testing.T) {
	t.Parallel()
	tid, docs := loadgenTrace(t)
	tr := Assemble(tid, docs)
	if len(tr.Segments) != 3 || len(tr.Orphans) != 0 {
		t.Fatalf("Assemble: %d segments, %d orphans; want 3, 0", len(tr.Segments), len(tr.Orphans))
	}
	if r := tr.Root(); r == nil || r.Entity.Name != "users-api/prod" {
		t.Fatalf("Root() = %+v; want the API Gateway stage", r)
	}
	var fn *Document
	for _, d := range tr.Segments {
		if d.Entity.Origin == "AWS::Lambda::Function" {
			fn = d
		}
	}
	if got, want := entityOutline(fn.Entity), "register-"; len(got) < len(want) || got[:len(want)] != want {
		t.Fatalf("function segment = %s", got)
	}
	if got := entityOutline(fn.Entity.Subsegments[0]); got != "Invocation(## register.handler DynamoDB api.partner.example)" {
		t.Errorf("Invocation = %s; want the three streamed subsegments by start time", got)
	}
}

func BenchmarkAssemble(b *testing.B) {
	tid, docs := loadgenTrace(b)
	b.ReportAllocs()
	for b.Loop() {
		Assemble(tid, docs)
	}
}
