package main

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

func TestRenderMapGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/map/awsdocs-get-service-graph-response.json")
	if err != nil {
		t.Fatal(err)
	}
	var out xrayapi.GetServiceGraphOutput
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode the AWS sample: %v", err)
	}
	var b strings.Builder
	if err := renderMap(&b, out.Services); err != nil {
		t.Fatal(err)
	}
	checkGoldenFile(t, "testdata/map/awsdocs-get-service-graph-response.golden", b.String())
}

func TestQuantile(t *testing.T) {
	hist := []xrayapi.HistogramEntry{{Value: 0.3, Count: 1}, {Value: 0.1, Count: 8}, {Value: 0.2, Count: 1}}
	for _, tc := range []struct {
		q, want float64
	}{{0.5, 0.1}, {0.8, 0.1}, {0.9, 0.2}, {0.95, 0.3}, {1, 0.3}} {
		if got := quantile(hist, tc.q); got != tc.want {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := quantile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("quantile of an empty histogram = %v, want NaN", got)
	}
}
