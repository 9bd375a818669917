package loadgen

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTraceDocumentsAreValidJSONOfRealisticSize(t *testing.T) {
	g := New(1)
	g.ColdStartRate = 1
	tr := g.Trace(time.Unix(1_800_000_000, 0))
	if len(tr.Docs) < 5 || len(tr.Docs) > 8 {
		t.Fatalf("got %d documents, want 5–8", len(tr.Docs))
	}
	total := 0
	for i, d := range tr.Docs {
		var m map[string]any
		if err := json.Unmarshal(d, &m); err != nil {
			t.Fatalf("document %d is not JSON: %v\n%s", i, err, d)
		}
		if m["trace_id"] != tr.ID {
			t.Errorf("document %d trace_id = %v, want %s", i, m["trace_id"], tr.ID)
		}
		total += len(d)
	}
	if avg := total / len(tr.Docs); avg < 350 || avg > 900 {
		t.Errorf("average document size %d bytes, want about 600", avg)
	}
}

func TestSeedMakesRunsReproducible(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	a, b := New(7).Trace(at), New(7).Trace(at)
	if a.ID != b.ID || string(a.Docs[0]) != string(b.Docs[0]) {
		t.Fatalf("same seed gave different traces: %s vs %s", a.ID, b.ID)
	}
}

func TestThrottleAndSlowRates(t *testing.T) {
	g := New(3)
	g.ThrottleRate, g.SlowRate = 1, 1
	tr := g.Trace(time.Unix(1_800_000_000, 0))
	var ddb, partner map[string]any
	for _, d := range tr.Docs {
		var m map[string]any
		if err := json.Unmarshal(d, &m); err != nil {
			t.Fatal(err)
		}
		switch m["name"] {
		case "DynamoDB":
			ddb = m
		case "api.partner.example":
			partner = m
		}
	}
	if ddb["throttle"] != true || ddb["error"] != true {
		t.Errorf("DynamoDB subsegment with ThrottleRate 1: throttle %v, error %v; want both true", ddb["throttle"], ddb["error"])
	}
	if d := partner["end_time"].(float64) - partner["start_time"].(float64); d < 1.5 || d > 3.01 {
		t.Errorf("partner call with SlowRate 1 took %.3f s; want 1.5 to 3", d)
	}
}
