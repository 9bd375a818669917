// Package extensionsapi is the Lambda Extensions API (2020-01-01) and
// Telemetry API (2022-07-01) of one execution environment, as
// spec/lambda.md §4 describes them: extensions register during Init, then
// long-poll GET /event/next for INVOKE and SHUTDOWN events, each call
// saying they are done with the previous phase; a subscriber to the
// Telemetry API gets the platform's events POSTed to its listener in
// batches. The environment drives it from the other side.
//
// It imports only the standard library.
package extensionsapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxExtensions is Lambda's limit.
const maxExtensions = 10

// Function is what a registering extension is told about the function.
type Function struct {
	Name, Version, Handler, AccountID string
}

// Event is an INVOKE or SHUTDOWN event.
type Event struct {
	EventType          string   `json:"eventType"`
	DeadlineMs         int64    `json:"deadlineMs"`
	RequestID          string   `json:"requestId,omitempty"`
	InvokedFunctionArn string   `json:"invokedFunctionArn,omitempty"`
	Tracing            *Tracing `json:"tracing,omitempty"`
	ShutdownReason     string   `json:"shutdownReason,omitempty"`
}

// Tracing is an INVOKE event's trace header.
type Tracing struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type extension struct {
	id, name string
	events   map[string]bool
	queue    chan Event
	waiting  bool // in GET /event/next: done with the current phase
	errType  string
}

// Server is one environment's Extensions and Telemetry APIs.
type Server struct {
	log *slog.Logger
	fn  Function
	mux *http.ServeMux

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every registration or readiness
	exts    map[string]*extension
	closed  bool // registration is over (the runtime asked for its first event)
	subs    []*subscriber
	backlog []TelemetryEvent // platform events before any subscription, replayed to new subscribers
}

// New returns the APIs of one environment.
func New(fn Function, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{log: log, fn: fn, mux: http.NewServeMux(), exts: map[string]*extension{}, changed: make(chan struct{})}
	s.mux.HandleFunc("POST /2020-01-01/extension/register", s.register)
	s.mux.HandleFunc("GET /2020-01-01/extension/event/next", s.next)
	s.mux.HandleFunc("POST /2020-01-01/extension/init/error", s.reportError)
	s.mux.HandleFunc("POST /2020-01-01/extension/exit/error", s.reportError)
	s.mux.HandleFunc("PUT /2022-07-01/telemetry", s.subscribe)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get("Lambda-Extension-Name")
	if name == "" {
		apiError(w, http.StatusForbidden, "Extension.InvalidExtensionName", "Empty extension name")
		return
	}
	var body struct {
		Events            []string        `json:"events"`
		ConfigurationKeys json.RawMessage `json:"configurationKeys"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil && err != io.EOF {
		apiError(w, http.StatusForbidden, "InvalidRequestFormat", err.Error())
		return
	}
	if body.ConfigurationKeys != nil {
		apiError(w, http.StatusForbidden, "InvalidRequestFormat", "configurationKeys are deprecated; use environment variables instead")
		return
	}
	events := map[string]bool{}
	for _, e := range body.Events {
		if e != "INVOKE" && e != "SHUTDOWN" {
			apiError(w, http.StatusForbidden, "Extension.InvalidEventType", fmt.Sprintf("%s is not INVOKE or SHUTDOWN", e))
			return
		}
		events[e] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		apiError(w, http.StatusForbidden, "Extension.RegistrationClosed", "Extension registration closed already")
		return
	case len(s.exts) >= maxExtensions:
		apiError(w, http.StatusForbidden, "Extension.TooManyExtensions", fmt.Sprintf("More than %d extensions", maxExtensions))
		return
	}
	for _, e := range s.exts {
		if e.name == name {
			apiError(w, http.StatusForbidden, "Extension.InvalidExtensionState", fmt.Sprintf("Extension %s is registered already", name))
			return
		}
	}
	ext := &extension{id: newUUID(), name: name, events: events, queue: make(chan Event, 2)}
	s.exts[ext.id] = ext
	s.notify()
	resp := map[string]string{"functionName": s.fn.Name, "functionVersion": s.fn.Version, "handler": s.fn.Handler}
	if strings.Contains(r.Header.Get("Lambda-Extension-Accept-Feature"), "accountId") {
		resp["accountId"] = s.fn.AccountID
	}
	w.Header().Set("Lambda-Extension-Identifier", ext.id)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// lookup finds the calling extension, or writes the error.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *extension {
	id := r.Header.Get("Lambda-Extension-Identifier")
	if id == "" {
		apiError(w, http.StatusForbidden, "Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header")
		return nil
	}
	s.mu.Lock()
	ext := s.exts[id]
	s.mu.Unlock()
	if ext == nil {
		apiError(w, http.StatusForbidden, "Extension.UnknownExtensionIdentifier", "Unknown extension "+id)
		return nil
	}
	return ext
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	ext := s.lookup(w, r)
	if ext == nil {
		return
	}
	s.mu.Lock()
	ext.waiting = true
	s.notify()
	s.mu.Unlock()
	select {
	case ev := <-ext.queue:
		s.mu.Lock()
		ext.waiting = false
		s.mu.Unlock()
		w.Header().Set("Lambda-Extension-Event-Identifier", newUUID())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ev)
	case <-r.Context().Done():
	}
}

func (s *Server) reportError(w http.ResponseWriter, r *http.Request) {
	ext := s.lookup(w, r)
	if ext == nil {
		return
	}
	typ := r.Header.Get("Lambda-Extension-Function-Error-Type")
	if typ == "" {
		apiError(w, http.StatusForbidden, "Extension.MissingHeader", "Missing Lambda-Extension-Function-Error-Type header")
		return
	}
	s.mu.Lock()
	ext.errType = typ
	s.notify()
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// Registered returns how many extensions registered.
func (s *Server) Registered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.exts)
}

// WaitRegistered waits until n extensions have registered.
func (s *Server) WaitRegistered(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, ch := len(s.exts), s.changed
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%d of %d extensions registered: %w", got, n, ctx.Err())
		}
	}
}

// CloseRegistration ends Init's registration window.
func (s *Server) CloseRegistration() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// WaitReady waits until every registered extension is waiting for its
// next event (done with the current phase), or one reported an error,
// whose type it returns.
func (s *Server) WaitReady(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		ready, errType, ch := true, "", s.changed
		for _, e := range s.exts {
			if e.errType != "" {
				errType = e.errType
			}
			ready = ready && e.waiting
		}
		s.mu.Unlock()
		if errType != "" {
			return errType, nil
		}
		if ready {
			return "", nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// Dispatch gives ev to every extension registered for its type, and
// returns how many.
func (s *Server) Dispatch(ev Event) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.exts {
		if e.events[ev.EventType] {
			e.waiting = false
			e.queue <- ev
			n++
		}
	}
	return n
}

// Extensions lists the registered extensions' names and events, for the
// platform.extension telemetry and EXTENSION log lines.
func (s *Server) Extensions() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	for _, e := range s.exts {
		var evs []string
		for _, k := range []string{"INVOKE", "SHUTDOWN"} {
			if e.events[k] {
				evs = append(evs, k)
			}
		}
		out[e.name] = evs
	}
	return out
}

// TelemetryEvent is one Telemetry API event (spec §4.3).
type TelemetryEvent struct {
	Time   string `json:"time"`
	Type   string `json:"type"`
	Record any    `json:"record"`
}

// NewEvent stamps an event with the time now.
func NewEvent(typ string, record any) TelemetryEvent {
	return TelemetryEvent{Time: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), Type: typ, Record: record}
}

type subscriber struct {
	ext     string
	types   map[string]bool
	uri     string
	timeout time.Duration
	mu      sync.Mutex
	buf     []TelemetryEvent
	timer   *time.Timer
}

func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	ext := s.lookup(w, r)
	if ext == nil {
		return
	}
	var req struct {
		SchemaVersion string   `json:"schemaVersion"`
		Types         []string `json:"types"`
		Buffering     struct {
			TimeoutMs int `json:"timeoutMs"`
		} `json:"buffering"`
		Destination struct {
			Protocol string `json:"protocol"`
			URI      string `json:"URI"`
		} `json:"destination"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	types := map[string]bool{}
	for _, t := range req.Types {
		if t != "platform" && t != "function" && t != "extension" {
			apiError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("types: %q is not platform, function or extension", t))
			return
		}
		types[t] = true
	}
	u, err := url.Parse(req.Destination.URI)
	switch {
	case len(types) == 0:
		apiError(w, http.StatusBadRequest, "ValidationError", "types should not be empty")
		return
	case req.Destination.Protocol != "HTTP" || err != nil || u.Scheme != "http" || u.Port() == "":
		apiError(w, http.StatusBadRequest, "ValidationError", "destination must be HTTP with a URI such as http://sandbox.localdomain:4243/telemetry (with a port)")
		return
	}
	// sandbox and sandbox.localdomain are the environment itself.
	if h := u.Hostname(); h == "sandbox" || h == "sandbox.localdomain" {
		u.Host = "127.0.0.1:" + u.Port()
	}
	timeout := time.Duration(max(25, min(30000, req.Buffering.TimeoutMs))) * time.Millisecond
	if req.Buffering.TimeoutMs == 0 {
		timeout = time.Second
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		apiError(w, http.StatusForbidden, "Telemetry.SubscriptionClosed", "Telemetry API subscription is closed")
		return
	}
	sub := &subscriber{ext: ext.name, types: types, uri: u.String(), timeout: timeout}
	s.subs = append(s.subs, sub)
	backlog := append([]TelemetryEvent(nil), s.backlog...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `"OK"`)
	for _, ev := range backlog {
		s.deliver(sub, ev)
	}
	s.Emit(NewEvent("platform.telemetrySubscription", map[string]any{"name": ext.name, "state": "Subscribed", "types": req.Types}))
}

// Emit records a telemetry event for every subscriber of its kind; platform
// events before the first subscription are kept for replay.
func (s *Server) Emit(ev TelemetryEvent) {
	kind := ev.Type
	if i := strings.IndexByte(kind, '.'); i > 0 {
		kind = kind[:i]
	}
	s.mu.Lock()
	subs := append([]*subscriber(nil), s.subs...)
	if !s.closed && kind == "platform" {
		s.backlog = append(s.backlog, ev)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		if sub.types[kind] {
			s.deliver(sub, ev)
		}
	}
}

func (s *Server) deliver(sub *subscriber, ev TelemetryEvent) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	sub.buf = append(sub.buf, ev)
	if sub.timer == nil {
		sub.timer = time.AfterFunc(sub.timeout, func() { s.flush(sub) })
	}
}

// Flush sends every subscriber's buffered events now (before a freeze or
// a shutdown).
func (s *Server) Flush() {
	s.mu.Lock()
	subs := append([]*subscriber(nil), s.subs...)
	s.mu.Unlock()
	for _, sub := range subs {
		s.flush(sub)
	}
}

func (s *Server) flush(sub *subscriber) {
	sub.mu.Lock()
	batch := sub.buf
	sub.buf = nil
	if sub.timer != nil {
		sub.timer.Stop()
		sub.timer = nil
	}
	sub.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return
	}
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Post(sub.uri, "application/json", bytes.NewReader(body))
	if err != nil {
		s.log.Warn("deliver telemetry", "extension", sub.ext, "err", err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
