package e2etest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPythonSDK runs a serverless-style handler instrumented by the Python aws_xray_sdk's
// patch_all() against a local DynamoDB and a third-party HTTP API, once as a plain program
// (one segment with embedded subsegments) and once in Lambda mode (independent subsegments
// streamed children first, parented to the Invocation subsegment that the test then sends as
// the Lambda platform would), and checks what BatchGetTraces and GetTraceSummaries return.
func TestPythonSDK(t *testing.T) {
	requirePython(t)
	node := requireNode(t)
	th := startThaw(t, t.TempDir())
	api := th.API()
	dynamo := startDynalite(t, node)
	partner := startPartnerAPI(t)

	const table = "users"
	env := []string{
		"AWS_XRAY_DAEMON_ADDRESS=" + th.UDPAddr,
		"DYNAMODB_ENDPOINT=" + dynamo,
		"TABLE_NAME=" + table,
		"PROFILE_URL=" + partner + "/profile",
		"PARTNER_URL=" + partner + "/partner",
		"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_DEFAULT_REGION=us-east-1",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"PYTHONDONTWRITEBYTECODE=1", // keep testdata/ clean
	}
	dir := testdataDir("python")
	queryStart := time.Now().Add(-time.Minute)

	// (i) Plain program: one document, sent when the segment ends.
	r := mustRun(t, time.Minute, env, dir, pythonPath, "run_register.py", "plain", "u-plain")
	var plain struct {
		TraceID   string `json:"trace_id"`
		SegmentID string `json:"segment_id"`
		Response  struct{ StatusCode int }
	}
	if err := json.Unmarshal([]byte(lastLine(r.Stdout)), &plain); err != nil || plain.TraceID == "" {
		t.Fatalf("run_register.py plain printed %q (stderr %s): %v", r.Stdout, r.Stderr, err)
	}
	if plain.Response.StatusCode != 502 {
		t.Fatalf("handler returned status %d, want 502 (the partner API answers 503); stderr:\n%s", plain.Response.StatusCode, r.Stderr)
	}

	// (ii) Lambda mode: the trace header names the Invocation subsegment as Parent.
	lambdaTrace, invocationID := newTraceID(time.Now()), newID()
	lambdaStart := time.Now()
	lenv := append(env[:len(env):len(env)],
		"LAMBDA_TASK_ROOT="+dir,
		"_X_AMZN_TRACE_ID=Root="+lambdaTrace+";Parent="+invocationID+";Sampled=1",
	)
	r = mustRun(t, time.Minute, lenv, dir, pythonPath, "run_register.py", "lambda", "u-lambda")
	lambdaEnd := time.Now()

	// The SDK subsegments arrive before any parent: they must be kept and returned.
	sdkEntities := []string{"dynamodb", partner + "/profile", "notify_partner", partner + "/partner"}
	waitForTrace(t, api, lambdaTrace, func(docs []doc) error {
		for _, name := range sdkEntities {
			if _, err := findOne(docs, name, named(name)); err != nil {
				return fmt.Errorf("before the Lambda segments were sent: %w", err)
			}
		}
		return nil
	})

	// What the Lambda platform sends after the invocation: the AWS::Lambda service segment
	// and the function segment whose Invocation subsegment is the SDK's Parent.
	fnName := "register-fn"
	fnARN := "arn:aws:lambda:us-east-1:123456789012:function:" + fnName
	svcID, fnID := newID(), newID()
	svcDoc := segmentDoc(lambdaTrace, svcID, fnName, lambdaStart.Add(-20*time.Millisecond), lambdaEnd.Sub(lambdaStart)+40*time.Millisecond, map[string]any{
		"origin":       "AWS::Lambda",
		"resource_arn": fnARN,
		"http":         map[string]any{"response": map[string]any{"status": 200}},
		"aws":          map[string]any{"request_id": "5e2d1c0b-aaaa-bbbb-cccc-0123456789ab"},
	})
	fnDoc := segmentDoc(lambdaTrace, fnID, fnName, lambdaStart.Add(-10*time.Millisecond), lambdaEnd.Sub(lambdaStart)+20*time.Millisecond, map[string]any{
		"parent_id": svcID,
		"origin":    "AWS::Lambda::Function",
		"aws": map[string]any{
			"account_id":      "123456789012",
			"function_arn":    fnARN,
			"cloudwatch_logs": []any{map[string]any{"log_group": "/aws/lambda/" + fnName}},
			"resource_names":  []any{fnName},
		},
		"e2e_unknown_field": map[string]any{"kept": []any{"yes", 1.5, true}},
		"subsegments": []any{
			map[string]any{
				"id": invocationID, "name": "Invocation",
				"start_time": epoch(lambdaStart.Add(-5 * time.Millisecond)), "end_time": epoch(lambdaEnd.Add(5 * time.Millisecond)),
				"aws":                   map[string]any{"function_arn": fnARN},
				"e2e_unknown_sub_field": "still here",
			},
			map[string]any{
				"id": newID(), "name": "Overhead",
				"start_time": epoch(lambdaEnd.Add(5 * time.Millisecond)), "end_time": epoch(lambdaEnd.Add(9 * time.Millisecond)),
				"aws": map[string]any{"function_arn": fnARN},
			},
		},
	})
	mustPut(t, api, svcDoc, fnDoc)

	// Everything the SDK sent nests under Invocation; nothing is left as a loose document.
	lambdaDocs := waitForTrace(t, api, lambdaTrace, func(docs []doc) error {
		inv, err := findOne(docs, "Invocation", withID(invocationID))
		if err != nil {
			return err
		}
		if len(inv.Ancestors) != 1 || str(inv.Ancestors[0], "id") != fnID {
			return fmt.Errorf("Invocation is under %v, want directly under the function segment %s\n%s", names(inv.Ancestors), fnID, outline(docs))
		}
		for _, name := range sdkEntities {
			f, err := findOne(docs, name, named(name))
			if err != nil {
				return err
			}
			want := "Invocation"
			if name == partner+"/partner" {
				want = "notify_partner"
			}
			if len(f.Ancestors) < 2 || str(f.Ancestors[len(f.Ancestors)-1], "name") != want {
				return fmt.Errorf("%s is nested under %v, want directly under %s\n%s", name, names(f.Ancestors), want, outline(docs))
			}
			if name != partner+"/partner" && str(f.Ancestors[len(f.Ancestors)-2], "id") != fnID {
				return fmt.Errorf("%s is nested under %v, want under Invocation in the function segment\n%s", name, names(f.Ancestors), outline(docs))
			}
		}
		return checkTopLevel(docs)
	})

	plainDocs := waitForTrace(t, api, plain.TraceID, func(docs []doc) error {
		seg, err := findOne(docs, "segment register", withID(plain.SegmentID))
		if err != nil {
			return err
		}
		if len(seg.Ancestors) != 0 {
			return fmt.Errorf("segment register is nested under %v", names(seg.Ancestors))
		}
		for _, name := range sdkEntities {
			f, err := findOne(docs, name, named(name))
			if err != nil {
				return err
			}
			want := "register"
			if name == partner+"/partner" {
				want = "notify_partner"
			}
			if len(f.Ancestors) == 0 || str(f.Ancestors[len(f.Ancestors)-1], "name") != want {
				return fmt.Errorf("%s is nested under %v, want directly under %s\n%s", name, names(f.Ancestors), want, outline(docs))
			}
		}
		return checkTopLevel(docs)
	})

	for _, tc := range []struct {
		trace string
		docs  []doc
	}{{"plain", plainDocs}, {"lambda", lambdaDocs}} {
		t.Run(tc.trace, func(t *testing.T) {
			checkDynamoDBSubsegment(t, tc.docs, table)
			checkFailingPartnerCall(t, tc.docs, partner+"/partner")
		})
		t.Run(tc.trace+" inferred DynamoDB segment", func(t *testing.T) {
			checkInferredDynamoDB(t, api, tc.docs)
		})
	}

	t.Run("lambda unknown fields", func(t *testing.T) {
		fn, err := findOne(lambdaDocs, "function segment", withID(fnID))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"kept": []any{"yes", 1.5, true}}
		if got := fn.E["e2e_unknown_field"]; !jsonEqual(got, want) {
			t.Errorf("function segment e2e_unknown_field = %v, want %v (sent %s)", got, want, fnDoc)
		}
		inv, _ := findOne(lambdaDocs, "Invocation", withID(invocationID))
		if got := str(inv.E, "e2e_unknown_sub_field"); got != "still here" {
			t.Errorf("Invocation e2e_unknown_sub_field = %q, want %q", got, "still here")
		}
		if field(fn.E, "aws", "cloudwatch_logs") == nil {
			t.Errorf("function segment aws.cloudwatch_logs lost: aws = %v", field(fn.E, "aws"))
		}
	})

	t.Run("summaries", func(t *testing.T) {
		plainSeg, _ := findOne(plainDocs, "segment register", withID(plain.SegmentID))
		svcSeg, _ := findOne(lambdaDocs, "AWS::Lambda segment", withID(svcID))
		req := summariesRequest{StartTime: epoch(queryStart), EndTime: epoch(time.Now().Add(time.Minute))}
		waitForSummaries(t, api, req, func(sums []traceSummary) error {
			byID := map[string]traceSummary{}
			for _, s := range sums {
				byID[s.Id] = s
			}
			p, ok1 := byID[plain.TraceID]
			l, ok2 := byID[lambdaTrace]
			if !ok1 || !ok2 || len(sums) != 2 {
				return fmt.Errorf("want the summaries of %s and %s, got %d: %v", plain.TraceID, lambdaTrace, len(sums), summaryIDs(sums))
			}
			if err := errors.Join(
				checkSummary("plain", p, plainSeg.E, true, 502, "POST", "http://localhost/register",
					[]serviceID{{Name: "register"}, {Name: table, Type: "AWS::DynamoDB::Table"}}),
				checkSummary("lambda", l, svcSeg.E, false, 200, "", "",
					[]serviceID{{Name: fnName, Type: "AWS::Lambda"}, {Name: fnName, Type: "AWS::Lambda::Function"}, {Name: table, Type: "AWS::DynamoDB::Table"}}),
			); err != nil {
				return fmt.Errorf("%w\nsummaries: %s", err, mustJSON(sums))
			}
			return nil
		})

		// A window after both traces' ids finds neither.
		later := summariesRequest{StartTime: epoch(time.Now().Add(time.Hour)), EndTime: epoch(time.Now().Add(2 * time.Hour))}
		got, _, err := api.TraceSummaries(t.Context(), later)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("GetTraceSummaries over %+v = %v, want none", later, summaryIDs(got))
		}
	})
}

// checkTopLevel reports a document that is still a loose subsegment: once every parent is
// known, BatchGetTraces returns only segments (and inferred segments) at the top level.
func checkTopLevel(docs []doc) error {
	for _, d := range docs {
		if str(d, "type") == "subsegment" {
			return fmt.Errorf("subsegment %s %q is still a top-level document\n%s", str(d, "id"), str(d, "name"), outline(docs))
		}
	}
	return nil
}

// checkDynamoDBSubsegment checks the boto3 PutItem subsegment keeps its aws fields.
func checkDynamoDBSubsegment(t *testing.T, docs []doc, table string) {
	t.Helper()
	f, err := findOne(docs, "dynamodb subsegment", named("dynamodb"))
	if err != nil {
		t.Fatal(err)
	}
	e := f.E
	for _, c := range []struct{ path, want string }{
		{"namespace", "aws"},
		{"aws.operation", "PutItem"},
		{"aws.table_name", table},
		{"aws.region", "us-east-1"},
	} {
		if got := str(e, strings.Split(c.path, ".")...); got != c.want {
			t.Errorf("dynamodb subsegment %s = %q, want %q; entity: %s", c.path, got, c.want, mustJSON(e))
		}
	}
	// dynalite answers with a 52-character x-amzn-RequestId.
	if got := str(e, "aws", "request_id"); len(got) != 52 {
		t.Errorf("dynamodb subsegment aws.request_id = %q, want dynalite's 52-character request id", got)
	}
	if got, _ := num(e, "http", "response", "status"); got != 200 {
		t.Errorf("dynamodb subsegment http.response.status = %v, want 200", got)
	}
}

// checkInferredDynamoDB checks that BatchGetTraces adds an inferred segment for the DynamoDB
// table the trace called (spec §6.8), with an id that stays the same across calls.
func checkInferredDynamoDB(t *testing.T, api *apiClient, docs []doc) {
	t.Helper()
	call, err := findOne(docs, "dynamodb subsegment", named("dynamodb"))
	if err != nil {
		t.Fatal(err)
	}
	// The HTTP calls (namespace remote) get inferred segments of their own; this one's parent
	// is the DynamoDB call.
	var inferred []doc
	for _, d := range docs {
		if isTrue(d, "inferred") && str(d, "parent_id") == str(call.E, "id") {
			inferred = append(inferred, d)
		}
	}
	if len(inferred) != 1 {
		t.Fatalf("BatchGetTraces returned %d inferred segments with parent_id %s, want 1 for the DynamoDB table the trace called (spec/xray.md §4.4.4, §6.8):\n%s", len(inferred), str(call.E, "id"), outline(docs))
	}
	d := inferred[0]
	if str(d, "name") != "DynamoDB" || str(d, "origin") != "AWS::DynamoDB::Table" || str(d, "trace_id") != str(call.E, "trace_id") {
		t.Errorf("inferred segment %s, want name DynamoDB, origin AWS::DynamoDB::Table, trace_id %s", mustJSON(d), str(call.E, "trace_id"))
	}
	again, err := fetchTraces(t.Context(), api, []string{str(call.E, "trace_id")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := findOne(again[str(call.E, "trace_id")], "inferred segment "+str(d, "id"), withID(str(d, "id"))); err != nil {
		t.Errorf("inferred segment id is not stable across BatchGetTraces calls: %v", err)
	}
}

// checkFailingPartnerCall checks that the 503 answer left fault flags and the exception.
func checkFailingPartnerCall(t *testing.T, docs []doc, url string) {
	t.Helper()
	f, err := findOne(docs, "partner call", named(url))
	if err != nil {
		t.Fatal(err)
	}
	call := f.E
	if !isTrue(call, "fault") {
		t.Errorf("partner call: fault = %v, want true; entity: %s", field(call, "fault"), mustJSON(call))
	}
	if got, _ := num(call, "http", "response", "status"); got != 503 {
		t.Errorf("partner call: http.response.status = %v, want 503", got)
	}
	if got := str(call, "http", "request", "method"); !strings.EqualFold(got, "post") {
		t.Errorf("partner call: http.request.method = %q, want post", got)
	}
	if got := str(call, "namespace"); got != "remote" {
		t.Errorf("partner call: namespace = %q, want remote", got)
	}
	notify := f.Ancestors[len(f.Ancestors)-1]
	if !isTrue(notify, "fault") {
		t.Errorf("notify_partner: fault = %v, want true", field(notify, "fault"))
	}
	exs, _ := field(notify, "cause", "exceptions").([]any)
	if len(exs) != 1 {
		t.Fatalf("notify_partner: cause.exceptions = %v, want the HTTPError; entity: %s", field(notify, "cause"), mustJSON(notify))
	}
	ex, _ := exs[0].(map[string]any)
	if got := str(ex, "type"); got != "HTTPError" {
		t.Errorf("notify_partner: exception type = %q, want HTTPError", got)
	}
	if got := str(ex, "message"); !strings.Contains(got, "503") {
		t.Errorf("notify_partner: exception message = %q, want the 503 error", got)
	}
	if id := str(ex, "id"); len(id) != 16 {
		t.Errorf("notify_partner: exception id = %q, want 16 hex digits", id)
	}
	if stack, _ := ex["stack"].([]any); len(stack) == 0 {
		t.Errorf("notify_partner: exception stack lost: %v", ex)
	}
	if str(notify, "cause", "working_directory") == "" {
		t.Errorf("notify_partner: cause.working_directory lost: %v", field(notify, "cause"))
	}
}

// checkSummary compares a trace summary with its root segment document.
func checkSummary(what string, s traceSummary, root doc, fault bool, status int, method, url string, services []serviceID) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(what+": "+format, args...)) }
	if s.HasFault != fault {
		bad("HasFault = %v, want %v", s.HasFault, fault)
	}
	if s.HasError || s.HasThrottle || s.IsPartial {
		bad("HasError, HasThrottle, IsPartial = %v, %v, %v, want all false", s.HasError, s.HasThrottle, s.IsPartial)
	}
	start, _ := num(root, "start_time")
	end, _ := num(root, "end_time")
	if s.ResponseTime == nil || math.Abs(*s.ResponseTime-(end-start)) > 1e-3 {
		bad("ResponseTime = %v, want the root segment's %.6f s", deref(s.ResponseTime), end-start)
	}
	if s.Duration == nil || *s.Duration < end-start-1e-3 {
		bad("Duration = %v, want at least the root segment's %.6f s", deref(s.Duration), end-start)
	}
	if s.Http == nil {
		bad("Http missing")
	} else {
		if s.Http.HttpStatus == nil || *s.Http.HttpStatus != status {
			bad("Http.HttpStatus = %v, want %d", deref(s.Http.HttpStatus), status)
		}
		if s.Http.HttpMethod != method || s.Http.HttpURL != url {
			bad("Http.HttpMethod, HttpURL = %q, %q, want %q, %q", s.Http.HttpMethod, s.Http.HttpURL, method, url)
		}
	}
	for _, want := range services {
		if !hasService(s.ServiceIds, want.Name, want.Type) {
			bad("ServiceIds %+v lack {Name: %q, Type: %q}", s.ServiceIds, want.Name, want.Type)
		}
	}
	return errors.Join(errs...)
}

func hasService(ids []serviceID, name, typ string) bool {
	for _, id := range ids {
		if id.Name == name && id.Type == typ {
			return true
		}
	}
	return false
}

func summaryIDs(sums []traceSummary) []string {
	var ids []string
	for _, s := range sums {
		ids = append(ids, s.Id)
	}
	return ids
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// testdataDir returns the absolute path of testdata/name.
func testdataDir(name string) string {
	return filepath.Join(moduleRoot(), "e2etest", "testdata", name)
}

// createUsersTable creates the register examples' table, keyed by
// user_id, in the DynamoDB at env's DYNAMODB_ENDPOINT, untraced.
func createUsersTable(t *testing.T, env []string, name string) {
	t.Helper()
	mustRun(t, time.Minute, env, "", pythonPath, "-c", `import boto3, os, sys
boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT"]).create_table(TableName=sys.argv[1],
    KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")`, name)
}

// startDynalite starts dynalite (an in-memory DynamoDB) on a free loopback port and returns
// its endpoint URL. It is stopped by its PID when the test ends.
func startDynalite(t *testing.T, node string) string {
	t.Helper()
	port := strconv.Itoa(freePort(t))
	cmd := exec.Command(node, filepath.Join(nodeModules(), "dynalite", "cli.js"),
		"--host", "127.0.0.1", "--port", port, "--createTableMs", "0")
	out := newWatchedBuffer()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dynalite: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "listening") {
		select {
		case <-out.changed:
		case <-exited:
			t.Fatalf("dynalite exited: %s", out.String())
		case <-deadline:
			t.Fatalf("dynalite not listening after 30 s: %s", out.String())
		}
	}
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 5*time.Second)
	if err != nil {
		t.Fatalf("dynalite: %v (output %s)", err, out.String())
	}
	conn.Close()
	return "http://127.0.0.1:" + port
}

// startPartnerAPI starts the third-party HTTP API the handler calls: GET /profile answers
// 200 with JSON and POST /partner answers 503.
func startPartnerAPI(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"plan":"pro"}`)
	})
	mux.HandleFunc("POST /partner", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "partner down for maintenance", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}
