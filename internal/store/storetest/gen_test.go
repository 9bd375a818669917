package storetest

import (
	"math/rand/v2"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/segment"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestGenTrace(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2024, 5, 24, 14, 18, 26, 500_000_000, time.UTC)
	var bytes, docs, cold, faults int
	const traces = 200
	for range traces {
		ds := GenTrace(rng, start)
		if len(ds) != 4 {
			t.Fatalf("GenTrace returned %d documents; want 4", len(ds))
		}
		tid := ds[0].TraceID
		if tid.Epoch() != start.Unix() {
			t.Errorf("GenTrace(%v): trace id %s has epoch %d; want %d", start, tid, tid.Epoch(), start.Unix())
		}
		for _, d := range ds {
			if d.TraceID != tid {
				t.Errorf("document %s has trace id %s; want %s", d.ID, d.TraceID, tid)
			}
			bytes += len(d.Raw)
			docs++
		}
		tr := segment.Assemble(tid, ds)
		if len(tr.Orphans) != 0 || len(tr.Segments) != 3 {
			t.Errorf("trace %s assembles into %d segments and %d orphans; want 3 and none", tid, len(tr.Segments), len(tr.Orphans))
		}
		s := summary.Compute(tr, len(ds))
		if s.StartTime != float64(start.UnixMicro())/1e6 || s.IsPartial || s.EntryPoint == nil || s.EntryPoint.Type != "AWS::ApiGateway::Stage" {
			t.Errorf("summary of %s: start %v, partial %v, entry point %+v; want %v, complete, the API Gateway stage",
				tid, s.StartTime, s.IsPartial, s.EntryPoint, float64(start.UnixMicro())/1e6)
		}
		if s.ColdStart != nil && *s.ColdStart {
			cold++
		}
		if s.HasFault {
			faults++
		}
	}
	if avg := bytes / docs; avg < 500 || avg > 800 {
		t.Errorf("documents average %d bytes; want about 700", avg)
	}
	if cold == 0 || cold == traces || faults == 0 || faults > traces/5 {
		t.Errorf("%d of %d traces are cold starts and %d fault; want some of each, faults rare", cold, traces, faults)
	}
}

func TestGenTraceIsDeterministic(t *testing.T) {
	start := time.Date(2024, 5, 24, 14, 0, 0, 0, time.UTC)
	raw := func() []string {
		var out []string
		for _, d := range GenTrace(rand.New(rand.NewPCG(7, 7)), start) {
			out = append(out, string(d.Raw))
		}
		return out
	}
	if diff := gocmp.Diff(raw(), raw()); diff != "" {
		t.Errorf("GenTrace with equal seeds (-first +second):\n%s", diff)
	}
}
