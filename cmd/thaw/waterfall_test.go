package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// checkGoldenFile compares got with the golden file at path, or rewrites the
// file when UPDATE_GOLDEN is set.
func checkGoldenFile(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output differs from %s (-want +got; UPDATE_GOLDEN=1 rewrites it):\n%s", path, diff)
	}
}

// loadTraceDocs reads the documents of the trace in a test input: a
// BatchGetTraces answer, a trace whose Segments are objects (the iatk form),
// or a single segment document.
func loadTraceDocs(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		Traces []struct {
			Segments []struct{ Document string }
		}
		Segments []json.RawMessage
	}
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var docs [][]byte
	switch {
	case len(in.Traces) > 0:
		for _, s := range in.Traces[0].Segments {
			docs = append(docs, []byte(s.Document))
		}
	case len(in.Segments) > 0:
		for _, s := range in.Segments {
			docs = append(docs, s)
		}
	default:
		docs = append(docs, b)
	}
	return docs
}

func TestRenderWaterfallGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		input string
		width int
	}{
		{"awsdocs-batch-get-traces-response-lambda.json", 100},
		{"awsdocs-batch-get-traces-response-lambda.json", 60},
		{"iatk-lambda-cold-start-with-links-trace.json", 100},
		{"otel-go-sdk-dynamodb-errors.json", 100},
		{"synthetic-markers-trace.json", 100},
		{"synthetic-markers-trace.json", 140},
	}
	for _, tt := range tests {
		golden := strings.TrimSuffix(tt.input, ".json") + ".golden"
		if tt.width != 100 {
			golden = strings.TrimSuffix(tt.input, ".json") + ".w" + strconv.Itoa(tt.width) + ".golden"
		}
		t.Run(golden, func(t *testing.T) {
			t.Parallel()
			docs := loadTraceDocs(t, filepath.Join("testdata", "waterfall", tt.input))
			var out bytes.Buffer
			if err := renderWaterfall(&out, docs, waterfallOptions{Width: tt.width}); err != nil {
				t.Fatalf("renderWaterfall(%s, width %d): %v", tt.input, tt.width, err)
			}
			checkGoldenFile(t, filepath.Join("testdata", "waterfall", golden), out.String())
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			for i, line := range lines[1:] { // the header line may be longer
				if n := utf8.RuneCountInString(line); n > tt.width {
					t.Errorf("%s at width %d: line %d is %d columns: %q", tt.input, tt.width, i+2, n, line)
				}
			}
		})
	}
}

// The server returns a trace's documents in no particular order.
func TestRenderWaterfallDocumentOrder(t *testing.T) {
	t.Parallel()
	docs := loadTraceDocs(t, filepath.Join("testdata", "waterfall", "awsdocs-batch-get-traces-response-lambda.json"))
	render := func(docs [][]byte) string {
		var out bytes.Buffer
		if err := renderWaterfall(&out, docs, waterfallOptions{Width: 100}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	want := render(docs)
	reversed := slices.Clone(docs)
	slices.Reverse(reversed)
	if diff := cmp.Diff(want, render(reversed)); diff != "" {
		t.Errorf("documents in reverse order render differently (-in order +reversed):\n%s", diff)
	}
}

func TestBuildTraceTree(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		docs []string
		want string // each entity as depth-indented name, in print order
	}{
		{
			name: "segment below the subsegment that called it",
			docs: []string{
				`{"id":"2","name":"callee","parent_id":"1b","start_time":2,"end_time":3}`,
				`{"id":"1","name":"caller","start_time":1,"end_time":4,"subsegments":[
					{"id":"1a","name":"local","start_time":1,"end_time":1.5},
					{"id":"1b","name":"call","start_time":1.9,"end_time":3.1}]}`,
			},
			want: "caller\n  local\n  call\n    callee\n",
		},
		{
			name: "unknown parent makes a root; roots by start time",
			docs: []string{
				`{"id":"2","name":"later","parent_id":"ffff","start_time":5,"end_time":6}`,
				`{"id":"1","name":"first","start_time":1,"end_time":2}`,
			},
			want: "first\nlater\n",
		},
		{
			name: "independent subsegments, one an array document",
			docs: []string{
				`{"id":"1","name":"seg","start_time":1,"end_time":4,"subsegments":[{"id":"1a","name":"inner","start_time":1,"end_time":3}]}`,
				`[{"id":"3","type":"subsegment","name":"deeper","parent_id":"1a","start_time":2,"end_time":2.5},
				  {"id":"4","type":"subsegment","name":"shallow","parent_id":"1","start_time":3.5,"end_time":3.9}]`,
			},
			want: "seg\n  inner\n    deeper\n  shallow\n",
		},
		{
			name: "parents that point at each other do not loop",
			docs: []string{
				`{"id":"a","name":"A","parent_id":"bs","start_time":1,"end_time":2,"subsegments":[{"id":"as","name":"A.sub","start_time":1,"end_time":2}]}`,
				`{"id":"b","name":"B","parent_id":"as","start_time":1.5,"end_time":2,"subsegments":[{"id":"bs","name":"B.sub","start_time":1.5,"end_time":2}]}`,
			},
			want: "B\n  B.sub\n    A\n      A.sub\n",
		},
		{
			name: "null documents and subsegments",
			docs: []string{`null`, `{"id":"1","name":"seg","start_time":1,"end_time":2,"subsegments":[null,{"id":"2","name":"sub","start_time":1,"end_time":2}]}`},
			want: "seg\n  sub\n",
		},
		{
			name: "a field of the wrong type is skipped, not fatal",
			docs: []string{`{"id":"1","name":"odd","start_time":1,"end_time":2,"http":{"response":{"status":"200"}},"annotations":{"k":1}}`},
			want: "odd\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var docs [][]byte
			for _, d := range tt.docs {
				docs = append(docs, []byte(d))
			}
			tr, err := buildTraceTree(docs)
			if err != nil {
				t.Fatalf("buildTraceTree(%q): %v", tt.docs, err)
			}
			var got strings.Builder
			var walk func(e *entity, depth int)
			walk = func(e *entity, depth int) {
				got.WriteString(strings.Repeat("  ", depth) + e.Name + "\n")
				for _, c := range e.children {
					walk(c, depth+1)
				}
			}
			for _, r := range tr.roots {
				walk(r, 0)
			}
			if diff := cmp.Diff(tt.want, got.String()); diff != "" {
				t.Errorf("buildTraceTree(%q) (-want +got):\n%s", tt.docs, diff)
			}
		})
	}
}

func TestRenderWaterfallBadDocument(t *testing.T) {
	t.Parallel()
	docs := [][]byte{[]byte(`{"id":"1","name":"ok","start_time":1,"end_time":2}`), []byte(`{"id":`)}
	err := renderWaterfall(&bytes.Buffer{}, docs, waterfallOptions{Width: 100})
	if err == nil || !strings.Contains(err.Error(), "decode document 2 of 2") {
		t.Errorf("renderWaterfall with a truncated document: error %v, want one naming document 2 of 2", err)
	}
}

func TestTimelineBar(t *testing.T) {
	t.Parallel()
	tr := &traceTree{start: 100, end: 110}
	f := func(e entity, n int, want string) {
		t.Helper()
		if got := timelineBar(tr, &e, n); got != want {
			t.Errorf("timelineBar(%+v, %d) = %q, want %q", e, n, got, want)
		}
	}
	f(entity{StartTime: 100, EndTime: 110}, 10, "██████████")
	f(entity{StartTime: 105, EndTime: 107}, 10, "     ██")
	f(entity{StartTime: 105, EndTime: 105}, 10, "     █")         // zero length still shows
	f(entity{StartTime: 110, EndTime: 110}, 10, "         █")     // at the very end
	f(entity{StartTime: 101.5, EndTime: 102.5}, 10, " ██")        // partial columns round outwards
	f(entity{StartTime: 108, InProgress: true}, 10, "        ░░") // in progress runs to the end
	f(entity{StartTime: 0, EndTime: 101}, 10, "█")                // no start: from the trace start
}

func TestCleanText(t *testing.T) {
	t.Parallel()
	f := func(in, want string) {
		t.Helper()
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
	f("plain name", "plain name")
	f("tab\tand\nnewline", "tab\uFFFDand\uFFFDnewline")
	f("\x1b[31mred", "\uFFFD[31mred")
	f("evil\u202Etxt.exe", "evil\uFFFDtxt.exe")
	f("ünïcode ✓", "ünïcode ✓")
}

// FuzzRenderWaterfall renders arbitrary documents: no panics, and every line
// but the header fits the width.
func FuzzRenderWaterfall(f *testing.F) {
	for _, name := range []string{"awsdocs-batch-get-traces-response-lambda.json", "synthetic-markers-trace.json"} {
		docs := loadTraceDocs(f, filepath.Join("testdata", "waterfall", name))
		f.Add(docs[0], docs[len(docs)-1], 60)
	}
	f.Add([]byte(`[{"id":"1","type":"subsegment","parent_id":"1","start_time":1e300}]`), []byte(`{"id":"2","parent_id":"1"}`), 40)
	f.Fuzz(func(t *testing.T, doc1, doc2 []byte, width int) {
		width = minWaterfallWidth + int(uint(width)%200)
		var out bytes.Buffer
		if err := renderWaterfall(&out, [][]byte{doc1, doc2}, waterfallOptions{Width: width}); err != nil {
			return
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		for i, line := range lines[1:] {
			if n := utf8.RuneCountInString(line); n > width {
				t.Errorf("width %d: line %d is %d columns: %q", width, i+2, n, line)
			}
		}
	})
}
