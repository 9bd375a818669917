package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

func TestRenderTraceTableGolden(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob(filepath.Join("testdata", "traces", "*.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs in testdata/traces: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			out := readSummaries(t, in)
			var got bytes.Buffer
			if err := renderTraceTable(&got, out.TraceSummaries, time.UTC); err != nil {
				t.Fatalf("renderTraceTable(%s): %v", in, err)
			}
			checkGoldenFile(t, strings.TrimSuffix(in, ".json")+".golden", got.String())
		})
	}
}

func readSummaries(t *testing.T, path string) *xrayapi.GetTraceSummariesOutput {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out xrayapi.GetTraceSummariesOutput
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &out
}

// fakeXRay serves canned X-Ray answers in order, per path, and records the
// request bodies it got.
type fakeXRay struct {
	mu       sync.Mutex
	answers  map[string][]fakeAnswer
	requests map[string][]string
}

type fakeAnswer struct {
	status    int // 0 means 200
	errorType string
	body      string
}

func newFakeXRay(t *testing.T, answers map[string][]fakeAnswer) (*fakeXRay, *httptest.Server) {
	t.Helper()
	f := &fakeXRay{answers: answers, requests: make(map[string][]string)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests[r.URL.Path] = append(f.requests[r.URL.Path], string(b))
		queue := f.answers[r.URL.Path]
		if len(queue) == 0 {
			f.mu.Unlock()
			t.Errorf("unexpected request %s %s %s", r.Method, r.URL.Path, b)
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		a := queue[0]
		f.answers[r.URL.Path] = queue[1:]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if a.errorType != "" {
			w.Header().Set("X-Amzn-ErrorType", a.errorType)
		}
		w.WriteHeader(max(a.status, http.StatusOK))
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeXRay) got(path string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests[path])
}

// fixedEnv is a getenv that knows only vars.
func fixedEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

var testNow = time.Date(2023, 11, 14, 16, 45, 0, 0, time.UTC)

func newTestTracesCommand(server string) *tracesCommand {
	return &tracesCommand{
		getenv: fixedEnv(map[string]string{"THAW_SERVER": server}),
		now:    func() time.Time { return testNow },
		loc:    time.UTC,
		hc:     &http.Client{Timeout: 10 * time.Second},
	}
}

func TestTracesCommandPages(t *testing.T) {
	t.Parallel()
	all := readSummaries(t, filepath.Join("testdata", "traces", "synthetic-lambda-summaries.json")).TraceSummaries
	page := func(sums []xrayapi.TraceSummary, next string) fakeAnswer {
		b, err := json.Marshal(xrayapi.GetTraceSummariesOutput{TraceSummaries: sums, NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		return fakeAnswer{body: string(b)}
	}
	fake, srv := newFakeXRay(t, map[string][]fakeAnswer{"/TraceSummaries": {
		page(all[:2], "p2"),
		page(nil, "p3"), // servers may answer a page that scanned nothing
		page(all[1:4], "p4"),
		// Not asked for: the limit is reached on p3's page.
	}})

	var stdout, stderr bytes.Buffer
	args := []string{"--since", "2h", "--limit", "3", "--filter", `service("orders-api/prod")`}
	if err := newTestTracesCommand(srv.URL).Run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("thaw traces %q: %v\nstderr: %s", args, err, stderr.String())
	}

	// [now-2h, now), in epoch seconds; the filter as given; NextToken followed.
	wantReqs := []string{
		`{"StartTime":1699973100,"EndTime":1699980300,"FilterExpression":"service(\"orders-api/prod\")"}`,
		`{"StartTime":1699973100,"EndTime":1699980300,"FilterExpression":"service(\"orders-api/prod\")","NextToken":"p2"}`,
		`{"StartTime":1699973100,"EndTime":1699980300,"FilterExpression":"service(\"orders-api/prod\")","NextToken":"p3"}`,
	}
	if diff := cmp.Diff(wantReqs, fake.got("/TraceSummaries")); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	// The trace repeated on two pages is listed once; the newest three remain.
	var want bytes.Buffer
	if err := renderTraceTable(&want, all[:3], time.UTC); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), stdout.String()); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

// Ranges longer than the server's 24-hour maximum are asked for a day at a
// time, newest first.
func TestTracesCommandWindows(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeXRay(t, map[string][]fakeAnswer{"/TraceSummaries": {
		{body: `{"TraceSummaries":[{"Id":"1-6553a3c1-0a1b2c3d4e5f60718293a4b5","StartTime":1699980225.412}]}`},
		{body: `{"TraceSummaries":[{"Id":"1-6552b86c-5f60718293a4b5c6d7e8f90a","StartTime":1699919980}]}`},
	}})
	var stdout bytes.Buffer
	args := []string{"--since", "30h", "--limit", "0", "--json"}
	if err := newTestTracesCommand(srv.URL).Run(t.Context(), args, &stdout, io.Discard); err != nil {
		t.Fatalf("thaw traces %q: %v", args, err)
	}
	wantReqs := []string{
		`{"StartTime":1699893900,"EndTime":1699980300}`,
		`{"StartTime":1699872300,"EndTime":1699893900}`,
	}
	if diff := cmp.Diff(wantReqs, fake.got("/TraceSummaries")); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if n := strings.Count(stdout.String(), "\n"); n != 2 {
		t.Errorf("printed %d summaries, want 2:\n%s", n, stdout.String())
	}
}

func TestTracesCommandJSON(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("testdata", "traces", "awsdocs-get-trace-summaries-response.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, srv := newFakeXRay(t, map[string][]fakeAnswer{"/TraceSummaries": {{body: string(body)}}})
	var stdout, stderr bytes.Buffer
	if err := newTestTracesCommand(srv.URL).Run(t.Context(), []string{"--json"}, &stdout, &stderr); err != nil {
		t.Fatalf("thaw traces --json: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var ids []string
	for _, l := range lines {
		var s xrayapi.TraceSummary
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("line %q is not a TraceSummary: %v", l, err)
		}
		ids = append(ids, s.ID)
	}
	// Newest first, by the time in the trace id when StartTime is missing.
	want := []string{"1-59602606-a43a1ac52fc7ee0eea12a82c", "1-59602603-23fc5b688855d396af79b496"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("JSON lines' ids (-want +got):\n%s", diff)
	}
}

func TestTracesCommandNoTraces(t *testing.T) {
	t.Parallel()
	_, srv := newFakeXRay(t, map[string][]fakeAnswer{"/TraceSummaries": {{body: `{"TraceSummaries":[]}`}}})
	var stdout, stderr bytes.Buffer
	// --server wins over THAW_SERVER, which points nowhere here.
	c := newTestTracesCommand("http://127.0.0.1:1")
	if err := c.Run(t.Context(), []string{"--server", srv.URL, "--since", "15m"}, &stdout, &stderr); err != nil {
		t.Fatalf("thaw traces: %v", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
	if want := "no traces in the last 15m on " + srv.URL + "\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}

func TestTracesCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		answers []fakeAnswer
		want    string // the error message, with SERVER for the server URL
	}{
		{
			name: "bad filter",
			args: []string{"--filter", "service(("},
			answers: []fakeAnswer{{
				status: 400, errorType: "InvalidRequestException",
				body: `{"__type":"InvalidRequestException","message":"filter: expected string, found \"(\" at 8"}`,
			}},
			want: `get trace summaries: InvalidRequestException: filter: expected string, found "(" at 8`,
		},
		{
			name:    "token loop",
			answers: []fakeAnswer{{body: `{"TraceSummaries":[],"NextToken":"same"}`}, {body: `{"TraceSummaries":[],"NextToken":"same"}`}},
			want:    `get trace summaries: the server repeated NextToken "same"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, srv := newFakeXRay(t, map[string][]fakeAnswer{"/TraceSummaries": tt.answers})
			err := newTestTracesCommand(srv.URL).Run(t.Context(), tt.args, io.Discard, io.Discard)
			want := strings.ReplaceAll(tt.want, "SERVER", srv.URL)
			if err == nil || err.Error() != want {
				t.Errorf("thaw traces %q: error %v, want %q", tt.args, err, want)
			}
		})
	}
}

func TestTracesCommandServerDown(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	err := newTestTracesCommand(url).Run(t.Context(), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "is 'thaw serve' running at "+url+"?") {
		t.Errorf("thaw traces against a closed port: error %v, want a hint to start thaw serve", err)
	}
}

func TestTracesCommandUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in the message
	}{
		{[]string{"--since", "yesterday"}, `--since "yesterday": want a duration such as 15m, 1h or 2d`},
		{[]string{"--since", "-1h"}, `--since "-1h": want a positive duration`},
		{[]string{"--limit", "-1"}, "--limit -1: want 0 (all) or more"},
		{[]string{"--limit", "many"}, `invalid value "many" for flag -limit`},
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
		{[]string{`service("a")`}, `traces takes no arguments, got ["service(\"a\")"] (a filter goes in --filter)`},
		{[]string{"--server", "ftp://host"}, `--server "ftp://host": want a URL such as http://127.0.0.1:2000`},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		err := newTestTracesCommand("http://127.0.0.1:1").Run(t.Context(), tt.args, io.Discard, &stderr)
		if err == nil || !isUsage(err) || !strings.HasPrefix(err.Error(), "usage: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("thaw traces %q: error %v, want a usage error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestTracesCommandHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := newTestTracesCommand("").Run(t.Context(), []string{"-h"}, &stdout, &stderr); err != nil {
		t.Fatalf("thaw traces -h: %v", err)
	}
	if !strings.HasPrefix(stderr.String(), "usage: "+tracesSynopsis+"\n") || !strings.Contains(stderr.String(), "-since") {
		t.Errorf("thaw traces -h printed %q, want the synopsis and the flags", stderr.String())
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	f := func(in string, want time.Duration) {
		t.Helper()
		got, err := parseSince(in)
		if err != nil || got != want {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	f("1h", time.Hour)
	f("90m", 90*time.Minute)
	f("1h30m", 90*time.Minute)
	f("2d", 48*time.Hour)
	for _, bad := range []string{"", "0", "0s", "-5m", "d", "1.5d", "week"} {
		if d, err := parseSince(bad); err == nil {
			t.Errorf("parseSince(%q) = %v, want an error", bad, d)
		}
	}
}

func TestServerURL(t *testing.T) {
	t.Parallel()
	f := func(in, want string) {
		t.Helper()
		got, err := serverURL(in)
		if err != nil || got != want {
			t.Errorf("serverURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	f("http://127.0.0.1:2000", "http://127.0.0.1:2000")
	f("http://127.0.0.1:2000/", "http://127.0.0.1:2000")
	f("localhost:2000", "http://localhost:2000")
	f(" https://thaw.example.com/api/ ", "https://thaw.example.com/api")
	for _, bad := range []string{"", "ftp://x", "http://"} {
		if got, err := serverURL(bad); err == nil {
			t.Errorf("serverURL(%q) = %q, want an error", bad, got)
		}
	}
}
