package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

const awsdocsTraceID = "1-59602603-23fc5b688855d396af79b496"

func newTestTraceCommand(server string) *traceCommand {
	return &traceCommand{
		getenv: fixedEnv(map[string]string{"THAW_SERVER": server}),
		loc:    time.UTC,
		hc:     &http.Client{Timeout: 10 * time.Second},
	}
}

func readTestFile(t *testing.T, elem ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTraceCommandWaterfall(t *testing.T) {
	t.Parallel()
	answer := readTestFile(t, "testdata", "waterfall", "awsdocs-batch-get-traces-response-lambda.json")
	tests := []struct {
		args   []string
		golden string
	}{
		{[]string{awsdocsTraceID}, "awsdocs-batch-get-traces-response-lambda.golden"},
		// Flags may follow the id.
		{[]string{awsdocsTraceID, "--width", "60"}, "awsdocs-batch-get-traces-response-lambda.w60.golden"},
		{[]string{"-width=60", awsdocsTraceID}, "awsdocs-batch-get-traces-response-lambda.w60.golden"},
	}
	for _, tt := range tests {
		fake, srv := newFakeXRay(t, map[string][]fakeAnswer{"/Traces": {{body: answer}}})
		var stdout, stderr bytes.Buffer
		if err := newTestTraceCommand(srv.URL).Run(t.Context(), tt.args, &stdout, &stderr); err != nil {
			t.Fatalf("thaw trace %q: %v\nstderr: %s", tt.args, err, stderr.String())
		}
		if diff := cmp.Diff(readTestFile(t, "testdata", "waterfall", tt.golden), stdout.String()); diff != "" {
			t.Errorf("thaw trace %q: stdout differs from %s (-want +got):\n%s", tt.args, tt.golden, diff)
		}
		if diff := cmp.Diff([]string{`{"TraceIds":["` + awsdocsTraceID + `"]}`}, fake.got("/Traces")); diff != "" {
			t.Errorf("thaw trace %q: requests (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestTraceCommandJSON(t *testing.T) {
	t.Parallel()
	answer := readTestFile(t, "testdata", "waterfall", "awsdocs-batch-get-traces-response-lambda.json")
	_, srv := newFakeXRay(t, map[string][]fakeAnswer{"/Traces": {{body: answer}}})
	var stdout bytes.Buffer
	if err := newTestTraceCommand(srv.URL).Run(t.Context(), []string{"--json", awsdocsTraceID}, &stdout, io.Discard); err != nil {
		t.Fatalf("thaw trace --json: %v", err)
	}
	var got, want xrayapi.BatchGetTracesOutput
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("thaw trace --json printed %q: %v", stdout.String(), err)
	}
	if err := json.Unmarshal([]byte(answer), &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("thaw trace --json (-server's answer +printed):\n%s", diff)
	}
}

func TestTraceCommandNotFound(t *testing.T) {
	t.Parallel()
	const id = "1-5759e988-bd862e3fe1be46a994272793"
	tests := []struct {
		name   string
		answer fakeAnswer
	}{
		{"empty list", fakeAnswer{body: `{"Traces":[],"UnprocessedTraceIds":[]}`}},
		{"unprocessed", fakeAnswer{body: `{"Traces":[],"UnprocessedTraceIds":["` + id + `"]}`}},
		{"no segments", fakeAnswer{body: `{"Traces":[{"Id":"` + id + `","Segments":[]}]}`}},
		{"404", fakeAnswer{status: 404, errorType: "ResourceNotFoundException", body: `{"__type":"ResourceNotFoundException","message":"no such trace"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, srv := newFakeXRay(t, map[string][]fakeAnswer{"/Traces": {tt.answer}})
			var stdout bytes.Buffer
			err := newTestTraceCommand(srv.URL).Run(t.Context(), []string{id}, &stdout, io.Discard)
			want := "trace " + id + " not found on " + srv.URL
			if err == nil || err.Error() != want {
				t.Errorf("answer %s: error %v, want %q", tt.answer.body, err, want)
			}
			if stdout.Len() != 0 {
				t.Errorf("answer %s: stdout %q, want nothing", tt.answer.body, stdout.String())
			}
		})
	}
}

func TestTraceCommandLimitExceeded(t *testing.T) {
	t.Parallel()
	const id = "1-5759e988-bd862e3fe1be46a994272793"
	body := `{"Traces":[{"Id":"` + id + `","LimitExceeded":true,"Segments":[{"Id":"a","Document":"{\"id\":\"a\",\"name\":\"big\",\"trace_id\":\"` + id + `\",\"start_time\":1,\"end_time\":2}"}]}]}`
	_, srv := newFakeXRay(t, map[string][]fakeAnswer{"/Traces": {{body: body}}})
	var stdout, stderr bytes.Buffer
	if err := newTestTraceCommand(srv.URL).Run(t.Context(), []string{id}, &stdout, &stderr); err != nil {
		t.Fatalf("thaw trace: %v", err)
	}
	if !strings.Contains(stderr.String(), "exceeded the trace size limit") {
		t.Errorf("stderr = %q, want a note that segments are missing", stderr.String())
	}
	if !strings.Contains(stdout.String(), "big") {
		t.Errorf("stdout = %q, want the waterfall anyway", stdout.String())
	}
}

func TestTraceCommandUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in the message
	}{
		{nil, "trace needs a trace id"},
		{[]string{"1-a-b", "1-c-d"}, `trace takes one trace id, got ["1-a-b" "1-c-d"]`},
		{[]string{"1-a-b", "--width", "20"}, "--width 20: want at least 40"},
		{[]string{"--bogus", "1-a-b"}, "flag provided but not defined: -bogus"},
		{[]string{"--server", "ftp://x", "1-a-b"}, `--server "ftp://x"`},
	}
	for _, tt := range tests {
		err := newTestTraceCommand("http://127.0.0.1:1").Run(t.Context(), tt.args, io.Discard, io.Discard)
		if err == nil || !isUsage(err) || !strings.HasPrefix(err.Error(), "usage: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("thaw trace %q: error %v, want a usage error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		wantPos  []string
		wantJSON bool
	}{
		{[]string{"id"}, []string{"id"}, false},
		{[]string{"id", "--json"}, []string{"id"}, true},
		{[]string{"--json", "id"}, []string{"id"}, true},
		{[]string{"a", "--json", "b"}, []string{"a", "b"}, true},
		{[]string{"--", "--json"}, []string{"--json"}, false},
		{[]string{"a", "--", "--json", "b"}, []string{"a", "--json", "b"}, false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		asJSON := fs.Bool("json", false, "")
		pos, err := parseFlags(fs, tt.args)
		if err != nil {
			t.Errorf("parseFlags(%q): %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.wantPos, pos); diff != "" || *asJSON != tt.wantJSON {
			t.Errorf("parseFlags(%q) = %q, json %v; want %q, json %v", tt.args, pos, *asJSON, tt.wantPos, tt.wantJSON)
		}
	}
}
