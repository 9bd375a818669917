package e2etest

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// consoleSpeedSegments is how many segments TestConsoleSpeed loads: the
// million of issue 4's target.
const consoleSpeedSegments = 1_000_000

// TestConsoleSpeed loads a million segments spread over the last hour with
// `thaw bench ingest --spread 1h` (which also builds the hour's graph
// rollups, as a running server's warmer would), starts thaw on that data,
// and has Chromium open the service map and the trace list of the last
// hour five times each. It prints when each was painted; it asserts what
// was drawn, not how fast (speed figures belong in benchmarks, and this
// machine is shared with the rest of the suite).
func TestConsoleSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a million segments; not in -short")
	}
	node := requireNode(t)
	requireChromium(t)
	requireThaw(t)
	dir := t.TempDir()
	load := mustRun(t, 10*time.Minute, nil, moduleRoot(), thawBin, "bench", "ingest",
		"--data", dir, "--spread", "1h", "--segments", strconv.Itoa(consoleSpeedSegments), "--queries", "100")
	for _, line := range strings.Split(strings.TrimSpace(load.Stdout), "\n") {
		if strings.HasPrefix(line, "ingest") || strings.HasPrefix(line, "graph") {
			t.Logf("load: %s", line)
		}
	}
	th := startThaw(t, dir)
	r := mustRun(t, 5*time.Minute, []string{"BASE=" + th.URL, "SHOTS=" + screenshotDir(), "CHROMIUM=" + chromiumPath},
		filepath.Join(moduleRoot(), "e2etest", "node"), node, "console-speed.mjs")
	var got struct {
		PageErrors                    []string
		MapPaintedAt, TracesPaintedAt []float64
		MapStatus, TracesStatus       string
	}
	if err := json.Unmarshal([]byte(lastLine(r.Stdout)), &got); err != nil {
		t.Fatalf("console-speed.mjs output is not JSON: %v\n%s", err, r.Stdout)
	}
	median := func(v []float64) float64 {
		s := slices.Clone(v)
		slices.Sort(s)
		return s[len(s)/2]
	}
	timing(t, "browser, last hour of %d segments: service map painted %.0f ms after navigation (median of %v), trace list %.0f ms (median of %v)",
		consoleSpeedSegments, median(got.MapPaintedAt), got.MapPaintedAt, median(got.TracesPaintedAt), got.TracesPaintedAt)
	if len(got.PageErrors) > 0 {
		t.Errorf("the page threw: %q", got.PageErrors)
	}
	if !strings.Contains(got.MapStatus, "nodes") || !strings.Contains(got.TracesStatus, "traces match") {
		t.Errorf("status lines: map %q, traces %q; want both views drawn", got.MapStatus, got.TracesStatus)
	}
}
