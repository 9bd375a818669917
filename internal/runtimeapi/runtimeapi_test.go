package runtimeapi

// These tests play the runtime's side with plain HTTP calls, as a runtime
// client would make them; e2etest/runtime_test.go runs the real
// aws-lambda-go client against the same server.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type runtime struct {
	t    *testing.T
	base string
}

func start(t *testing.T) (*Server, runtime) {
	t.Helper()
	s := New(nil)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, runtime{t, ts.URL + "/2018-06-01"}
}

// next calls GET /next in the background and returns its answer later.
func (rt runtime) next() <-chan *http.Response {
	ch := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Get(rt.base + "/runtime/invocation/next")
		if err != nil {
			ch <- nil
			return
		}
		ch <- resp
	}()
	return ch
}

func (rt runtime) post(path string, body []byte, hdr map[string]string) (int, string) {
	rt.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rt.base+path, bytes.NewReader(body))
	if err != nil {
		rt.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rt.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// invoking starts a server, lets its runtime take the first invocation,
// with the given request id, and returns the result the caller will get.
func invoking(t *testing.T, requestID string) (runtime, <-chan Result) {
	t.Helper()
	s, rt := start(t)
	first := rt.next()
	if err := s.WaitReady(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	done := make(chan Result, 1)
	go func() {
		r, _ := s.Invoke(ctxTimeout(t, 5*time.Second), Invocation{RequestID: requestID, Deadline: time.Now().Add(time.Minute)})
		done <- r
	}()
	if resp := <-first; resp != nil {
		resp.Body.Close()
	}
	return rt, done
}

func TestInvocation(t *testing.T) {
	s, rt := start(t)
	first := rt.next()
	if err := s.WaitReady(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	deadline := time.UnixMilli(1732694405123)
	inv := Invocation{RequestID: "req-1", Payload: []byte(`{"orderId":"A-1001"}`), Deadline: deadline,
		FunctionARN: "arn:aws:lambda:eu-west-1:000000000000:function:orders", TraceHeader: "Root=1-6743a1f0-3c9e5b7d2a1f4e6b8c0d2e4f;Parent=0f2e4d6c8b1a3957;Sampled=1",
		ClientContext: `{"custom":{}}`}
	done := make(chan Result, 1)
	go func() {
		r, err := s.Invoke(ctxTimeout(t, 5*time.Second), inv)
		if err != nil {
			t.Errorf("Invoke: %v", err)
		}
		done <- r
	}()
	resp := <-first
	if resp == nil {
		t.Fatal("GET /next failed")
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for k, want := range map[string]string{
		"Lambda-Runtime-Aws-Request-Id":       "req-1",
		"Lambda-Runtime-Deadline-Ms":          "1732694405123",
		"Lambda-Runtime-Invoked-Function-Arn": inv.FunctionARN,
		"Lambda-Runtime-Trace-Id":             inv.TraceHeader,
		"Lambda-Runtime-Client-Context":       inv.ClientContext,
		"Content-Type":                        "application/json",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("GET /next header %s = %q; want %q", k, got, want)
		}
	}
	if resp.Header.Get("Lambda-Runtime-Cognito-Identity") != "" {
		t.Error("an empty Cognito identity was sent as a header; empty headers are left out")
	}
	if string(body) != string(inv.Payload) {
		t.Errorf("event = %s; want the payload as sent", body)
	}
	if code, b := rt.post("/runtime/invocation/req-1/response", []byte(`{"ok":true}`), map[string]string{"Content-Type": "application/json"}); code != 202 || b != `{"status":"OK"}` {
		t.Fatalf("POST response = %d %s; want 202 {\"status\":\"OK\"}", code, b)
	}
	r := <-done
	if string(r.Payload) != `{"ok":true}` || r.ContentType != "application/json" || r.Error != nil {
		t.Errorf("Invoke = %+v; want the response", r)
	}
	// A second answer for the same invocation is refused.
	if code, b := rt.post("/runtime/invocation/req-1/response", []byte(`{}`), nil); code != 403 || !strings.Contains(b, "InvalidStateTransition") {
		t.Errorf("second POST response = %d %s; want 403 InvalidStateTransition", code, b)
	}
	// The runtime's next GET /next ends the invocation.
	second := rt.next()
	at, err := s.WaitNext(ctxTimeout(t, 5*time.Second))
	if err != nil || at.Before(r.At) {
		t.Errorf("WaitNext = %v, %v; want the time of the next GET /next, after the response at %v", at, err, r.At)
	}
	// An answer for an invocation that is not the current one.
	if code, b := rt.post("/runtime/invocation/nope/response", nil, nil); code != 400 || !strings.Contains(b, "InvalidRequestID") {
		t.Errorf("POST response for an unknown id = %d %s; want 400 InvalidRequestID", code, b)
	}
	// Init is over: an init error now is a wrong transition.
	if code, b := rt.post("/runtime/init/error", []byte(`{}`), nil); code != 403 || !strings.Contains(b, "InvalidStateTransition") {
		t.Errorf("POST init/error after init = %d %s; want 403", code, b)
	}
	go func() { _, _ = s.Invoke(t.Context(), Invocation{RequestID: "req-2", Deadline: deadline}) }()
	if resp := <-second; resp == nil || resp.Header.Get("Lambda-Runtime-Aws-Request-Id") != "req-2" {
		t.Errorf("the waiting GET /next did not receive the next invocation")
	} else {
		resp.Body.Close()
	}
}

func TestInvocationError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hdr      map[string]string
		body     string
		wantType string
		wantBody string
		cause    string
	}{
		{"no type", nil, `{"errorMessage":"boom","errorType":"errorString"}`, "Runtime.Unknown", `{"errorMessage":"boom","errorType":"errorString"}`, ""},
		{"valid type", map[string]string{"Lambda-Runtime-Function-Error-Type": "Function.OrderNotFound"}, `{}`, "Function.OrderNotFound", `{}`, ""},
		{"function type, lower case", map[string]string{"Lambda-Runtime-Function-Error-Type": "Function.bad"}, `{}`, "Function.Unknown", `{}`, ""},
		{"other type", map[string]string{"Lambda-Runtime-Function-Error-Type": "OrderNotFound"}, `{}`, "Runtime.Unknown", `{}`, ""},
		{"x-ray cause header", map[string]string{"Lambda-Runtime-Function-XRay-Error-Cause": `{"exceptions":[{"type":"E"}]}`}, `{}`, "Runtime.Unknown", `{}`, `{"exceptions":[{"type":"E"}]}`},
		{"cause in body", map[string]string{"Content-Type": "application/vnd.aws.lambda.error.cause+json"},
			`{"errorMessage":"m","errorType":"T","errorCause":{"paths":["/var/task/a.py"]}}`, "Runtime.Unknown", `{"errorMessage":"m","errorType":"T"}`, `{"paths":["/var/task/a.py"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, done := invoking(t, "r")
			if code, b := rt.post("/runtime/invocation/r/error", []byte(tc.body), tc.hdr); code != 202 {
				t.Fatalf("POST error = %d %s; want 202", code, b)
			}
			r := <-done
			if r.Error == nil || r.Error.Type != tc.wantType || string(r.Error.Payload) != tc.wantBody || string(r.Error.XRayCause) != tc.cause {
				t.Errorf("Invoke error = %+v; want type %s, payload %s, cause %s", r.Error, tc.wantType, tc.wantBody, tc.cause)
			}
		})
	}
}

func TestInitError(t *testing.T) {
	s, rt := start(t)
	body := `{"errorMessage":"Unable to import module 'app': No module named 'requests'","errorType":"Runtime.ImportModuleError","requestId":"","stackTrace":[]}`
	if code, b := rt.post("/runtime/init/error", []byte(body), map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"}); code != 202 {
		t.Fatalf("POST init/error = %d %s; want 202", code, b)
	}
	err := s.WaitReady(ctxTimeout(t, 5*time.Second))
	var ie *InitError
	if !errors.As(err, &ie) || ie.Type != "Runtime.ImportModuleError" || string(ie.Payload) != body {
		t.Fatalf("WaitReady = %v; want the init error as posted", err)
	}
	if _, err := s.Invoke(t.Context(), Invocation{RequestID: "r"}); !errors.As(err, &ie) {
		t.Errorf("Invoke after an init error = %v; want the init error", err)
	}
	resp := <-rt.next()
	if resp == nil || resp.StatusCode != 403 {
		t.Errorf("GET /next after an init error: %v; want 403", resp)
	}
	if resp != nil {
		resp.Body.Close()
	}
}

func TestOversizedResponse(t *testing.T) {
	rt, done := invoking(t, "big")
	code, b := rt.post("/runtime/invocation/big/response", bytes.Repeat([]byte("x"), MaxResponseBytes+1), nil)
	if code != 413 || !strings.Contains(b, "RequestEntityTooLarge") {
		t.Errorf("POST of %d bytes = %d %s; want 413 RequestEntityTooLarge", MaxResponseBytes+1, code, b)
	}
	r := <-done
	var payload map[string]string
	if r.Error == nil || r.Error.Type != "Function.ResponseSizeTooLarge" || json.Unmarshal(r.Error.Payload, &payload) != nil || payload["errorType"] != "Function.ResponseSizeTooLarge" {
		t.Errorf("Invoke = %+v; want a Function.ResponseSizeTooLarge error for the caller", r.Error)
	}
}

func TestInvokeTimeout(t *testing.T) {
	s, rt := start(t)
	first := rt.next()
	if err := s.WaitReady(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Invoke(ctxTimeout(t, 50*time.Millisecond), Invocation{RequestID: "slow", Deadline: time.Now().Add(50 * time.Millisecond)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Invoke of a runtime that never answers = %v; want the deadline", err)
	}
	if resp := <-first; resp != nil {
		resp.Body.Close()
	}
	var p map[string]string
	if e := TimeoutError("slow", 3*time.Second); json.Unmarshal(e.Payload, &p) != nil || p["errorMessage"] != "RequestId: slow Error: Task timed out after 3.00 seconds" || p["errorType"] != "Sandbox.Timedout" {
		t.Errorf("TimeoutError payload = %s", e.Payload)
	}
}

// TestChunkedWithTrailers sends the response as aws-lambda-go does:
// chunked, with the error trailers declared.
func TestChunkedWithTrailers(t *testing.T) {
	rt, done := invoking(t, "c")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, rt.base+"/runtime/invocation/c/response", pr)
	req.Trailer = http.Header{"Lambda-Runtime-Function-Error-Type": nil, "Lambda-Runtime-Function-Error-Body": nil}
	go func() {
		_, _ = pw.Write([]byte(`"part one, `))
		_, _ = pw.Write([]byte(`part two"`))
		pw.Close()
	}()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Errorf("chunked POST = %d; want 202", resp.StatusCode)
	}
	if r := <-done; string(r.Payload) != `"part one, part two"` || r.Error != nil {
		t.Errorf("Invoke = %+v; want the chunks joined", r)
	}
}
