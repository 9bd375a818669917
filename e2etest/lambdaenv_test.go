package e2etest

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thawtrace/thaw/internal/lambdaenv"
	"github.com/thawtrace/thaw/internal/runner"
	"github.com/thawtrace/thaw/internal/runtimeapi"
	"github.com/thawtrace/thaw/internal/template"
)

// TestExecutionEnvironment runs the aws-lambda-go function as a
// provided.al2023 bootstrap in lambdaenv environments: Init measured (the
// function's init code sleeps 300 ms), the platform's variables, frozen
// between invocations, START/END/REPORT lines with Init Duration on the
// first, and resets for a timeout, a crash, running out of memory, a crash
// during Init and an Init past its limit.
func TestExecutionEnvironment(t *testing.T) {
	t.Parallel()
	bin := buildGoLambda(t)
	config := func(log *watchedBuffer, env map[string]string) lambdaenv.Config {
		return lambdaenv.Config{
			FunctionName: "orders", FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:orders", Region: "us-east-1",
			MemoryMB: 128, Timeout: 3 * time.Second, Command: []string{bin}, Dir: filepath.Dir(bin), Handler: "bootstrap",
			Env: env, Platform: map[string]string{"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}, Log: log,
		}
	}
	ctx := t.Context()
	invoke := func(env *lambdaenv.Env, id, payload string) runtimeapi.Result {
		t.Helper()
		r, tail, err := env.Invoke(ctx, lambdaenv.Invocation{RequestID: id, Payload: []byte(payload), TraceHeader: "Root=1-6743a1f0-3c9e5b7d2a1f4e6b8c0d2e4f;Parent=0f2e4d6c8b1a3957;Sampled=1"})
		if err != nil {
			t.Fatalf("Invoke %s: %v", payload, err)
		}
		tm := tail.Wait() // the runtime's overhead, then the freeze or the reset
		if tm.End.Before(tm.Response) || tm.Response.Before(tm.Start) {
			t.Errorf("Invoke %s: timeline %+v is out of order", payload, tm)
		}
		return r
	}

	t.Run("cold, warm, frozen", func(t *testing.T) {
		log := newWatchedBuffer()
		env, err := lambdaenv.Start(ctx, config(log, map[string]string{"INIT_SLEEP_MS": "300", "TABLE_NAME": "users", "AWS_LAMBDA_MAX_CONCURRENCY": "4"}), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer env.Shutdown()
		if env.InitDuration < 300*time.Millisecond || env.InitDuration > 5*time.Second {
			t.Errorf("InitDuration = %v; want the init code's 300 ms and a little", env.InitDuration)
		}
		if !env.Frozen() {
			t.Error("after Init the runtime is not stopped; want it frozen until the first invocation")
		}
		r := invoke(env, "req-1", `{"action":"env"}`)
		var got map[string]any
		if r.Error != nil || json.Unmarshal(r.Payload, &got) != nil {
			t.Fatalf("env: %+v", r)
		}
		for k, want := range map[string]any{
			"AWS_LAMBDA_FUNCTION_NAME": "orders", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
			"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "LAMBDA_TASK_ROOT": filepath.Dir(bin), "_HANDLER": "bootstrap",
			"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
			"TABLE_NAME": "users", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/orders", "TZ": ":UTC", "AWS_LAMBDA_MAX_CONCURRENCY set": false,
		} {
			if got[k] != want {
				t.Errorf("the function sees %s = %v; want %v", k, got[k], want)
			}
		}
		if !env.Frozen() {
			t.Error("after an invocation the runtime is not stopped; want it frozen")
		}
		pid := env.PID()
		r = invoke(env, "req-2", `{"action":"echo"}`)
		if r.Error != nil || env.PID() != pid || env.Reset() {
			t.Errorf("second invocation: %+v, pid %d then %d; want the same warm process", r.Error, pid, env.PID())
		}
		logs := log.String()
		for _, want := range []string{"INIT_START", "START RequestId: req-1 Version: $LATEST", "[orders req-1] handling env", "END RequestId: req-1",
			"REPORT RequestId: req-1\tDuration: ", "Memory Size: 128 MB\tMax Memory Used: ", "Init Duration: ", "REPORT RequestId: req-2"} {
			if !strings.Contains(logs, want) {
				t.Errorf("logs lack %q:\n%s", want, logs)
			}
		}
		if strings.Count(logs, "Init Duration") != 1 {
			t.Errorf("Init Duration appears %d times; want once, on the first REPORT:\n%s", strings.Count(logs, "Init Duration"), logs)
		}
	})

	resets := []struct {
		name, payload string
		cfg           func(*lambdaenv.Config)
		wantType      string
		wantMsg       string
		wantStatus    string
	}{
		{"timeout", `{"action":"sleep","millis":3000}`, func(c *lambdaenv.Config) { c.Timeout = 300 * time.Millisecond },
			"Sandbox.Timedout", "Task timed out after 0.30 seconds", "Status: timeout"},
		{"crash", `{"action":"exit"}`, nil, "Runtime.ExitError", "Runtime exited with error: exit status 3", "Status: error\tError Type: Runtime.ExitError"},
		{"out of memory", `{"action":"alloc","size":300}`, func(c *lambdaenv.Config) { c.MemoryMB = 64 },
			"Runtime.ExitError", "Runtime exited with error: signal: killed", "Error Type: Runtime.OutOfMemory"},
	}
	for _, tc := range resets {
		t.Run(tc.name, func(t *testing.T) {
			log := newWatchedBuffer()
			cfg := config(log, nil)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			env, err := lambdaenv.Start(ctx, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer env.Shutdown()
			r := invoke(env, "req-"+strings.ReplaceAll(tc.name, " ", "-"), tc.payload)
			var p map[string]string
			if r.Error == nil || r.Error.Type != tc.wantType || json.Unmarshal(r.Error.Payload, &p) != nil || !strings.Contains(p["errorMessage"], tc.wantMsg) {
				t.Errorf("result %+v (%s); want %s with %q", r.Error, errorPayload(r), tc.wantType, tc.wantMsg)
			}
			if !env.Reset() {
				t.Error("the environment was not reset")
			}
			if !strings.Contains(log.String(), tc.wantStatus) {
				t.Errorf("REPORT lacks %q:\n%s", tc.wantStatus, log.String())
			}
			if _, _, err := env.Invoke(ctx, lambdaenv.Invocation{RequestID: "after"}); !errors.Is(err, lambdaenv.ErrReset) {
				t.Errorf("Invoke after a reset = %v; want ErrReset", err)
			}
		})
	}

	t.Run("init crash", func(t *testing.T) {
		log := newWatchedBuffer()
		_, err := lambdaenv.Start(ctx, config(log, map[string]string{"INIT_EXIT": "2"}), nil)
		var f *lambdaenv.InitFailure
		if !errors.As(err, &f) || f.Err.Type != "Runtime.ExitError" || !strings.Contains(string(f.Err.Payload), "exit status 2") {
			t.Errorf("Start = %v; want an init failure Runtime.ExitError, exit status 2", err)
		}
		if !strings.Contains(log.String(), "INIT_REPORT Init Duration: ") || !strings.Contains(log.String(), "init fails on purpose") {
			t.Errorf("logs lack the INIT_REPORT line or the function's output:\n%s", log.String())
		}
	})
	t.Run("init timeout", func(t *testing.T) {
		cfg := config(newWatchedBuffer(), map[string]string{"INIT_SLEEP_MS": "5000"})
		cfg.InitTimeout = 300 * time.Millisecond
		began := time.Now()
		_, err := lambdaenv.Start(context.Background(), cfg, nil)
		var f *lambdaenv.InitFailure
		if !errors.As(err, &f) || f.Err.Type != "Sandbox.Timedout" || time.Since(began) > 3*time.Second {
			t.Errorf("Start = %v after %v; want Sandbox.Timedout at the 300 ms limit", err, time.Since(began))
		}
	})
}

// TestSuppressedInit checks Lambda's second chance at Init: an Init that
// fails is run again inside the invocation (phase invoke). The first
// function fails its first Init only, so the invocation succeeds after
// the retry; the second fails both, and the invocation gets the error.
func TestSuppressedInit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		succeed bool
	}{
		{"fails once", map[string]string{"INIT_FAIL_ONCE": filepath.Join(t.TempDir(), "failed-once")}, true},
		{"fails twice", map[string]string{"INIT_EXIT": "2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := template.Load(samProject(t, tc.env), template.Options{})
			if err != nil {
				t.Fatal(err)
			}
			log := newWatchedBuffer()
			r, err := runner.New(p, runner.Config{Log: log}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			resp, err := r.Invoke(t.Context(), runner.Request{Function: "orders", Payload: []byte(`{"action":"echo"}`)})
			if err != nil {
				t.Fatal(err)
			}
			logs := log.String()
			if n := strings.Count(logs, "INIT_START"); n != 2 {
				t.Errorf("%d INIT_START lines; want 2 (the init, then its retry):\n%s", n, logs)
			}
			if !strings.Contains(logs, "Phase: init\tStatus: error\tError Type: Runtime.ExitError") {
				t.Errorf("logs lack the failed init's INIT_REPORT:\n%s", logs)
			}
			res := resp.Outcome.Result
			if tc.succeed {
				if res.Error != nil || !resp.Outcome.Cold {
					t.Errorf("after a suppressed init: %+v; want the function's answer, as a cold start", res.Error)
				}
				return
			}
			if res.Error == nil || res.Error.Type != "Runtime.ExitError" || !strings.Contains(logs, "Phase: invoke\tStatus: error") {
				t.Errorf("after two failed inits: %+v; want Runtime.ExitError and an INIT_REPORT of phase invoke:\n%s", res.Error, logs)
			}
		})
	}
}
