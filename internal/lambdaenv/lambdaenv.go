// Package lambdaenv is one Lambda execution environment on this machine
// (spec/lambda.md §1, §3, §4): external extensions and a runtime process,
// each in its own process group, behind one listener serving the Runtime,
// Extensions and Telemetry APIs; the platform's environment variables;
// Init bounded by 10 s; frozen (SIGSTOP) between invocations and thawed
// (SIGCONT) for the next; reset on a timeout, a crash or running out of
// memory; the platform's telemetry; and the START/END/REPORT lines Lambda
// writes to the function's log.
//
// It imports runtimeapi, extensionsapi and the standard library.
package lambdaenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/thawtrace/thaw/internal/extensionsapi"
	"github.com/thawtrace/thaw/internal/runtimeapi"
)

// InitTimeout bounds Init on demand (spec §1.2).
const InitTimeout = 10 * time.Second

// Config describes the function an environment runs.
type Config struct {
	FunctionName string
	FunctionARN  string
	Region       string
	MemoryMB     int
	Timeout      time.Duration
	// Command starts the runtime: a provided.* bootstrap, or a managed
	// runtime's client; Dir is its working directory (LAMBDA_TASK_ROOT).
	Command []string
	Dir     string
	Handler string
	// Env is the function's own variables; Platform is the platform's
	// (set over them, as Lambda does), e.g. AWS_XRAY_DAEMON_ADDRESS.
	Env, Platform map[string]string
	// Log receives the runtime's output, each line prefixed, and the
	// START/END/REPORT lines.
	Log io.Writer
	// InitTimeout bounds Init; 0 means InitTimeout.
	InitTimeout time.Duration
	// ExtensionsDir holds external extensions, executables started before
	// the runtime as Lambda starts /opt/extensions/*; empty means none.
	ExtensionsDir string
	// Phase is "init" for an Init of its own, or "invoke" for a suppressed
	// init: Lambda's retry of a failed Init inside the invocation.
	Phase string
}

// Env is one execution environment.
type Env struct {
	cfg   Config
	log   *slog.Logger
	id    string
	logMu sync.Mutex

	api    *runtimeapi.Server
	ext    *extensionsapi.Server
	exts   []*extProc // external extensions, each in its own process group
	srv    *http.Server
	cmd    *exec.Cmd
	exited chan struct{} // closed when the runtime process ended
	exit   error

	// InitDuration is how long Init took.
	InitDuration time.Duration
	reqID        string // the invocation being logged
	invoked      bool   // an invocation ran (the first REPORT has Init Duration)
	maxRSSKB     int64
	oom          bool
	// shutdownReason is what SHUTDOWN tells extensions: spindown, timeout
	// or failure.
	shutdownReason string
	shutdownMu     sync.Mutex
	down           bool          // Shutdown has run; guarded by shutdownMu
	capture        *bytes.Buffer // the current invocation's log, for Tail (guarded by logMu)
}

// extProc is a running external extension.
type extProc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// Timing is an invocation's platform timeline.
type Timing struct {
	Start    time.Time // the event released to the runtime
	Response time.Time // the response or error arrived
	End      time.Time // the runtime asked for the next event (end of Overhead)
}

// Errors that reset an environment.
var (
	// ErrReset is returned by Invoke on an environment that was reset: the
	// caller starts a new one.
	ErrReset = errors.New("lambdaenv: the environment was reset")
)

// Start creates the environment and runs Init: the runtime process starts
// and Start returns once it asks for its first event. An init error, a
// runtime that exits during Init, or Init past InitTimeout is returned as
// a *runtimeapi.FunctionError payload in an *InitFailure, and the
// environment is gone.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Env, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	e := &Env{cfg: cfg, log: log, id: randomHex(16), api: runtimeapi.New(log), exited: make(chan struct{}), shutdownReason: "spindown"}
	e.ext = extensionsapi.New(extensionsapi.Function{Name: cfg.FunctionName, Version: "$LATEST", Handler: cfg.Handler, AccountID: "000000000000"}, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime api listener: %w", err)
	}
	// One listener, as on Lambda: the Runtime API, and the Extensions and
	// Telemetry APIs under their own version prefixes.
	e.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/2018-06-01/") {
			e.api.ServeHTTP(w, r)
			return
		}
		e.ext.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()

	began := time.Now()
	e.writeLog(fmt.Sprintf("INIT_START Runtime Version: thaw:%s\n", runtimeName(cfg.Command)))
	phase := cfg.Phase
	if phase == "" {
		phase = "init"
	}
	initRecord := map[string]any{"initializationType": "on-demand", "phase": phase, "functionName": cfg.FunctionName, "functionVersion": "$LATEST",
		"instanceMaxMemory": cfg.MemoryMB << 20, "runtimeVersion": "thaw:" + runtimeName(cfg.Command)}
	e.ext.Emit(extensionsapi.NewEvent("platform.initStart", initRecord))
	limit := cfg.InitTimeout
	if limit <= 0 {
		limit = InitTimeout
	}
	initCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	addr := ln.Addr().String()
	// External extensions first; the runtime starts once each registered.
	if err := e.startExtensions(initCtx, addr); err != nil {
		e.InitDuration = time.Since(began)
		e.writeLog(fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms\tPhase: %s\tStatus: error\tError Type: %s\n", ms(e.InitDuration), phase, err.Err.Type))
		e.Shutdown()
		return nil, err
	}
	if err := e.startProcess(addr); err != nil {
		e.Shutdown()
		return nil, err
	}
	ready := make(chan error, 1)
	go func() { ready <- e.api.WaitReady(initCtx) }()
	select {
	case err = <-ready:
	case <-e.exited:
		err = &runtimeapi.InitError{FunctionError: *runtimeapi.ExitError("", e.exitText())}
	}
	e.ext.CloseRegistration()
	if err == nil {
		e.ext.Emit(extensionsapi.NewEvent("platform.initRuntimeDone", map[string]any{"initializationType": "on-demand", "phase": phase, "status": "success"}))
		// Init ends when every extension is waiting for its first event.
		if errType, werr := e.ext.WaitReady(initCtx); werr != nil {
			err = werr
		} else if errType != "" {
			err = &runtimeapi.InitError{FunctionError: runtimeapi.FunctionError{Type: "Extension.InitError",
				Payload: []byte(fmt.Sprintf(`{"errorType":"Extension.InitError","errorMessage":"an extension reported %s during init"}`, errType))}}
		}
		for name, events := range e.ext.Extensions() {
			e.writeLog(fmt.Sprintf("EXTENSION\tName: %s\tState: Ready\tEvents: [%s]\n", name, strings.Join(events, ",")))
			e.ext.Emit(extensionsapi.NewEvent("platform.extension", map[string]any{"name": name, "state": "Ready", "events": events}))
		}
	}
	e.InitDuration = time.Since(began)
	if err != nil {
		var ie *runtimeapi.InitError
		var fail *InitFailure
		switch {
		case errors.As(err, &ie):
			fail = &InitFailure{Err: &ie.FunctionError}
		case errors.Is(err, context.DeadlineExceeded):
			fail = &InitFailure{Err: &runtimeapi.FunctionError{Type: "Sandbox.Timedout",
				Payload: []byte(fmt.Sprintf(`{"errorType":"Sandbox.Timedout","errorMessage":"Init timed out after %.2f seconds"}`, limit.Seconds()))}}
		default:
			fail = &InitFailure{Err: &runtimeapi.FunctionError{Type: "Runtime.Unknown", Payload: []byte(err.Error())}}
		}
		e.writeLog(fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms\tPhase: %s\tStatus: error\tError Type: %s\n", ms(e.InitDuration), phase, fail.Err.Type))
		e.Shutdown()
		return nil, fail
	}
	e.ext.Emit(extensionsapi.NewEvent("platform.initReport", map[string]any{"initializationType": "on-demand", "phase": phase, "status": "success",
		"metrics": map[string]any{"durationMs": ms(e.InitDuration)}}))
	e.ext.Flush()
	e.maxRSSKB = groupRSS(e.cmd.Process.Pid)
	e.freeze()
	return e, nil
}

// startExtensions starts the executables of ExtensionsDir, each in its own
// process group with the variables extensions see (spec §3.1), and waits
// until every one has registered.
func (e *Env) startExtensions(ctx context.Context, apiAddr string) *InitFailure {
	if e.cfg.ExtensionsDir == "" {
		return nil
	}
	entries, err := os.ReadDir(e.cfg.ExtensionsDir)
	if err != nil {
		return &InitFailure{Err: &runtimeapi.FunctionError{Type: "Extension.LaunchError", Payload: []byte(fmt.Sprintf(`{"errorType":"Extension.LaunchError","errorMessage":%q}`, err.Error()))}}
	}
	env := []string{"AWS_LAMBDA_RUNTIME_API=" + apiAddr, "AWS_REGION=" + e.cfg.Region, "AWS_DEFAULT_REGION=" + e.cfg.Region,
		"AWS_LAMBDA_FUNCTION_NAME=" + e.cfg.FunctionName, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(e.cfg.MemoryMB), "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"PATH=" + os.Getenv("PATH"), "TZ=:UTC", "LANG=en_US.UTF-8"}
	for k, v := range e.cfg.Env {
		if !strings.HasPrefix(k, "_") {
			env = append(env, k+"="+v)
		}
	}
	for _, de := range entries {
		fi, err := de.Info()
		if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			continue
		}
		cmd := exec.Command(filepath.Join(e.cfg.ExtensionsDir, de.Name()))
		cmd.Env = env
		cmd.Dir = e.cfg.Dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := cmd.StdoutPipe()
		if err != nil {
			continue
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			return &InitFailure{Err: &runtimeapi.FunctionError{Type: "Extension.LaunchError", Payload: []byte(fmt.Sprintf(`{"errorType":"Extension.LaunchError","errorMessage":%q}`, err.Error()))}}
		}
		p := &extProc{name: de.Name(), cmd: cmd, exited: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(p.exited) }()
		go e.copyLines(out, "extension "+p.name)
		e.exts = append(e.exts, p)
	}
	if len(e.exts) == 0 {
		return nil
	}
	registered := make(chan error, 1)
	go func() { registered <- e.ext.WaitRegistered(ctx, len(e.exts)) }()
	select {
	case err := <-registered:
		if err != nil {
			return &InitFailure{Err: &runtimeapi.FunctionError{Type: "Sandbox.Timedout", Payload: []byte(fmt.Sprintf(`{"errorType":"Sandbox.Timedout","errorMessage":%q}`, err.Error()))}}
		}
		return nil
	case <-e.anyExtensionExited():
		if e.ext.Registered() < len(e.exts) {
			return &InitFailure{Err: &runtimeapi.FunctionError{Type: "Extension.Crash", Payload: []byte(`{"errorType":"Extension.Crash","errorMessage":"an extension exited before it registered"}`)}}
		}
		// Every one registered before one exited: Init goes on, and the
		// exit shows when the extension does not wait for its events.
		return nil
	}
}

// anyExtensionExited is closed when the first extension process ends.
func (e *Env) anyExtensionExited() <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	for _, p := range e.exts {
		go func() {
			<-p.exited
			once.Do(func() { close(ch) })
		}()
	}
	return ch
}

// InitFailure is an Init that did not end with the runtime ready; Err is
// what the pending invocation's caller receives.
type InitFailure struct{ Err *runtimeapi.FunctionError }

func (f *InitFailure) Error() string {
	return fmt.Sprintf("init failed: %s: %s", f.Err.Type, f.Err.Payload)
}

func (e *Env) startProcess(apiAddr string) error {
	if len(e.cfg.Command) == 0 {
		return errors.New("lambdaenv: no runtime command")
	}
	cmd := exec.Command(e.cfg.Command[0], e.cfg.Command[1:]...)
	cmd.Dir = e.cfg.Dir
	cmd.Env = e.environment(apiAddr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // freeze and kill the whole tree
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return &InitFailure{Err: runtimeapi.ExitError("", "Runtime.InvalidEntrypoint: "+err.Error())}
	}
	e.cmd = cmd
	go e.copyLog(stdout)
	go func() {
		e.exit = cmd.Wait()
		close(e.exited)
	}()
	return nil
}

// environment is what the runtime process sees (spec §3.1): the function's
// variables, then the platform's over them.
func (e *Env) environment(apiAddr string) []string {
	c := e.cfg
	vars := map[string]string{}
	for k, v := range c.Env {
		vars[k] = v
	}
	for k, v := range c.Platform {
		vars[k] = v
	}
	for k, v := range map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          apiAddr,
		"AWS_LAMBDA_FUNCTION_NAME":        c.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(c.MemoryMB),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + c.FunctionName,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + e.id,
		"AWS_REGION":                      c.Region,
		"AWS_DEFAULT_REGION":              c.Region,
		"LAMBDA_TASK_ROOT":                c.Dir,
		"_HANDLER":                        c.Handler,
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
	} {
		vars[k] = v
	}
	if _, ok := vars["PATH"]; !ok {
		vars["PATH"] = os.Getenv("PATH")
	}
	if _, ok := vars["AWS_XRAY_CONTEXT_MISSING"]; !ok {
		vars["AWS_XRAY_CONTEXT_MISSING"] = "LOG_ERROR"
	}
	delete(vars, "AWS_LAMBDA_MAX_CONCURRENCY") // its presence switches runtimes to multi-concurrency
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}

// copyLines writes an extension's output line by line, prefixed with the
// function and the extension's name, as extension telemetry too.
func (e *Env) copyLines(r io.Reader, who string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		e.writeLog("[" + e.cfg.FunctionName + " " + who + "] " + sc.Text() + "\n")
		e.ext.Emit(extensionsapi.NewEvent("extension", sc.Text()))
	}
}

// copyLog writes the runtime's output line by line, prefixed with the
// function name and the invocation's request id.
func (e *Env) copyLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		e.logMu.Lock()
		id := e.reqID
		e.logMu.Unlock()
		prefix := "[" + e.cfg.FunctionName + "]"
		if id != "" {
			prefix = "[" + e.cfg.FunctionName + " " + shortID(id) + "]"
		}
		e.writeLog(prefix + " " + sc.Text() + "\n")
		e.ext.Emit(extensionsapi.NewEvent("function", sc.Text()))
	}
}

func (e *Env) writeLog(s string) {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	_, _ = io.WriteString(e.cfg.Log, s)
	if e.capture != nil {
		e.capture.WriteString(s)
		// Only the end is returned: a chatty invocation keeps at most
		// twice that, not its whole log.
		if n := e.capture.Len(); n > 2*maxLogTail {
			e.capture.Next(n - maxLogTail)
		}
	}
}

// maxLogTail is how much of an invocation's log Lambda returns with
// X-Amz-Log-Type: Tail.
const maxLogTail = 4096

// startCapture begins keeping the invocation's log lines; takeCapture
// ends it and returns the last maxLogTail bytes.
func (e *Env) startCapture() {
	e.logMu.Lock()
	e.capture = &bytes.Buffer{}
	e.logMu.Unlock()
}

func (e *Env) takeCapture() []byte {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	if e.capture == nil {
		return nil
	}
	b := e.capture.Bytes()
	e.capture = nil
	if len(b) > maxLogTail {
		b = b[len(b)-maxLogTail:]
	}
	return b
}

// Invocation is one call of the function.
type Invocation struct {
	RequestID   string
	Payload     []byte
	TraceHeader string
	// ClientContext and CognitoIdentity are JSON, when the caller sent them.
	ClientContext, CognitoIdentity string
}

// Tail is the end of an invocation that goes on after the caller has its
// answer (spec §1.3): the runtime's overhead until it asks for the next
// event, then the REPORT line and the freeze, or the reset.
type Tail struct {
	done   chan struct{}
	timing Timing
	log    []byte
}

// Log returns the end of the invocation's log (its last 4 KB: START, the
// function's lines, END and REPORT), once the tail is over.
func (t *Tail) Log() []byte {
	<-t.done
	return t.log
}

// Wait waits for the tail and returns the invocation's whole timeline.
func (t *Tail) Wait() Timing {
	<-t.done
	return t.timing
}

// Invoke runs one invocation in the environment, which must be idle, and
// returns as soon as the runtime has answered; the tail runs on, and the
// environment is busy until it ends. A timeout, a runtime exit or running
// out of memory resets the environment: the result carries the error
// Lambda reports, and after the tail Reset reports true.
func (e *Env) Invoke(ctx context.Context, inv Invocation) (runtimeapi.Result, *Tail, error) {
	var tm Timing
	select {
	case <-e.exited:
		return runtimeapi.Result{}, nil, ErrReset
	default:
	}
	e.logMu.Lock()
	e.reqID = inv.RequestID
	e.logMu.Unlock()
	e.startCapture()
	e.writeLog(fmt.Sprintf("START RequestId: %s Version: $LATEST\n", inv.RequestID))
	tm.Start = time.Now()
	deadline := tm.Start.Add(e.cfg.Timeout)
	ictx, cancel := context.WithDeadline(ctx, deadline)
	e.thaw()
	start := map[string]any{"requestId": inv.RequestID, "version": "$LATEST"}
	if strings.Contains(inv.TraceHeader, "Sampled=1") { // tracing only when sampled (spec §4.4)
		start["tracing"] = map[string]any{"type": "X-Amzn-Trace-Id", "value": inv.TraceHeader}
	}
	e.ext.Emit(extensionsapi.NewEvent("platform.start", start))
	e.ext.Dispatch(extensionsapi.Event{EventType: "INVOKE", DeadlineMs: deadline.UnixMilli(), RequestID: inv.RequestID,
		InvokedFunctionArn: e.cfg.FunctionARN, Tracing: &extensionsapi.Tracing{Type: "X-Amzn-Trace-Id", Value: inv.TraceHeader}})
	stopWatch := e.watchMemory(ictx, cancel)
	type outcome struct {
		r   runtimeapi.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := e.api.Invoke(ictx, runtimeapi.Invocation{
			RequestID: inv.RequestID, Payload: inv.Payload, Deadline: deadline, FunctionARN: e.cfg.FunctionARN,
			TraceHeader: inv.TraceHeader, ClientContext: inv.ClientContext, CognitoIdentity: inv.CognitoIdentity,
		})
		done <- outcome{r, err}
	}()
	var o outcome
	exited := false
	select {
	case o = <-done:
	case <-e.exited:
		exited = true
	}
	// The watcher is stopped before its verdict (e.oom) is read.
	stopWatch()
	res := o.r
	status := ""
	switch {
	case exited:
		res = runtimeapi.Result{Error: runtimeapi.ExitError(inv.RequestID, e.exitText()), At: time.Now()}
		status = "error\tError Type: Runtime.ExitError"
	case o.err == nil:
	case e.oomed():
		res = runtimeapi.Result{Error: runtimeapi.ExitError(inv.RequestID, "signal: killed"), At: time.Now()}
		status = "error\tError Type: Runtime.OutOfMemory"
	case errors.Is(o.err, context.DeadlineExceeded):
		res = runtimeapi.Result{Error: runtimeapi.TimeoutError(inv.RequestID, e.cfg.Timeout), At: time.Now()}
		status = "timeout"
	default:
		cancel()
		return res, nil, o.err
	}
	tm.Response = res.At
	tail := &Tail{done: make(chan struct{})}
	go func() {
		defer close(tail.done)
		defer cancel()
		// The tail outlives the caller's context: the caller has its answer
		// and may be gone; the deadline still bounds it.
		e.finish(context.WithoutCancel(ctx), inv.RequestID, deadline, res, status, &tm)
		tail.timing = tm
		tail.log = e.takeCapture()
	}()
	return res, tail, nil
}

// finish is an invocation's tail: it waits for the runtime to ask for the
// next event (a runtime that exits instead, as aws-lambda-go does after a
// panic, is reset, though its answer stands), writes END and REPORT, and
// freezes or shuts the environment down.
func (e *Env) finish(ctx context.Context, requestID string, deadline time.Time, res runtimeapi.Result, status string, tm *Timing) {
	if status == "" {
		nctx, ncancel := context.WithDeadline(ctx, deadline.Add(time.Second))
		type asked struct {
			at  time.Time
			err error
		}
		next := make(chan asked, 1)
		go func() {
			at, err := e.api.WaitNext(nctx)
			next <- asked{at, err}
		}()
		select {
		case n := <-next:
			if n.err != nil {
				status = "timeout"
			} else {
				tm.End = n.at
			}
		case <-e.exited:
			if res.Error == nil {
				status = "error\tError Type: Runtime.ExitError"
			}
		}
		ncancel()
	}
	if tm.End.IsZero() {
		tm.End = time.Now()
	}
	// The invoke phase ends when every extension is waiting again.
	if status == "" {
		wctx, wcancel := context.WithDeadline(ctx, deadline.Add(time.Second))
		if errType, err := e.ext.WaitReady(wctx); err != nil || errType != "" {
			status = "error\tError Type: Extension.Crash"
		}
		wcancel()
	}
	// The runtime process's peak resident memory (its high-water mark);
	// children were watched while the invocation ran.
	if kb := statusKB(fmt.Sprintf("/proc/%d/status", e.cmd.Process.Pid), "VmHWM:"); kb > e.maxRSSKB {
		e.maxRSSKB = kb
	}
	dur := tm.Response.Sub(tm.Start)
	e.writeLog(fmt.Sprintf("END RequestId: %s\n", requestID))
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		requestID, ms(dur), int64(ms(dur)+0.999), e.cfg.MemoryMB, (e.maxRSSKB+1023)/1024)
	if !e.invoked {
		report += fmt.Sprintf("\tInit Duration: %.2f ms", ms(e.InitDuration))
		e.invoked = true
	}
	if status != "" {
		report += "\tStatus: " + status
	}
	e.writeLog(report + "\n")
	e.logMu.Lock()
	e.reqID = ""
	e.logMu.Unlock()
	tstatus := "success"
	switch {
	case strings.HasPrefix(status, "timeout"):
		tstatus = "timeout"
	case status != "" || res.Error != nil:
		tstatus = "error"
	}
	metrics := map[string]any{"durationMs": ms(dur), "billedDurationMs": int64(ms(dur) + 0.999), "memorySizeMB": e.cfg.MemoryMB, "maxMemoryUsedMB": (e.maxRSSKB + 1023) / 1024}
	if strings.Contains(report, "Init Duration") {
		metrics["initDurationMs"] = ms(e.InitDuration)
	}
	span := func(name string, from, to time.Time) map[string]any {
		return map[string]any{"name": name, "start": from.UTC().Format("2006-01-02T15:04:05.000Z"), "durationMs": ms(to.Sub(from))}
	}
	e.ext.Emit(extensionsapi.NewEvent("platform.runtimeDone", map[string]any{"requestId": requestID, "status": tstatus,
		"metrics": map[string]any{"durationMs": ms(tm.End.Sub(tm.Start)), "producedBytes": len(res.Payload)},
		// The response arrives in one piece here, so responseDuration is 0.
		"spans": []any{span("responseLatency", tm.Start, tm.Response), span("responseDuration", tm.Response, tm.Response), span("runtimeOverhead", tm.Response, tm.End)}}))
	e.ext.Emit(extensionsapi.NewEvent("platform.report", map[string]any{"requestId": requestID, "status": tstatus, "metrics": metrics}))
	if status != "" || e.isExited() {
		e.shutdownReason = "failure"
		if tstatus == "timeout" {
			e.shutdownReason = "timeout"
		}
		e.Shutdown()
		return
	}
	e.ext.Flush()
	e.freeze()
}

// Reset reports whether the environment was reset and must be replaced.
func (e *Env) Reset() bool { return e.isExited() }

func (e *Env) isExited() bool {
	select {
	case <-e.exited:
		return true
	default:
		return false
	}
}

// Shutdown stops the environment: the runtime's process group is killed
// (no extensions: Lambda sends no SIGTERM then) and the Runtime API closed.
func (e *Env) Shutdown() {
	e.shutdownMu.Lock()
	defer e.shutdownMu.Unlock()
	// A reset environment is shut down by its tail and again by the pool;
	// the second time must not signal a process group that may be gone.
	if e.down {
		return
	}
	e.down = true
	if len(e.exts) > 0 {
		// Extensions get SHUTDOWN and up to 2 s to finish (spec §1.6).
		e.thaw()
		deadline := time.Now().Add(2 * time.Second)
		e.ext.Dispatch(extensionsapi.Event{EventType: "SHUTDOWN", ShutdownReason: e.shutdownReason, DeadlineMs: deadline.UnixMilli()})
		for _, p := range e.exts {
			select {
			case <-p.exited:
			case <-time.After(time.Until(deadline)):
			}
		}
		e.ext.Flush()
		for _, p := range e.exts {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT)
			<-p.exited
		}
		e.exts = nil
	}
	if e.cmd != nil && e.cmd.Process != nil {
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGCONT) // a frozen group dies only once thawed
		<-e.exited
	}
	_ = e.srv.Close()
}

// freeze stops every process of the environment (spec §1.4), and waits
// (briefly) until the runtime process is stopped: signals are delivered
// asynchronously.
func (e *Env) freeze() {
	e.signal(syscall.SIGSTOP)
	for i := 0; i < 1000 && !e.Frozen() && !e.isExited(); i++ {
		if i < 100 {
			runtime.Gosched() // stopping takes microseconds: look again at once
			continue
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// thaw resumes them.
func (e *Env) thaw() { e.signal(syscall.SIGCONT) }

func (e *Env) signal(sig syscall.Signal) {
	if e.cmd != nil && e.cmd.Process != nil && !e.isExited() {
		if err := syscall.Kill(-e.cmd.Process.Pid, sig); err != nil {
			e.log.Warn("signal runtime", "signal", sig, "err", err)
		}
	}
	for _, p := range e.exts {
		select {
		case <-p.exited:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, sig)
		}
	}
}

// Frozen reports whether the runtime process is stopped (for tests and
// diagnostics): /proc/PID/stat's state T.
func (e *Env) Frozen() bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", e.cmd.Process.Pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndex(s, ")")
	return i > 0 && i+2 < len(s) && s[i+2] == 'T'
}

// PID is the runtime process's id.
func (e *Env) PID() int { return e.cmd.Process.Pid }

func (e *Env) exitText() string {
	<-e.exited
	if e.exit == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(e.exit, &ee) {
		return ee.String()
	}
	return e.exit.Error()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func runtimeName(cmd []string) string {
	if len(cmd) == 0 {
		return "none"
	}
	parts := strings.Split(cmd[0], "/")
	return parts[len(parts)-1]
}
