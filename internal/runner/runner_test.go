package runner

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/thawtrace/thaw/internal/lambdaenv"
	"github.com/thawtrace/thaw/internal/runtimeapi"
	"github.com/thawtrace/thaw/internal/template"
)

// Invocations end to end (environments, the AWS CLI, the segments in a
// collector) are tested in e2etest/run_test.go; these cover the decisions.

func TestPlanTrace(t *testing.T) {
	now := time.Unix(1732693204, 0)
	for _, tc := range []struct {
		name     string
		incoming string
		active   bool
		record   bool
		parent   string // the AWS::Lambda segment's parent
	}{
		{"active, no header", "", true, true, ""},
		{"passthrough, no header", "", false, false, ""},
		{"passthrough, sampled upstream", "Root=1-6743a1f0-3c9e5b7d2a1f4e6b8c0d2e4f;Parent=0f2e4d6c8b1a3957;Sampled=1", false, true, "0f2e4d6c8b1a3957"},
		{"active, sampled out upstream", "Root=1-6743a1f0-3c9e5b7d2a1f4e6b8c0d2e4f;Parent=0f2e4d6c8b1a3957;Sampled=0", true, false, "0f2e4d6c8b1a3957"},
		{"active, undecided", "Root=1-6743a1f0-3c9e5b7d2a1f4e6b8c0d2e4f;Sampled=?", true, true, ""},
	} {
		p := planTrace(tc.incoming, tc.active, now)
		if p.record != tc.record || p.header.Parent != tc.parent || p.header.Root == "" {
			t.Errorf("%s: record %v, parent %q, root %q; want record %v, parent %q and a root", tc.name, p.record, p.header.Parent, p.header.Root, tc.record, tc.parent)
		}
		h := p.runtimeHeader()
		wantSampled := "Sampled=0"
		if tc.record {
			wantSampled = "Sampled=1"
		}
		if !strings.Contains(h, "Parent="+p.invoke) || !strings.Contains(h, wantSampled) {
			t.Errorf("%s: the runtime's header %q; want Parent = the Invocation subsegment %s and %s", tc.name, h, p.invoke, wantSampled)
		}
	}
}

func TestPlatformSegments(t *testing.T) {
	t0 := time.Unix(1732693204, 0)
	p := planTrace("Root=1-6743a1f0-3c9e5b7d2a1f4e6b8c0d2e4f;Parent=0f2e4d6c8b1a3957;Sampled=1", true, t0)
	fn := &Function{Name: "orders", ARN: "arn:aws:lambda:us-east-1:000000000000:function:orders"}
	out := Outcome{Received: t0, Cold: true, InitStart: t0.Add(time.Millisecond), InitEnd: t0.Add(300 * time.Millisecond),
		Timing: lambdaenv.Timing{Start: t0.Add(301 * time.Millisecond), Response: t0.Add(350 * time.Millisecond), End: t0.Add(351 * time.Millisecond)},
		Result: runtimeapi.Result{Error: &runtimeapi.FunctionError{Type: "Runtime.Unknown", XRayCause: []byte(`{"exceptions":[{"type":"E"}]}`)}}}
	docs, err := platformSegments(p, fn, out, "req-1")
	if err != nil || len(docs) != 2 {
		t.Fatalf("platformSegments = %d docs, %v", len(docs), err)
	}
	var l, f map[string]any
	if json.Unmarshal(docs[0], &l) != nil || json.Unmarshal(docs[1], &f) != nil {
		t.Fatal("segments are not JSON")
	}
	if l["origin"] != "AWS::Lambda" || l["parent_id"] != "0f2e4d6c8b1a3957" || l["start_time"] != 1732693204.0 || l["fault"] != true {
		t.Errorf("AWS::Lambda segment %v", l)
	}
	if f["origin"] != "AWS::Lambda::Function" || f["parent_id"] != l["id"] || f["fault"] != true || f["cause"] == nil {
		t.Errorf("function segment %v", f)
	}
	var names []string
	for _, s := range f["subsegments"].([]any) {
		names = append(names, s.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "Initialization,Invocation,Overhead" {
		t.Errorf("subsegments %v; want Initialization, Invocation, Overhead", names)
	}
	if inv := f["subsegments"].([]any)[1].(map[string]any); inv["id"] != p.invoke {
		t.Errorf("the Invocation subsegment's id %v; want the runtime header's Parent %s", inv["id"], p.invoke)
	}
}

func TestInvokeAPIErrors(t *testing.T) {
	r := &Runner{functions: map[string]*Function{}}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		status       int
		errType      string
	}{
		{"POST", "/2015-03-31/functions/nope/invocations", 404, "ResourceNotFoundException"},
		{"POST", "/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:nope/invocations", 404, "ResourceNotFoundException"},
		{"GET", "/2015-03-31/functions", 404, "UnknownOperationException"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-ErrorType") != tc.errType {
			t.Errorf("%s %s = %d %s; want %d %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tc.status, tc.errType)
		}
	}
}

func TestExecWrapper(t *testing.T) {
	cmd := []string{"/usr/bin/python3", "-u", "/tmp/c/python_bootstrap.py"}
	for _, tc := range []struct {
		runtime, wrapper string
		want             []string
	}{
		{"python3.12", "", cmd},
		{"python3.12", "/opt/wrapper", append([]string{"/opt/wrapper"}, cmd...)},
		{"nodejs20.x", "wrap.sh", append([]string{"/code/wrap.sh"}, cmd...)},
		{"provided.al2023", "/opt/wrapper", cmd}, // custom runtimes start their bootstrap
	} {
		f := template.Function{Runtime: tc.runtime, CodeDir: "/code", Environment: map[string]string{}}
		if tc.wrapper != "" {
			f.Environment["AWS_LAMBDA_EXEC_WRAPPER"] = tc.wrapper
		}
		if got := withExecWrapper(cmd, f); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s with wrapper %q: %q; want %q", tc.runtime, tc.wrapper, got, tc.want)
		}
	}
}
