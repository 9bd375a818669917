package lambdaenv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The environment's processes are tested with a real aws-lambda-go function
// in e2etest/lambdaenv_test.go; these cover the parts that need no process.

func TestEnvironmentPrecedence(t *testing.T) {
	e := &Env{id: "abc", cfg: Config{
		FunctionName: "orders", Region: "eu-west-1", MemoryMB: 256, Dir: "/code", Handler: "app.handler",
		Env: map[string]string{
			"TABLE_NAME": "users", "AWS_REGION": "mars-1", "AWS_XRAY_DAEMON_ADDRESS": "10.0.0.1:2000",
			"AWS_LAMBDA_MAX_CONCURRENCY": "8", "PATH": "/custom/bin",
		},
		Platform: map[string]string{"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"},
	}}
	env := e.environment("127.0.0.1:9001")
	for _, want := range []string{
		"TABLE_NAME=users",                       // the function's own
		"AWS_REGION=eu-west-1",                   // reserved: the platform's wins
		"AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000", // the platform's over the function's
		"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"LAMBDA_TASK_ROOT=/code",
		"_HANDLER=app.handler",
		"PATH=/custom/bin",
		"AWS_XRAY_CONTEXT_MISSING=LOG_ERROR",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("environment lacks %s: %q", want, env)
		}
	}
	for _, v := range env {
		if len(v) >= 26 && v[:26] == "AWS_LAMBDA_MAX_CONCURRENCY" {
			t.Errorf("environment has %s; its presence switches runtimes to multi-concurrency", v)
		}
	}
}

func TestStatusKB(t *testing.T) {
	p := filepath.Join(t.TempDir(), "status")
	if err := os.WriteFile(p, []byte("Name:\tbootstrap\nVmHWM:\t   9000 kB\nVmRSS:\t   8192 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := statusKB(p, "VmRSS:"); got != 8192 {
		t.Errorf("statusKB(VmRSS) = %d; want 8192", got)
	}
	if got := statusKB(p, "VmSwap:"); got != 0 {
		t.Errorf("statusKB of a missing line = %d; want 0", got)
	}
	if got := groupRSS(os.Getpid()); got < 0 {
		t.Errorf("groupRSS = %d", got)
	}
}
