package e2etest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// registerRun is one run of the serverless "register" scenario.
type registerRun struct {
	trace      string    // the trace id
	start, end time.Time // around the handler's run
	partner    string    // base URL of the third-party API it called
}

// runRegister runs the serverless "register" handler with the real Python
// X-Ray SDK in Lambda mode against dynalite and a local third-party API,
// and sends the segments API Gateway and the Lambda platform would: the
// stage segment with its Lambda call, the AWS::Lambda service segment and
// the function segment with Invocation and, for a cold start, the
// Initialization subsegment before it.
func runRegister(t *testing.T, th *thawProc, node string, cold bool) registerRun {
	t.Helper()
	requirePython(t)
	api := th.API()
	dynamo := startDynalite(t, node)
	partner := startPartnerAPI(t)
	env := []string{
		"AWS_XRAY_DAEMON_ADDRESS=" + th.UDPAddr,
		"DYNAMODB_ENDPOINT=" + dynamo,
		"TABLE_NAME=users",
		"PROFILE_URL=" + partner + "/profile",
		"PARTNER_URL=" + partner + "/partner",
		"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_DEFAULT_REGION=us-east-1",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"PYTHONDONTWRITEBYTECODE=1",
		"LAMBDA_TASK_ROOT=" + testdataDir("python"),
	}
	// The table, set up untraced (as run_register.py's plain mode does).
	createUsersTable(t, env, "users")
	trace, invocationID := newTraceID(time.Now()), newID()
	start := time.Now()
	env = append(env, "_X_AMZN_TRACE_ID=Root="+trace+";Parent="+invocationID+";Sampled=1")
	mustRun(t, time.Minute, env, testdataDir("python"), pythonPath, "run_register.py", "lambda", "u-graph")
	end := time.Now()
	span := end.Sub(start)

	const fn = "register-fn"
	arn := "arn:aws:lambda:us-east-1:123456789012:function:" + fn
	stageID, callID, svcID, fnID := newID(), newID(), newID(), newID()
	// A cold start's platform timeline: the environment initializes for
	// 400 ms before the invocation.
	initTime := time.Duration(0)
	if cold {
		initTime = 400 * time.Millisecond
	}
	stage := segmentDoc(trace, stageID, "users-api/prod", start.Add(-40*time.Millisecond-initTime), span+80*time.Millisecond+initTime, map[string]any{
		"origin": "AWS::ApiGateway::Stage",
		"http":   map[string]any{"request": map[string]any{"method": "POST", "url": "https://abc.execute-api.us-east-1.amazonaws.com/prod/register"}, "response": map[string]any{"status": 200}},
		"subsegments": []any{map[string]any{
			"id": callID, "name": "Lambda", "namespace": "aws",
			"start_time": epoch(start.Add(-30*time.Millisecond - initTime)), "end_time": epoch(end.Add(30 * time.Millisecond)),
			"http": map[string]any{"response": map[string]any{"status": 200}},
			"aws":  map[string]any{"operation": "Invoke", "function_name": fn},
		}},
	})
	svc := segmentDoc(trace, svcID, fn, start.Add(-20*time.Millisecond-initTime), span+40*time.Millisecond+initTime, map[string]any{
		"parent_id": callID, "origin": "AWS::Lambda", "resource_arn": arn,
		"http": map[string]any{"response": map[string]any{"status": 200}},
	})
	subs := []any{map[string]any{
		"id": invocationID, "name": "Invocation",
		"start_time": epoch(start.Add(-5 * time.Millisecond)), "end_time": epoch(end.Add(5 * time.Millisecond)),
	}}
	if cold {
		subs = append([]any{map[string]any{
			"id": newID(), "name": "Initialization",
			"start_time": epoch(start.Add(-8*time.Millisecond - initTime)), "end_time": epoch(start.Add(-8 * time.Millisecond)),
			"aws": map[string]any{"function_arn": arn},
		}}, subs...)
	}
	function := segmentDoc(trace, fnID, fn, start.Add(-10*time.Millisecond-initTime), span+20*time.Millisecond+initTime, map[string]any{
		"parent_id": svcID, "origin": "AWS::Lambda::Function",
		"aws":         map[string]any{"account_id": "123456789012", "function_arn": arn},
		"subsegments": subs,
	})
	mustPut(t, api, stage, svc, function)
	return registerRun{trace: trace, start: start, end: end, partner: partner}
}

// TestRegisterServiceGraph runs the serverless "register" scenario and
// checks that GetServiceGraph draws what X-Ray draws for it: client → API
// Gateway stage → AWS::Lambda → AWS::Lambda::Function → the DynamoDB table
// and the partner API host. The expected graph is a golden file.
func TestRegisterServiceGraph(t *testing.T) {
	requirePython(t)
	node := requireNode(t)
	th := startThaw(t, t.TempDir())
	api := th.API()
	run := runRegister(t, th, node, false)
	trace, start, partner := run.trace, run.start, run.partner

	req := summariesRequest{StartTime: epoch(start.Add(-time.Minute)), EndTime: epoch(time.Now().Add(time.Minute))}
	waitForSummaries(t, api, req, func(sums []traceSummary) error {
		if len(sums) != 1 || sums[0].Id != trace {
			return fmt.Errorf("want the register trace's summary, got %s", mustJSON(sums))
		}
		return nil
	})

	var out struct {
		Services []struct {
			ReferenceId int
			Name, Type  string
			Edges       []struct{ ReferenceId int }
		}
	}
	if err := api.call(t.Context(), "/ServiceGraph", map[string]any{"StartTime": epoch(start.Add(-time.Minute)), "EndTime": epoch(time.Now().Add(time.Minute))}, &out); err != nil {
		t.Fatalf("GetServiceGraph: %v", err)
	}
	// The partner API is one remote node per host:port, which changes with
	// each run; the golden names it "PARTNER".
	host := strings.TrimPrefix(partner, "http://")
	label := func(name, typ string) string {
		if typ == "" {
			typ = "-"
		}
		return strings.ReplaceAll(name, host, "PARTNER") + " (" + typ + ")"
	}
	byRef := map[int]string{}
	for _, s := range out.Services {
		byRef[s.ReferenceId] = label(s.Name, s.Type)
	}
	var lines []string
	for _, s := range out.Services {
		callees := []string{}
		for _, e := range s.Edges {
			callees = append(callees, byRef[e.ReferenceId])
		}
		slices.Sort(callees)
		lines = append(lines, label(s.Name, s.Type)+" -> "+strings.Join(callees, ", "))
	}
	slices.Sort(lines)
	got := strings.Join(lines, "\n") + "\n"

	golden := filepath.Join(testdataDir("graph"), "register.golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	if got != string(want) {
		t.Errorf("service graph of the register scenario:\n%s\nwant (%s):\n%s\nraw answer: %s", got, golden, want, mustJSON(out))
	}
}
