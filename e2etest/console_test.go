package e2etest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromiumPath is Debian's Chromium binary (TESTING.md: the /usr/bin
// wrapper prints noise).
const chromiumPath = "/usr/lib/chromium/chromium"

// screenshotDir is where the browser tests leave their screenshots (the
// README names it; CI keeps it as an artifact).
func screenshotDir() string {
	return filepath.Join(moduleRoot(), "artifacts", "console")
}

func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		missingTool(t, chromiumPath+" (Debian package chromium) not found")
	}
	if _, err := os.Stat(filepath.Join(nodeModules(), "playwright-core", "package.json")); err != nil {
		missingTool(t, "npm package playwright-core not installed in e2etest/node")
	}
}

// xssPayloads go into every field of a segment that may hold arbitrary
// text; the console must show them as text and run none of them.
const (
	xssScript = `<script>window.__xss="script"</script>`
	xssImg    = `<img src=x onerror="window.__xss='img'">`
)

// consoleFindings is what e2etest/node/console.mjs reports.
type consoleFindings struct {
	PageErrors                        []string
	MapRenderMs                       float64
	Nodes, Edges                      []string
	MapNodeTip, PanelFilter           string
	MapEdgeTip                        string
	FromMapURL                        string
	FromMapRows, TypedRows            []string
	Suggestions                       []string
	TracesRenderMs                    float64
	FilterError                       string
	TraceRenderMs                     float64
	Rows, MiniMapNodes                []string
	ColdRow, ColdBadge                string
	DynamoTip                         string
	RawDocs                           int
	SortedDesc, SortedAsc, BrushedRTs []float64
	SortURL, BrushURL                 string
	LivePut, LiveNavigations          int
	BigPaintedAt, BigRenderMs         float64
	BigFetchMs, BigViewStartedAt      float64
	BigRowsInDOM, BigRows, BigLastRow int
	BigFrames                         any
	XSSTip                            string
	XSSRows                           []string
	XSSRan                            any
	InjectedElements                  int
}

// TestConsole drives the web console in Debian Chromium: the register
// scenario (API Gateway → Lambda with a cold start → DynamoDB + the partner
// API, traced by the real Python X-Ray SDK) on the map, in the trace list
// from the map and from a typed filter, and on the trace timeline with the
// cold start marked and the DynamoDB call's hover card; a broken filter's
// error; and a trace full of script payloads, shown as inert text.
func TestConsole(t *testing.T) {
	requirePython(t)
	node := requireNode(t)
	requireChromium(t)
	th := startThaw(t, t.TempDir())
	api := th.API()
	run := runRegister(t, th, node, true)

	xssTrace, root, sub := newTraceID(time.Now()), newID(), newID()
	mustPut(t, api, segmentDoc(xssTrace, root, "xss-svc", time.Now().Add(-2*time.Second), 300*time.Millisecond, map[string]any{
		"user":        xssImg,
		"annotations": map[string]any{"payload": xssScript, "img": xssImg},
		"metadata":    map[string]any{"default": map[string]any{"html": xssScript}},
		"http":        map[string]any{"request": map[string]any{"method": "GET", "url": "javascript:window.__xss='url'//" + xssImg}, "response": map[string]any{"status": 500}},
		"fault":       true,
		"cause":       map[string]any{"exceptions": []any{map[string]any{"id": newID(), "type": "Error", "message": xssImg}}},
		"subsegments": []any{map[string]any{"id": sub, "name": "call", "start_time": epoch(time.Now().Add(-1900 * time.Millisecond)), "end_time": epoch(time.Now().Add(-1800 * time.Millisecond)),
			"sql": map[string]any{"url": xssScript, "sanitized_query": xssImg}}},
	}))
	bigTrace := putBigTrace(t, api, 5000)
	req := summariesRequest{StartTime: epoch(run.start.Add(-time.Minute)), EndTime: epoch(time.Now().Add(time.Minute))}
	waitForSummaries(t, api, req, func(sums []traceSummary) error {
		if len(sums) != 3 {
			return fmt.Errorf("want the register, payload and big traces, got %d summaries", len(sums))
		}
		return nil
	})

	shots := screenshotDir()
	r := mustRun(t, 3*time.Minute, []string{
		"BASE=" + th.URL, "TRACE=" + run.trace, "XSS_TRACE=" + xssTrace, "BIG_TRACE=" + bigTrace, "SHOTS=" + shots, "CHROMIUM=" + chromiumPath,
	}, filepath.Join(moduleRoot(), "e2etest", "node"), node, "console.mjs")
	var got consoleFindings
	if err := json.Unmarshal([]byte(lastLine(r.Stdout)), &got); err != nil {
		t.Fatalf("console.mjs output is not JSON: %v\n%s", err, r.Stdout)
	}
	timing(t, "browser: map drawn in %.0f ms, trace list in %.0f ms, trace in %.0f ms; screenshots in %s", got.MapRenderMs, got.TracesRenderMs, got.TraceRenderMs, shots)
	timing(t, "browser: the %d-row trace's waterfall first painted %.0f ms after navigation: the view started at %.0f ms, its data arrived %.0f ms later, it was built %.0f ms after that; %d rows in the DOM; scrolling it: %s",
		got.BigRows, got.BigPaintedAt, got.BigViewStartedAt, got.BigFetchMs, got.BigRenderMs-got.BigFetchMs, got.BigRowsInDOM, mustJSON(got.BigFrames))

	if len(got.PageErrors) > 0 {
		t.Errorf("the page threw: %q", got.PageErrors)
	}
	partner := strings.TrimPrefix(run.partner, "http://")
	partner = partner[:strings.LastIndex(partner, ":")] // the remote node is the host
	for _, want := range []string{
		"users-api/prod (client)", "users-api/prod (AWS::ApiGateway::Stage)", "register-fn (AWS::Lambda)",
		"register-fn (AWS::Lambda::Function)", "users (AWS::DynamoDB::Table)",
	} {
		if !slices.Contains(got.Nodes, want) {
			t.Errorf("map nodes %q lack %q", got.Nodes, want)
		}
	}
	if !slices.ContainsFunc(got.Nodes, func(n string) bool { return strings.HasSuffix(n, "(remote)") && strings.Contains(n, partner) }) {
		t.Errorf("map nodes %q lack the partner API's remote node (%s)", got.Nodes, partner)
	}
	for _, want := range []string{"users-api/prod -> register-fn", "register-fn -> users"} {
		if !slices.Contains(got.Edges, want) {
			t.Errorf("map edges %q lack %q", got.Edges, want)
		}
	}
	for _, want := range []string{"users", "Requests", "p50 / p90 / p99"} {
		if !strings.Contains(got.MapNodeTip, want) {
			t.Errorf("hover card of the DynamoDB node %q lacks %q", got.MapNodeTip, want)
		}
	}
	for _, want := range []string{"register-fn → users", "Requests", "p50 / p90 / p99"} {
		if !strings.Contains(got.MapEdgeTip, want) {
			t.Errorf("hover card of the edge to DynamoDB %q lacks %q", got.MapEdgeTip, want)
		}
	}
	if want := `service(id(name: "users", type: "AWS::DynamoDB::Table"))`; got.PanelFilter != want {
		t.Errorf("side panel's filter = %q; want %q", got.PanelFilter, want)
	}
	if !slices.Contains(got.FromMapRows, run.trace) || slices.Contains(got.FromMapRows, xssTrace) {
		t.Errorf("traces from the map's DynamoDB node (%s) = %q; want the register trace %s only", got.FromMapURL, got.FromMapRows, run.trace)
	}
	if !slices.Contains(got.Suggestions, `service("users")`) && !slices.ContainsFunc(got.Suggestions, func(s string) bool { return strings.HasPrefix(s, "service(") }) {
		t.Errorf("completion while typing service(\"users\") offered %q; want service names", got.Suggestions)
	}
	if !slices.Equal(got.TypedRows, []string{run.trace}) {
		t.Errorf("traces for the typed filter service(\"users\") = %q; want [%s]", got.TypedRows, run.trace)
	}
	if !strings.Contains(got.FilterError, "Column 15") || !strings.Contains(got.FilterError, "^") {
		t.Errorf("error shown for the filter %q = %q; want a caret and the column", "responsetime >", got.FilterError)
	}
	if !strings.Contains(got.ColdRow, "Initialization") || !strings.Contains(got.ColdRow, "cold start") || !strings.Contains(got.ColdBadge, "Initialization") {
		t.Errorf("cold start row %q, header badge %q; want Initialization marked as the cold start", got.ColdRow, got.ColdBadge)
	}
	// The Python SDK names its boto3 subsegments by service, lower-cased.
	for _, want := range []string{"Invocation", "dynamodb", "Initialization"} {
		if !slices.Contains(got.Rows, want) {
			t.Errorf("timeline rows %q lack %s", got.Rows, want)
		}
	}
	for _, want := range []string{"dynamodb", "Duration", "ms", "Table", "users", "PutItem"} {
		if !strings.Contains(got.DynamoTip, want) {
			t.Errorf("hover card of the DynamoDB call %q lacks %q", got.DynamoTip, want)
		}
	}
	if got.RawDocs == 0 || len(got.MiniMapNodes) < 5 {
		t.Errorf("raw JSON tab shows %d documents, the trace's map %d nodes; want both", got.RawDocs, len(got.MiniMapNodes))
	}
	if !slices.IsSortedFunc(got.SortedDesc, func(a, b float64) int { return cmpFloat(b, a) }) || !slices.IsSorted(got.SortedAsc) || len(got.SortedAsc) < 3 || !strings.Contains(got.SortURL, "sort=rt") {
		t.Errorf("sorting by response time: descending %v, ascending %v (URL %s); want sorted lists of every trace, the order in the URL", got.SortedDesc, got.SortedAsc, got.SortURL)
	}
	if lo, hi, ok := rtRange(got.BrushURL); !ok || len(got.BrushedRTs) == 0 || len(got.BrushedRTs) >= len(got.SortedAsc) {
		t.Errorf("brushing the histogram: URL %s, %d of %d traces shown; want a range in the URL narrowing the list", got.BrushURL, len(got.BrushedRTs), len(got.SortedAsc))
	} else {
		for _, rt := range got.BrushedRTs {
			if rt < lo || rt > hi {
				t.Errorf("brushed to [%g, %g] s, the list shows a trace of %g s", lo, hi, rt)
			}
		}
	}
	if got.LivePut != 200 || got.LiveNavigations != 0 {
		t.Errorf("live: PutTraceSegments %d, %d navigations while waiting; want the new trace listed without reloading", got.LivePut, got.LiveNavigations)
	}
	if got.BigRows != 5001 || got.BigLastRow != got.BigRows-1 || got.BigRowsInDOM > 200 {
		t.Errorf("the big trace: %d rows, scrolled to row %d, %d rows in the DOM; want 5,001 rows (the segment and 5,000 subsegments), the last reached by scrolling, and only those in view rendered", got.BigRows, got.BigLastRow, got.BigRowsInDOM)
	}
	if got.XSSRan != nil || got.InjectedElements != 0 {
		t.Errorf("a payload ran (window.__xss = %v) or became an element (%d img/script/iframe in the page)", got.XSSRan, got.InjectedElements)
	}
	for _, want := range []string{xssScript, xssImg} {
		if !strings.Contains(got.XSSTip, want) {
			t.Errorf("hover card of the payload segment %q does not show %q as text", got.XSSTip, want)
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// rtRange reads the brushed response-time range from a traces URL.
func rtRange(raw string) (lo, hi float64, ok bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseFloat(u.Query().Get("rtmin"), 64)
	hi, err2 := strconv.ParseFloat(u.Query().Get("rtmax"), 64)
	return lo, hi, err1 == nil && err2 == nil && lo < hi
}

// putBigTrace stores a trace of one segment with n subsegments: 50 groups
// under the segment and calls under those, sent as independent subsegment
// documents as SDKs stream them. It returns the trace id.
func putBigTrace(t *testing.T, api *apiClient, n int) string {
	t.Helper()
	trace, root := newTraceID(time.Now()), newID()
	start := time.Now().Add(-3 * time.Second)
	docs := []string{segmentDoc(trace, root, "big-svc", start, 2*time.Second, nil)}
	const groups = 50
	per := n/groups - 1
	for g := range groups {
		gid := newID()
		gStart := start.Add(time.Duration(g) * 39 * time.Millisecond)
		docs = append(docs, segmentDoc(trace, gid, fmt.Sprintf("group-%d", g), gStart, 38*time.Millisecond, map[string]any{"type": "subsegment", "parent_id": root}))
		for c := range per {
			docs = append(docs, segmentDoc(trace, newID(), "api.example.com", gStart.Add(time.Duration(c)*300*time.Microsecond), 250*time.Microsecond,
				map[string]any{"type": "subsegment", "parent_id": gid, "namespace": "remote", "http": map[string]any{"request": map[string]any{"method": "GET", "url": "https://api.example.com/items/" + strconv.Itoa(c)}}}))
		}
	}
	for len(docs) > 0 {
		k := min(250, len(docs))
		mustPut(t, api, docs[:k]...)
		docs = docs[k:]
	}
	return trace
}

// timing logs a measured figure and appends it to
// artifacts/console/timings.txt, so that a CI run without -v keeps it.
func timing(t *testing.T, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	if err := os.MkdirAll(screenshotDir(), 0o755); err != nil {
		t.Errorf("timings: %v", err)
		return
	}
	f, err := os.OpenFile(filepath.Join(screenshotDir(), "timings.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("timings: %v", err)
		return
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s %s: %s\n", time.Now().UTC().Format(time.RFC3339), t.Name(), line); err != nil {
		t.Errorf("timings: %v", err)
	}
}
