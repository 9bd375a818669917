// Package runtimeapi is the Lambda Runtime API (version 2018-06-01) of one
// execution environment, as spec/lambda.md §2 describes it: the runtime
// long-polls GET /runtime/invocation/next for events and posts each one's
// response or error; init errors go to /runtime/init/error. The environment
// drives it from the other side: WaitReady until the runtime first asks for
// an event, Invoke to hand it one and wait for the outcome, WaitNext for
// the runtime to come back (the end of the invocation's overhead).
//
// It imports only the standard library.
package runtimeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxResponseBytes is the largest response or error body Lambda accepts
// (6 MiB, and the runtime emulator's 100 bytes of tolerance).
const MaxResponseBytes = 6*1024*1024 + 100

// Invocation is one event for the runtime.
type Invocation struct {
	RequestID   string
	Payload     []byte
	ContentType string // default application/json
	Deadline    time.Time
	FunctionARN string
	// TraceHeader is the X-Ray header, Root=...;Parent=...;Sampled=...
	TraceHeader     string
	ClientContext   string // JSON, if the caller sent one
	CognitoIdentity string // JSON, if any
}

// Result is how an invocation ended in the runtime.
type Result struct {
	Payload     []byte
	ContentType string
	// Error is set when the runtime posted to /error, or the response was
	// too large.
	Error *FunctionError
	// At is when the response or error arrived.
	At time.Time
}

// FunctionError is an error a runtime reported.
type FunctionError struct {
	// Type is the platform-level error type: the runtime's
	// Lambda-Runtime-Function-Error-Type when it is a valid one, else
	// Runtime.Unknown or Function.Unknown, as RAPID normalizes it.
	Type string
	// Payload is what the caller receives.
	Payload []byte
	// XRayCause is the JSON cause for the function's X-Ray segment, if any.
	XRayCause []byte
}

// InitError is an error the runtime posted to /runtime/init/error.
type InitError struct{ FunctionError }

func (e *InitError) Error() string {
	return fmt.Sprintf("init error %s: %s", e.Type, truncate(e.Payload, 200))
}

// Runtime states (spec/lambda.md §2.6).
type state int

const (
	started   state = iota // before the first GET /next
	ready                  // waiting in GET /next for an event
	running                // an event delivered, no answer yet
	responded              // answered; the next GET /next ends the invocation
	initError              // posted /init/error
)

func (s state) String() string {
	return [...]string{"Started", "Ready", "Running", "ResponseSent", "InitError"}[s]
}

// Server is one environment's Runtime API.
type Server struct {
	log *slog.Logger
	mux *http.ServeMux

	mu      sync.Mutex
	state   state
	current *pending       // the invocation delivered or to deliver
	queue   chan *pending  // events waiting for GET /next
	readyCh chan struct{}  // closed at the first GET /next
	initErr *InitError     // set by /init/error
	initCh  chan struct{}  // closed by /init/error
	nextCh  chan time.Time // GET /next after a response
}

type pending struct {
	inv  Invocation
	done chan Result
}

// New returns the Runtime API of one environment.
func New(log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		log:     log,
		mux:     http.NewServeMux(),
		queue:   make(chan *pending, 1),
		readyCh: make(chan struct{}),
		initCh:  make(chan struct{}),
		nextCh:  make(chan time.Time, 1),
	}
	s.mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", s.next)
	s.mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", s.response)
	s.mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", s.invocationError)
	s.mux.HandleFunc("POST /2018-06-01/runtime/init/error", s.initError)
	s.mux.HandleFunc("GET /2018-06-01/ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong") })
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// WaitReady waits until the runtime first asks for an event (its init is
// done) and returns nil, or returns the *InitError it posted, or ctx's
// error (an init timeout).
func (s *Server) WaitReady(ctx context.Context) error {
	select {
	case <-s.readyCh:
		return nil
	case <-s.initCh:
		return s.initErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Invoke hands inv to the runtime and waits for its response or error.
// When ctx ends first (the function's timeout), it returns ctx's error and
// the environment must be reset: the runtime is still busy with inv.
func (s *Server) Invoke(ctx context.Context, inv Invocation) (Result, error) {
	p := &pending{inv: inv, done: make(chan Result, 1)}
	s.mu.Lock()
	if s.state == initError {
		s.mu.Unlock()
		return Result{}, s.initErr
	}
	if s.current != nil {
		s.mu.Unlock()
		return Result{}, errors.New("runtimeapi: an invocation is already in progress")
	}
	s.current = p
	s.mu.Unlock()
	s.queue <- p
	select {
	case r := <-p.done:
		return r, nil
	case <-s.initCh:
		return Result{}, s.initErr
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// WaitNext waits for the runtime's GET /next after an invocation's result,
// and returns when it came: the end of the invocation's overhead.
func (s *Server) WaitNext(ctx context.Context) (time.Time, error) {
	select {
	case t := <-s.nextCh:
		return t, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

// errorBody writes a Runtime API error.
func errorBody(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

func transition(w http.ResponseWriter, from state, to, why string) {
	errorBody(w, http.StatusForbidden, "InvalidStateTransition",
		fmt.Sprintf("State transition from %s to %s failed for runtime. Error: %s", from, to, why))
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.mu.Lock()
	switch s.state {
	case initError:
		st := s.state
		s.mu.Unlock()
		transition(w, st, "Ready", "the runtime reported an init error")
		return
	case started:
		close(s.readyCh)
	case responded:
		select {
		case s.nextCh <- now:
		default:
		}
		s.current = nil
	case running: // asked again: render the current event again
		p := s.current
		s.mu.Unlock()
		s.deliver(w, p)
		return
	}
	s.state = ready
	s.mu.Unlock()

	select {
	case p := <-s.queue:
		s.mu.Lock()
		s.state = running
		s.mu.Unlock()
		s.deliver(w, p)
	case <-r.Context().Done():
		// The runtime went away (it was killed, or closed the connection).
	}
}

func (s *Server) deliver(w http.ResponseWriter, p *pending) {
	h := w.Header()
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set("Lambda-Runtime-Aws-Request-Id", p.inv.RequestID)
	set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(p.inv.Deadline.UnixMilli(), 10))
	set("Lambda-Runtime-Invoked-Function-Arn", p.inv.FunctionARN)
	set("Lambda-Runtime-Trace-Id", p.inv.TraceHeader)
	set("Lambda-Runtime-Client-Context", p.inv.ClientContext)
	set("Lambda-Runtime-Cognito-Identity", p.inv.CognitoIdentity)
	ct := p.inv.ContentType
	if ct == "" {
		ct = "application/json"
	}
	h.Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(p.inv.Payload)
}

// answer checks that id is the invocation in progress and returns it.
func (s *Server) answer(w http.ResponseWriter, id, to string) (*pending, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil || s.current.inv.RequestID != id {
		errorBody(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return nil, false
	}
	if s.state != running {
		transition(w, s.state, to, "the invocation has no event in progress")
		return nil, false
	}
	s.state = responded
	return s.current, true
}

// readBody reads a response body up to MaxResponseBytes; too large is
// reported with ok false and a 413 written.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(b) > MaxResponseBytes {
		errorBody(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes))
		return nil, false, nil
	}
	return b, true, nil
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	if mode := r.Header.Get("Lambda-Runtime-Function-Response-Mode"); mode != "" && !strings.EqualFold(mode, "streaming") {
		errorBody(w, http.StatusBadRequest, "InvalidFunctionResponseMode", "Invalid function response mode")
		return
	}
	p, ok := s.answer(w, r.PathValue("id"), "InvocationResponse")
	if !ok {
		return
	}
	body, fits, err := readBody(w, r)
	now := time.Now()
	switch {
	case err != nil:
		errorBody(w, http.StatusBadRequest, "TruncatedHTTPRequest", err.Error())
		p.done <- Result{At: now, Error: platformError("Runtime.TruncatedResponse", p.inv.RequestID, "the runtime's response was cut short: "+err.Error())}
		return
	case !fits:
		p.done <- Result{At: now, Error: platformError("Function.ResponseSizeTooLarge", p.inv.RequestID,
			fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes))}
		return
	}
	if msg := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); msg != "" { // a stream that failed
		accepted(w)
		p.done <- Result{At: now, Error: &FunctionError{Type: normalizeType(msg), Payload: body}}
		return
	}
	accepted(w)
	ct := r.Header.Get("Content-Type")
	p.done <- Result{Payload: body, ContentType: ct, At: now}
}

// errorType is what RAPID keeps of Lambda-Runtime-Function-Error-Type.
var errorType = regexp.MustCompile(`(Runtime|Function)\.[A-Z][a-zA-Z]+`)

func normalizeType(t string) string {
	switch {
	case errorType.MatchString(t):
		return t
	case strings.HasPrefix(t, "Function."):
		return "Function.Unknown"
	}
	return "Runtime.Unknown"
}

// errorReport reads the body and headers of /error and /init/error.
func errorReport(w http.ResponseWriter, r *http.Request) (*FunctionError, bool) {
	body, fits, err := readBody(w, r)
	if err != nil {
		errorBody(w, http.StatusBadRequest, "TruncatedHTTPRequest", err.Error())
		return nil, false
	}
	if !fits {
		return nil, false
	}
	fe := &FunctionError{Type: normalizeType(r.Header.Get("Lambda-Runtime-Function-Error-Type")), Payload: body}
	if c := r.Header.Get("Lambda-Runtime-Function-XRay-Error-Cause"); c != "" && json.Valid([]byte(c)) {
		fe.XRayCause = []byte(c)
	}
	// With this content type the body carries the cause; the caller does
	// not see it.
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/vnd.aws.lambda.error.cause+json") {
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) == nil {
			if c, ok := m["errorCause"]; ok {
				fe.XRayCause = c
				delete(m, "errorCause")
				if b, err := json.Marshal(m); err == nil {
					fe.Payload = b
				}
			}
		}
	}
	return fe, true
}

func (s *Server) invocationError(w http.ResponseWriter, r *http.Request) {
	p, ok := s.answer(w, r.PathValue("id"), "InvocationErrorResponse")
	if !ok {
		return
	}
	fe, ok := errorReport(w, r)
	now := time.Now()
	if !ok {
		p.done <- Result{At: now, Error: platformError("Function.ResponseSizeTooLarge", p.inv.RequestID, "the error body was too large")}
		return
	}
	accepted(w)
	p.done <- Result{At: now, Error: fe}
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := s.state
	s.mu.Unlock()
	if st == started {
		fe, ok := errorReport(w, r)
		if !ok {
			return
		}
		// The state is read again: another post, or a GET /next, may have
		// ended init while the body was read.
		s.mu.Lock()
		if st = s.state; st == started {
			s.state = initError
			s.initErr = &InitError{FunctionError: *fe}
			close(s.initCh)
		}
		s.mu.Unlock()
		if st == started {
			accepted(w)
			return
		}
	}
	transition(w, st, "InitError", "init is over")
}

// platformError is an error the platform reports for an invocation, in
// the shape the caller receives.
func platformError(typ, requestID, msg string) *FunctionError {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": "RequestId: " + requestID + " Error: " + msg})
	return &FunctionError{Type: typ, Payload: b}
}

// TimeoutError is the caller's payload for an invocation that ran out of
// time (spec/lambda.md §2.7).
func TimeoutError(requestID string, timeout time.Duration) *FunctionError {
	b, _ := json.Marshal(map[string]string{"errorType": "Sandbox.Timedout",
		"errorMessage": fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", requestID, timeout.Seconds())})
	return &FunctionError{Type: "Sandbox.Timedout", Payload: b}
}

// ExitError is the caller's payload for a runtime that exited (crashed,
// or was killed for memory) during an invocation.
func ExitError(requestID, exit string) *FunctionError {
	return platformError("Runtime.ExitError", requestID, "Runtime exited with error: "+exit)
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
