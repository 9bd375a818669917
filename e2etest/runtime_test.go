package e2etest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thawtrace/thaw/internal/runtimeapi"
)

// TestRuntimeAPIWithAWSLambdaGo runs a real Go function, built with
// aws-lambda-go as a provided.al2023 bootstrap, against thaw's Runtime API:
// its init ends at the first GET /next; an event reaches the handler with
// the request id, function ARN, deadline and trace header; a returned
// error, a panic (after which the runtime exits) and an oversized response
// come back as Lambda reports them.
func TestRuntimeAPIWithAWSLambdaGo(t *testing.T) {
	t.Parallel()
	bin := buildGoLambda(t)
	start := func() (*runtimeapi.Server, *exec.Cmd, chan error) {
		api := runtimeapi.New(nil)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		cmd := exec.Command(bin)
		cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(), "AWS_LAMBDA_FUNCTION_NAME=orders", "_HANDLER=bootstrap"}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := api.WaitReady(ctx); err != nil {
			t.Fatalf("the bootstrap never asked for an event: %v", err)
		}
		return api, cmd, exited
	}
	invoke := func(api *runtimeapi.Server, id, payload string) runtimeapi.Result {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		r, err := api.Invoke(ctx, runtimeapi.Invocation{
			RequestID: id, Payload: []byte(payload), Deadline: time.Now().Add(30 * time.Second),
			FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:orders",
			TraceHeader: "Root=1-6743a1f0-3c9e5b7d2a1f4e6b8c0d2e4f;Parent=0f2e4d6c8b1a3957;Sampled=1",
		})
		if err != nil {
			t.Fatalf("Invoke %s: %v", payload, err)
		}
		return r
	}

	api, _, _ := start()
	r := invoke(api, "req-1", `{"action":"echo"}`)
	var got map[string]any
	if r.Error != nil || json.Unmarshal(r.Payload, &got) != nil {
		t.Fatalf("echo: %+v", r)
	}
	if got["requestId"] != "req-1" || got["arn"] != "arn:aws:lambda:us-east-1:000000000000:function:orders" ||
		got["traceId"] != "Root=1-6743a1f0-3c9e5b7d2a1f4e6b8c0d2e4f;Parent=0f2e4d6c8b1a3957;Sampled=1" || got["deadlineMs"] == nil {
		t.Errorf("the handler saw %v; want the request id, ARN, trace header and deadline sent", got)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := api.WaitNext(ctx); err != nil {
		t.Fatalf("the runtime did not come back for the next event: %v", err)
	}

	r = invoke(api, "req-2", `{"action":"error"}`)
	var fe map[string]any
	if r.Error == nil || json.Unmarshal(r.Error.Payload, &fe) != nil || fe["errorMessage"] != "order A-1001 not found" || fe["errorType"] != "errorString" || r.Error.Type != "Runtime.Unknown" {
		t.Errorf("a returned error came back as %+v (%s); want aws-lambda-go's payload, type Runtime.Unknown", r.Error, errorPayload(r))
	}
	if _, err := api.WaitNext(ctx); err != nil {
		t.Fatal(err)
	}

	r = invoke(api, "req-3", `{"action":"big","size":7000000}`)
	if r.Error == nil || r.Error.Type != "Function.ResponseSizeTooLarge" {
		t.Errorf("a 7 MB response came back as %+v; want Function.ResponseSizeTooLarge", r.Error)
	}

	api, _, exited := start()
	r = invoke(api, "req-4", `{"action":"panic"}`)
	if r.Error == nil || !strings.Contains(string(r.Error.Payload), "boom") {
		t.Errorf("a panic came back as %+v; want its message", r.Error)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Errorf("after a panic the runtime ended with %v; want a non-zero exit", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the runtime did not exit after a panic, as aws-lambda-go does")
	}
}

func errorPayload(r runtimeapi.Result) string {
	if r.Error == nil {
		return ""
	}
	return string(r.Error.Payload)
}

// buildGoLambda builds testdata/golambda, the aws-lambda-go function, to
// a bootstrap in a new temporary directory and returns its path.
func buildGoLambda(tb testing.TB) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "bootstrap")
	mustGoBuild(tb, testdataDir("golambda"), out)
	return out
}
