package e2etest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// runProc is a `thaw run` process.
type runProc struct {
	cmd                 *exec.Cmd
	out                 *watchedBuffer
	invoke, http, front string // base URLs of the Invoke API, the in-process thaw and the API Gateway front
}

var (
	invokeLineRE = regexp.MustCompile(`(?m)^invoke\s+aws lambda invoke --endpoint-url (http://\S+) `)
	runHTTPRE    = regexp.MustCompile(`(?m)^http\s+(http://\S+:\d+)\s`)
	frontRE      = regexp.MustCompile(`(?m)^route\s+(http://\S+:\d+)\s`)
)

// startRun starts `thaw run` in dir on free loopback ports, with env added
// to this process's environment, and waits for it to print its Invoke API.
func startRun(t *testing.T, dir string, env []string, args ...string) *runProc {
	t.Helper()
	requireThaw(t)
	p := &runProc{out: newWatchedBuffer()}
	args = append([]string{"run", "--listen", "127.0.0.1:0", "--invoke", "127.0.0.1:0", "--port", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data")}, args...)
	p.cmd = exec.Command(thawBin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("thaw run output:\n%s", p.out.String())
		}
	})
	deadline := time.After(30 * time.Second)
	for {
		s := p.out.String()
		if m := invokeLineRE.FindStringSubmatch(s); m != nil {
			p.invoke = m[1]
			if h := runHTTPRE.FindStringSubmatch(s); h != nil {
				p.http = h[1]
			}
			if h := frontRE.FindStringSubmatch(s); h != nil {
				p.front = h[1]
			}
			return p
		}
		select {
		case <-p.out.changed:
		case <-deadline:
			t.Fatalf("thaw run did not print its Invoke API in 30 s:\n%s", s)
		}
	}
}

// waitOutput waits up to 10 s for thaw run to print want.
func (p *runProc) waitOutput(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(p.out.String(), want) {
		select {
		case <-p.out.changed:
		case <-deadline:
			t.Errorf("thaw run did not print %q in 10 s", want)
			return
		}
	}
}

// samProject writes a SAM project running the aws-lambda-go function,
// behind a traced REST API (POST /register) and an HTTP API
// (GET /users/{id}).
func samProject(t *testing.T, env map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fn"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustGoBuild(t, testdataDir("golambda"), filepath.Join(dir, "fn", "bootstrap"))
	var vars strings.Builder
	for k, v := range env {
		fmt.Fprintf(&vars, "          %s: %q\n", k, v)
	}
	tmpl := `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Tracing: Active
    Timeout: 5
  Api:
    TracingEnabled: true
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: orders
      CodeUri: fn/
      Handler: bootstrap
      Runtime: provided.al2023
      MemorySize: 128
      Events:
        Register:
          Type: Api
          Properties:
            Path: /register
            Method: post
        GetUser:
          Type: HttpApi
          Properties:
            Path: /users/{id}
            Method: get
      Environment:
        Variables:
          INIT_SLEEP_MS: "200"
` + vars.String()
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// lambdaInvoke calls the real AWS CLI v2: aws lambda invoke.
func lambdaInvoke(t *testing.T, endpoint, payload string, extra ...string) (meta map[string]any, body string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.json")
	args := append([]string{"lambda", "invoke", "--endpoint-url", endpoint, "--function-name", "orders",
		"--cli-binary-format", "raw-in-base64-out", "--payload", payload}, extra...)
	args = append(args, out)
	r := mustRun(t, time.Minute, awsEnv(), "", awsPath, args...)
	if err := json.Unmarshal([]byte(r.Stdout), &meta); err != nil {
		t.Fatalf("aws lambda invoke printed %q: %v", r.Stdout, err)
	}
	b, _ := os.ReadFile(out)
	return meta, string(b)
}

func awsEnv() []string {
	return []string{"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1"}
}

// TestRun runs a SAM project under thaw run and invokes it with the real
// AWS CLI: a cold start then a warm one, a function error, an Event
// invocation, five concurrent invocations (five environments, five cold
// starts), and an idle environment shut down. The platform's segments land
// in the in-process thaw: AWS::Lambda, AWS::Lambda::Function with
// Initialization on cold starts only, Invocation and Overhead.
func TestRun(t *testing.T) {
	requireAWSCLI(t)
	dir := samProject(t, nil)
	p := startRun(t, dir, nil, "--idle", "1500ms")
	api := &apiClient{base: p.http}

	meta, body := lambdaInvoke(t, p.invoke, `{"action":"echo"}`)
	var echo map[string]any
	if meta["StatusCode"] != 200.0 || json.Unmarshal([]byte(body), &echo) != nil || echo["arn"] != "arn:aws:lambda:us-east-1:000000000000:function:orders" {
		t.Fatalf("first invoke: %v %s", meta, body)
	}
	trace1 := strings.TrimPrefix(strings.Split(echo["traceId"].(string), ";")[0], "Root=")
	_, body = lambdaInvoke(t, p.invoke, `{"action":"echo"}`)
	var echo2 map[string]any
	_ = json.Unmarshal([]byte(body), &echo2)
	trace2 := strings.TrimPrefix(strings.Split(fmt.Sprint(echo2["traceId"]), ";")[0], "Root=")
	meta, _ = lambdaInvoke(t, p.invoke, `{"action":"echo"}`, "--log-type", "Tail")
	tailLog, err := base64.StdEncoding.DecodeString(fmt.Sprint(meta["LogResult"]))
	if err != nil || !strings.Contains(string(tailLog), "START RequestId: ") || !strings.Contains(string(tailLog), "handling echo") || !strings.Contains(string(tailLog), "REPORT RequestId: ") {
		t.Errorf("invoke --log-type Tail: LogResult %q; want the invocation's START, log line and REPORT", tailLog)
	}
	meta, body = lambdaInvoke(t, p.invoke, `{"action":"error"}`)
	if meta["FunctionError"] != "Unhandled" || !strings.Contains(body, "order A-1001 not found") {
		t.Errorf("error invoke: %v %s; want FunctionError Unhandled and the function's error", meta, body)
	}
	meta, _ = lambdaInvoke(t, p.invoke, `{"action":"echo"}`, "--invocation-type", "Event")
	if meta["StatusCode"] != 202.0 {
		t.Errorf("Event invoke: %v; want StatusCode 202", meta)
	}
	// The request id an Event invoke answers is the one it runs with.
	req, _ := http.NewRequest(http.MethodPost, p.invoke+"/2015-03-31/functions/orders/invocations", strings.NewReader(`{"action":"echo"}`))
	req.Header.Set("X-Amz-Invocation-Type", "Event")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		resp.Body.Close()
		id := resp.Header.Get("X-Amzn-RequestId")
		if resp.StatusCode != 202 || id == "" {
			t.Errorf("Event invoke over HTTP: %d, request id %q; want 202 with a request id", resp.StatusCode, id)
		} else {
			p.waitOutput(t, "REPORT RequestId: "+id)
		}
	}

	traces := waitForTraces(t, api, []string{trace1, trace2}, func(m map[string][]doc) error {
		for _, id := range []string{trace1, trace2} {
			if _, err := findOne(m[id], "the function segment", func(e doc) bool { return str(e, "origin") == "AWS::Lambda::Function" }); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(id string, cold bool) {
		t.Helper()
		docs := traces[id]
		l, err := findOne(docs, "the AWS::Lambda segment", func(e doc) bool { return str(e, "origin") == "AWS::Lambda" })
		if err != nil {
			t.Fatal(err)
		}
		f, err := findOne(docs, "the function segment", func(e doc) bool { return str(e, "origin") == "AWS::Lambda::Function" })
		if err != nil {
			t.Fatal(err)
		}
		if str(f.E, "parent_id") != str(l.E, "id") {
			t.Errorf("trace %s: the function segment's parent is %s; want the AWS::Lambda segment %s", id, str(f.E, "parent_id"), str(l.E, "id"))
		}
		// The function segment's own subsegments: the direct children.
		var names []string
		for _, c := range f.E["subsegments"].([]any) {
			names = append(names, str(c.(doc), "name"))
		}
		want := []string{"Invocation", "Overhead"}
		if cold {
			want = append([]string{"Initialization"}, want...)
		}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("trace %s (cold %v): the function's subsegments are %v; want %v", id, cold, names, want)
		}
	}
	check(trace1, true)
	check(trace2, false)

	// Five at once: five environments, five cold starts (one is still
	// idle from before, so six Init Durations in all, counting the first).
	// Each call holds its environment for 2 s, so that the five overlap
	// however slowly the five CLI processes start.
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { lambdaInvoke(t, p.invoke, `{"action":"sleep","millis":2000}`) })
	}
	wg.Wait()
	time.Sleep(300 * time.Millisecond)
	if n := strings.Count(p.out.String(), "Init Duration"); n < 5 || n > 6 {
		t.Errorf("after five concurrent invocations the logs have %d Init Durations; want 5 or 6 (one idle environment may serve one)", n)
	}
	// Idle past --idle: every environment is shut down, the next call is cold.
	time.Sleep(2500 * time.Millisecond)
	before := strings.Count(p.out.String(), "Init Duration")
	lambdaInvoke(t, p.invoke, `{"action":"echo"}`)
	time.Sleep(100 * time.Millisecond)
	if after := strings.Count(p.out.String(), "Init Duration"); after != before+1 {
		t.Errorf("an invocation after the idle period added %d Init Durations; want one cold start", after-before)
	}
}

// TestRunAPIGateway calls the functions through thaw run's API Gateway
// front, as curl would: a REST API route (proxy event 1.0, traced: the
// stage segment, its Lambda subsegment, then the platform's segments under
// it) and an HTTP API route with a path parameter (event 2.0).
func TestRunAPIGateway(t *testing.T) {
	dir := samProject(t, nil)
	p := startRun(t, dir, nil)
	api := &apiClient{base: p.http}
	since := time.Now().Add(-time.Minute)

	resp, err := http.Post(p.front+"/register", "application/json", strings.NewReader(`{"email":"ada@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got map[string]any
	if resp.StatusCode != 201 || resp.Header.Get("X-Thaw") != "yes" || json.Unmarshal(b, &got) != nil ||
		got["method"] != "POST" || got["path"] != "/register" || got["body"] != `{"email":"ada@example.com"}` || got["version"] != "" {
		t.Errorf("POST /register = %d %v %s; want 201 with the function's headers and body, from a 1.0 event", resp.StatusCode, resp.Header, b)
	}
	resp, err = http.Get(p.front + "/users/42")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	got = nil
	if resp.StatusCode != 201 || json.Unmarshal(b, &got) != nil || got["version"] != "2.0" || fmt.Sprint(got["params"]) != "map[id:42]" || got["method"] != "GET" {
		t.Errorf("GET /users/42 = %d %s; want 201 from a 2.0 event with id 42", resp.StatusCode, b)
	}
	resp, err = http.Get(p.front + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET /nope = %d; want 404", resp.StatusCode)
	}

	// The REST call's trace: stage → Lambda subsegment → AWS::Lambda → function.
	req := summariesRequest{StartTime: epoch(since), EndTime: epoch(time.Now().Add(time.Minute))}
	var stageTrace string
	waitForSummaries(t, api, req, func(sums []traceSummary) error {
		for _, s := range sums {
			if s.EntryPoint != nil && s.EntryPoint.Type == "AWS::ApiGateway::Stage" {
				stageTrace = s.Id
				return nil
			}
		}
		return fmt.Errorf("no trace enters at the API Gateway stage yet: %s", mustJSON(sums))
	})
	docs := waitForTrace(t, api, stageTrace, func(docs []doc) error {
		_, err := findOne(docs, "the function segment", func(e doc) bool { return str(e, "origin") == "AWS::Lambda::Function" })
		return err
	})
	stage, err := findOne(docs, "the stage segment", func(e doc) bool { return str(e, "origin") == "AWS::ApiGateway::Stage" })
	if err != nil {
		t.Fatal(err)
	}
	call, err := findOne(docs, "the stage's Lambda subsegment", named("Lambda"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := findOne(docs, "the AWS::Lambda segment", func(e doc) bool { return str(e, "origin") == "AWS::Lambda" })
	if err != nil {
		t.Fatal(err)
	}
	if str(stage.E, "name") != filepath.Base(dir)+"/Prod" || str(svc.E, "parent_id") != str(call.E, "id") {
		t.Errorf("stage %q; AWS::Lambda's parent %s, the stage's Lambda subsegment %s; want name DIR/Prod and the two linked:\n%s",
			str(stage.E, "name"), str(svc.E, "parent_id"), str(call.E, "id"), outline(docs))
	}
}

// TestRunBrokenTemplate starts thaw run on a template with an unresolvable
// variable: it exits with status 1 and a message naming the file, line,
// column and expression.
func TestRunBrokenTemplate(t *testing.T) {
	requireThaw(t)
	dir := t.TempDir()
	body := "service: users\nprovider:\n  runtime: python3.12\n  environment:\n    TABLE: ${env:THAW_TEST_NOPE}\nfunctions:\n  f:\n    handler: h.f\n"
	if err := os.WriteFile(filepath.Join(dir, "serverless.yml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(thawBin, "run", "--listen", "127.0.0.1:0", "--invoke", "127.0.0.1:0", "--port", "127.0.0.1:0")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("thaw run on a broken template: %v\n%s; want exit status 1", err, out)
	}
	want := "serverless.yml:5:12: ${env:THAW_TEST_NOPE}: environment variable THAW_TEST_NOPE is not set, and there is no fallback"
	if !strings.Contains(string(out), want) {
		t.Errorf("thaw run printed\n%s\nwant it to contain\n%s", out, want)
	}
}

// TestRunCollector traces into a thaw serve running elsewhere
// (--collector) instead of one in the thaw run process.
func TestRunCollector(t *testing.T) {
	requireAWSCLI(t)
	th := startThaw(t, t.TempDir())
	p := startRun(t, samProject(t, nil), nil, "--collector", th.UDPAddr)
	if strings.Contains(p.out.String(), "console ") {
		t.Errorf("thaw run started its own thaw despite --collector:\n%s", p.out.String())
	}
	_, body := lambdaInvoke(t, p.invoke, `{"action":"echo"}`)
	var echo map[string]any
	if err := json.Unmarshal([]byte(body), &echo); err != nil {
		t.Fatalf("invoke: %s", body)
	}
	trace := strings.TrimPrefix(strings.Split(fmt.Sprint(echo["traceId"]), ";")[0], "Root=")
	waitForTrace(t, th.API(), trace, func(docs []doc) error {
		_, err := findOne(docs, "the function segment", func(e doc) bool { return str(e, "origin") == "AWS::Lambda::Function" })
		return err
	})
}

// callOrdersTwice calls an orders example's GET /orders/{id} twice, checks
// the first answer, and waits for both calls' traces (each with its
// price_order subsegment). Exactly one, the first call's, must have an
// Initialization; its id is returned with the client that read it.
func callOrdersTwice(t *testing.T, p *runProc) (*apiClient, string) {
	t.Helper()
	api := &apiClient{base: p.http}
	since := time.Now().Add(-time.Minute)

	resp, err := http.Get(p.front + "/orders/17")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(b, &got) != nil || got["orderId"] != "17" || got["total"] != 42.0 {
		t.Fatalf("GET /orders/17 = %d %s; want 200 with order 17 and total 42", resp.StatusCode, b)
	}
	// A second call, warm: its trace must have no Initialization.
	warm, err := http.Get(p.front + "/orders/18")
	if err != nil {
		t.Fatal(err)
	}
	warm.Body.Close()

	req := summariesRequest{StartTime: epoch(since), EndTime: epoch(time.Now().Add(time.Minute))}
	sums := waitForSummaries(t, api, req, func(sums []traceSummary) error {
		if len(sums) != 2 {
			return fmt.Errorf("want 2 traces, got %d", len(sums))
		}
		return nil
	})
	// Exactly one of the two traces, the first call's, has Initialization.
	both := waitForTraces(t, api, []string{sums[0].Id, sums[1].Id}, func(m map[string][]doc) error {
		for id, docs := range m {
			if len(findAll(docs, named("price_order"))) != 1 {
				return fmt.Errorf("trace %s has no price_order subsegment yet", id)
			}
		}
		return nil
	})
	cold := ""
	for id, docs := range both {
		if len(findAll(docs, named("Initialization"))) > 0 {
			if cold != "" {
				t.Errorf("both calls' traces have an Initialization; want only the first's")
			}
			cold = id
		}
	}
	if cold == "" {
		t.Fatalf("neither call's trace has an Initialization")
	}
	return api, cold
}
