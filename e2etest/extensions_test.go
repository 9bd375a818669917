package e2etest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thawtrace/thaw/internal/lambdaenv"
)

// TestExtensionsAndTelemetry runs an external extension (a Python script
// in an /opt/extensions-style folder) beside the aws-lambda-go function:
// it registers before the runtime starts, receives INVOKE for each
// invocation with its request id and trace header, SHUTDOWN when the
// environment goes, and the platform's telemetry at its own listener.
func TestExtensionsAndTelemetry(t *testing.T) {
	requirePython(t)
	t.Parallel()
	bin := buildGoLambda(t)
	record := filepath.Join(t.TempDir(), "record.json")
	log := newWatchedBuffer()
	env, err := lambdaenv.Start(t.Context(), lambdaenv.Config{
		FunctionName: "orders", FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:orders", Region: "us-east-1",
		MemoryMB: 128, Timeout: 5 * time.Second, Command: []string{bin}, Dir: filepath.Dir(bin), Handler: "bootstrap",
		Env: map[string]string{"RECORD_FILE": record}, Log: log,
		ExtensionsDir: filepath.Join(moduleRoot(), "e2etest", "testdata", "extensions"),
	}, nil)
	if err != nil {
		t.Fatalf("Start: %v\n%s", err, log.String())
	}
	for _, id := range []string{"req-a", "req-b"} {
		r, tail, err := env.Invoke(t.Context(), lambdaenv.Invocation{RequestID: id, Payload: []byte(`{"action":"echo"}`),
			TraceHeader: "Root=1-6743a1f0-3c9e5b7d2a1f4e6b8c0d2e4f;Parent=0f2e4d6c8b1a3957;Sampled=1"})
		if err != nil || r.Error != nil {
			t.Fatalf("Invoke %s: %v %+v", id, err, r.Error)
		}
		tail.Wait()
	}
	env.Shutdown()

	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("the extension wrote no record: %v\n%s", err, log.String())
	}
	var got struct {
		Registration map[string]string
		Subscription []any
		Events       []map[string]any
		Telemetry    []struct {
			Type   string
			Record any
		}
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Registration["functionName"] != "orders" || got.Registration["handler"] != "bootstrap" || got.Registration["accountId"] != "000000000000" {
		t.Errorf("registration answer %v; want the function's name, handler and account", got.Registration)
	}
	if len(got.Subscription) != 2 || got.Subscription[0] != 200.0 {
		t.Errorf("telemetry subscription answer %v; want 200", got.Subscription)
	}
	var kinds []string
	for _, ev := range got.Events {
		kinds = append(kinds, ev["eventType"].(string))
	}
	if strings.Join(kinds, ",") != "INVOKE,INVOKE,SHUTDOWN" {
		t.Fatalf("events %v; want INVOKE, INVOKE, SHUTDOWN", kinds)
	}
	if got.Events[0]["requestId"] != "req-a" || got.Events[1]["requestId"] != "req-b" || got.Events[2]["shutdownReason"] != "spindown" {
		t.Errorf("events %v; want req-a, req-b, then SHUTDOWN spindown", got.Events)
	}
	if tr, _ := got.Events[0]["tracing"].(map[string]any); tr["value"] != "Root=1-6743a1f0-3c9e5b7d2a1f4e6b8c0d2e4f;Parent=0f2e4d6c8b1a3957;Sampled=1" {
		t.Errorf("INVOKE tracing %v; want the trace header", got.Events[0]["tracing"])
	}
	var types []string
	for _, ev := range got.Telemetry {
		types = append(types, ev.Type)
	}
	for _, want := range []string{"platform.initStart", "platform.telemetrySubscription", "platform.initRuntimeDone", "platform.extension",
		"platform.initReport", "platform.start", "platform.runtimeDone", "platform.report", "function"} {
		if !slices.Contains(types, want) {
			t.Errorf("telemetry lacks %s: %v", want, types)
		}
	}
	for _, ev := range got.Telemetry {
		if ev.Type != "platform.runtimeDone" {
			continue
		}
		var names []string
		for _, sp := range ev.Record.(map[string]any)["spans"].([]any) {
			names = append(names, sp.(map[string]any)["name"].(string))
		}
		if strings.Join(names, ",") != "responseLatency,responseDuration,runtimeOverhead" {
			t.Errorf("runtimeDone spans %v; want responseLatency, responseDuration, runtimeOverhead", names)
		}
	}
	if n := strings.Count(strings.Join(types, " "), "platform.report"); n != 2 {
		t.Errorf("telemetry has %d platform.report events; want one per invocation", n)
	}
	if !strings.Contains(log.String(), "EXTENSION\tName: recorder\tState: Ready\tEvents: [INVOKE,SHUTDOWN]") {
		t.Errorf("logs lack the EXTENSION line:\n%s", log.String())
	}
}
