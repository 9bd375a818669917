package e2etest

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunPythonRegister runs examples/python-register under thaw run: the
// unmodified handler with the real Python X-Ray SDK (patch_all), boto3
// against dynalite and requests against a local third-party API (whose
// partner endpoint is down, as in the graph scenario), called
// through the traced REST API with an HTTP POST, twice. The first trace has
// the whole tree: stage → Lambda → AWS::Lambda → the function, whose
// Initialization covers the init code's 400 ms and whose Invocation holds
// the SDK's DynamoDB, HTTP and notify_partner subsegments; the second, warm,
// has no Initialization.
func TestRunPythonRegister(t *testing.T) {
	requirePython(t)
	node := requireNode(t)
	dynamo := startDynalite(t, node)
	partner := startPartnerAPI(t)
	env := []string{"DYNAMODB_ENDPOINT=" + dynamo, "PROFILE_URL=" + partner + "/profile", "PARTNER_URL=" + partner + "/partner", "INIT_SLEEP_MS=400",
		"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_DEFAULT_REGION=us-east-1"}
	createUsersTable(t, env, "users-dev")
	p := startRun(t, filepath.Join(moduleRoot(), "examples", "python-register"), env)
	api := &apiClient{base: p.http}
	since := time.Now().Add(-time.Minute)

	post := func(user string) {
		t.Helper()
		resp, err := http.Post(p.front+"/register", "application/json", strings.NewReader(fmt.Sprintf(`{"user_id":%q,"email":"%s@example.com"}`, user, user)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The local partner API is down (503), which the handler answers
		// with a 502 of its own after storing the user.
		if resp.StatusCode != 502 || !strings.Contains(string(b), "503 Server Error") {
			t.Fatalf("POST /register = %d %s; want the handler's 502 for the partner's 503", resp.StatusCode, b)
		}
	}
	post("u-cold")
	post("u-warm")

	req := summariesRequest{StartTime: epoch(since), EndTime: epoch(time.Now().Add(time.Minute))}
	var ids []string
	waitForSummaries(t, api, req, func(sums []traceSummary) error {
		ids = ids[:0]
		for _, s := range sums {
			if s.EntryPoint != nil && s.EntryPoint.Type == "AWS::ApiGateway::Stage" {
				ids = append(ids, s.Id)
			}
		}
		if len(ids) != 2 {
			return fmt.Errorf("want 2 traces entering at the stage, got %d", len(ids))
		}
		return nil
	})
	traces := waitForTraces(t, api, ids, func(m map[string][]doc) error {
		for _, id := range ids {
			if len(findAll(m[id], named("notify_partner"))) != 1 {
				return fmt.Errorf("trace %s has no notify_partner subsegment yet", id)
			}
		}
		return nil
	})
	cold := 0
	for _, id := range ids {
		docs := traces[id]
		fn, err := findOne(docs, "the function segment", func(e doc) bool { return str(e, "origin") == "AWS::Lambda::Function" })
		if err != nil {
			t.Fatal(err)
		}
		inv, err := findOne(docs, "Invocation", named("Invocation"))
		if err != nil {
			t.Fatal(err)
		}
		// The SDK's subsegments hang under Invocation, inside its time.
		invStart, _ := num(inv.E, "start_time")
		invEnd, _ := num(inv.E, "end_time")
		for _, name := range []string{"dynamodb", "notify_partner"} {
			sub, err := findOne(docs, name, named(name))
			if err != nil {
				t.Fatal(err)
			}
			if !hasAncestor(sub, inv.E) {
				t.Errorf("trace %s: %s is not under Invocation:\n%s", id, name, outline(docs))
			}
			s, _ := num(sub.E, "start_time")
			e, _ := num(sub.E, "end_time")
			if s < invStart-0.001 || e > invEnd+0.001 {
				t.Errorf("trace %s: %s runs %.3f–%.3f, outside Invocation %.3f–%.3f", id, name, s, e, invStart, invEnd)
			}
		}
		inits := findAll(docs, named("Initialization"))
		if len(inits) == 0 {
			continue
		}
		cold++
		if !hasAncestor(inits[0], fn.E) {
			t.Errorf("trace %s: Initialization is not the function segment's", id)
		}
		s, _ := num(inits[0].E, "start_time")
		e, _ := num(inits[0].E, "end_time")
		if e-s < 0.4 || e-s > 5 {
			t.Errorf("trace %s: Initialization lasts %.3f s; want the init code's 0.4 s and a little", id, e-s)
		}
	}
	if cold != 1 {
		t.Errorf("%d of the 2 traces have an Initialization; want exactly the first", cold)
	}
}

// hasAncestor reports whether a found entity sits under e.
func hasAncestor(f found, e doc) bool {
	for _, a := range f.Ancestors {
		if str(a, "id") == str(e, "id") {
			return true
		}
	}
	return false
}
