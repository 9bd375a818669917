package runner

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/thawtrace/thaw/internal/lambdaenv"
	"github.com/thawtrace/thaw/internal/template"
)

// Config configures a runner.
type Config struct {
	// Collector is the X-Ray daemon address (UDP host:port) that functions
	// and the platform send segments to.
	Collector string
	// IdleTTL is how long an idle environment lives (Lambda: about 10 min).
	IdleTTL time.Duration
	// Concurrency bounds each function's environments; 0: no bound.
	Concurrency int
	// Log receives the functions' output and START/END/REPORT lines.
	Log io.Writer
	// ExtensionsDir holds external extensions started in every
	// environment, as Lambda starts /opt/extensions/*.
	ExtensionsDir string
}

// Function is one function the runner serves.
type Function struct {
	Name    string
	ARN     string
	Runtime string
	Tracing bool
	// APITracing is set when the API Gateway REST API in front of the
	// function traces (Serverless provider.tracing.apiGateway).
	APITracing bool
	Events     []template.HTTPEvent
	pool       *Pool
}

// Runner runs a project's functions.
type Runner struct {
	cfg       Config
	log       *slog.Logger
	functions map[string]*Function
	async     sync.WaitGroup
	clients   string // directory of the runtime clients thaw ships
}

//go:embed runtimes
var runtimeClients embed.FS

// writeClients writes the runtime clients to a new temporary directory.
func writeClients() (string, error) {
	dir, err := os.MkdirTemp("", "thaw-runtimes-")
	if err != nil {
		return "", fmt.Errorf("runtime clients: %w", err)
	}
	entries, err := runtimeClients.ReadDir("runtimes")
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		b, err := runtimeClients.ReadFile("runtimes/" + e.Name())
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			return "", fmt.Errorf("runtime clients: %w", err)
		}
	}
	return dir, nil
}

// New prepares the functions of p. Nothing starts until an invocation.
func New(p *template.Project, cfg Config, log *slog.Logger) (*Runner, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.IdleTTL <= 0 {
		cfg.IdleTTL = 10 * time.Minute
	}
	clients, err := writeClients()
	if err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, log: log, functions: map[string]*Function{}, clients: clients}
	for _, f := range p.Functions {
		cmd, err := runtimeCommand(p, f, clients)
		if err != nil {
			_ = os.RemoveAll(clients)
			return nil, err
		}
		cmd = withExecWrapper(cmd, f)
		arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", p.Region, accountID, f.FunctionName)
		env := map[string]string{}
		for k, v := range f.Environment {
			env[k] = v
		}
		ec := lambdaenv.Config{
			FunctionName: f.FunctionName, FunctionARN: arn, Region: p.Region, MemoryMB: f.MemoryMB, Timeout: f.Timeout,
			Command: cmd, Dir: f.CodeDir, Handler: f.Handler, Env: env,
			Platform:      map[string]string{"AWS_XRAY_DAEMON_ADDRESS": cfg.Collector, "AWS_ACCESS_KEY_ID": "thaw", "AWS_SECRET_ACCESS_KEY": "thaw", "AWS_SESSION_TOKEN": "thaw"},
			Log:           cfg.Log,
			ExtensionsDir: cfg.ExtensionsDir,
		}
		fn := &Function{Name: f.FunctionName, ARN: arn, Runtime: f.Runtime, Tracing: f.Tracing, APITracing: f.APITracing, Events: f.Events,
			pool: NewPool(ec, cfg.Concurrency, cfg.IdleTTL, log.With("function", f.FunctionName))}
		r.functions[f.FunctionName] = fn
		if f.Name != f.FunctionName {
			r.functions[f.Name] = fn // also by the template's name
		}
	}
	return r, nil
}

// runtimeCommand is what starts a function's runtime. provided.* (and the
// retired go1.x) run the bootstrap executable in the code directory;
// python3.x and nodejs* run thaw's own runtime clients (runtimes/) with
// this machine's /usr/bin/python3 and node.
func runtimeCommand(p *template.Project, f template.Function, clients string) ([]string, error) {
	switch {
	case strings.HasPrefix(f.Runtime, "nodejs"):
		node, err := exec.LookPath("node")
		if err != nil {
			return nil, fmt.Errorf("%s: function %s (%s) needs node on PATH", p.Path, f.Name, f.Runtime)
		}
		return []string{node, filepath.Join(clients, "node_bootstrap.js")}, nil
	case strings.HasPrefix(f.Runtime, "python3"):
		const python = "/usr/bin/python3"
		if _, err := os.Stat(python); err != nil {
			return nil, fmt.Errorf("%s: function %s (%s) needs %s on this machine", p.Path, f.Name, f.Runtime, python)
		}
		return []string{python, "-u", filepath.Join(clients, "python_bootstrap.py")}, nil
	case strings.HasPrefix(f.Runtime, "provided") || f.Runtime == "go1.x":
		bootstrap := filepath.Join(f.CodeDir, "bootstrap")
		fi, err := os.Stat(bootstrap)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("%s: function %s (%s) needs an executable %s: build it there (for Go: GOOS=linux go build -o bootstrap .)", p.Path, f.Name, f.Runtime, bootstrap)
		}
		return []string{bootstrap}, nil
	}
	return nil, fmt.Errorf("%s: function %s: runtime %s is not one thaw run can start yet (it runs python3.x, nodejs*, and provided.al2, provided.al2023 and go1.x bootstraps)", p.Path, f.Name, f.Runtime)
}

// withExecWrapper honours AWS_LAMBDA_EXEC_WRAPPER as the managed
// runtimes' bootstrap scripts do (spec/lambda.md §6.2): the wrapper is
// started with the runtime's command as its arguments, and must exec it.
// Custom (provided.*) runtimes start their bootstrap directly.
func withExecWrapper(cmd []string, f template.Function) []string {
	w := f.Environment["AWS_LAMBDA_EXEC_WRAPPER"]
	if w == "" || strings.HasPrefix(f.Runtime, "provided") || f.Runtime == "go1.x" {
		return cmd
	}
	if !filepath.IsAbs(w) {
		w = filepath.Join(f.CodeDir, w)
	}
	return append([]string{w}, cmd...)
}

// Functions lists the functions, by name.
func (r *Runner) Functions() []*Function {
	seen := map[*Function]bool{}
	var out []*Function
	for _, f := range r.functions {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Request is one invocation of a function.
type Request struct {
	Function    string
	Payload     []byte
	TraceHeader string // X-Amzn-Trace-Id of the caller, if any
	// ClientContext is the decoded client context JSON, if any.
	ClientContext string
	// RequestID is the invocation's id; Invoke makes one when it is empty.
	RequestID string
}

// Response is an invocation's answer, with its request id.
type Response struct {
	RequestID string
	Outcome   Outcome
	// Traced is set when the platform recorded the invocation.
	Traced  bool
	TraceID string
}

// ErrNoFunction is returned for a function the project does not define.
var ErrNoFunction = errors.New("runner: no such function")

// Invoke runs one invocation and sends the platform's segments for it.
func (r *Runner) Invoke(ctx context.Context, req Request) (Response, error) {
	fn := r.functions[req.Function]
	if fn == nil {
		return Response{}, fmt.Errorf("%w: %s", ErrNoFunction, req.Function)
	}
	id := req.RequestID
	if id == "" {
		id = newRequestID()
	}
	t := planTrace(req.TraceHeader, fn.Tracing, time.Now())
	out, err := fn.pool.Invoke(ctx, lambdaenv.Invocation{RequestID: id, Payload: req.Payload, TraceHeader: t.runtimeHeader(), ClientContext: req.ClientContext})
	resp := Response{RequestID: id, Outcome: out, Traced: t.record, TraceID: string(t.header.Root)}
	if err != nil {
		return resp, err
	}
	if t.record && r.cfg.Collector != "" {
		// The segments need the end of the runtime's overhead, which comes
		// after the caller has its answer.
		r.async.Go(func() {
			out.Wait()
			docs, err := platformSegments(t, fn, out, id)
			if err == nil {
				err = sendSegments(r.cfg.Collector, docs)
			}
			if err != nil {
				r.log.Warn("send platform segments", "function", fn.Name, "err", err)
			}
		})
	}
	return resp, nil
}

// Close shuts every environment down, after the asynchronous invocations
// in flight.
func (r *Runner) Close() {
	r.async.Wait()
	for _, f := range r.Functions() {
		f.pool.Close()
	}
	_ = os.RemoveAll(r.clients)
}

// Lambda's payload limits.
const (
	maxSyncPayload  = 6 * 1024 * 1024
	maxAsyncPayload = 256 * 1024
)

// Handler serves the Lambda Invoke API:
// POST /2015-03-31/functions/{FunctionName}/invocations.
func (r *Runner) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", r.serveInvoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		apiError(w, http.StatusNotFound, "UnknownOperationException", fmt.Sprintf("%s %s is not a Lambda operation thaw run serves (it serves Invoke)", req.Method, req.URL.Path))
	})
	return mux
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

func (r *Runner) serveInvoke(w http.ResponseWriter, req *http.Request) {
	name := req.PathValue("name")
	// A name may be an ARN (arn:aws:lambda:region:account:function:name[:qualifier]).
	if strings.HasPrefix(name, "arn:") {
		parts := strings.Split(name, ":")
		if len(parts) >= 7 {
			name = parts[6]
		}
	} else if n, _, ok := strings.Cut(name, ":"); ok {
		name = n // name:qualifier
	}
	fn := r.functions[name]
	if fn == nil {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf("Function not found: arn:aws:lambda:%s:%s:function:%s", "us-east-1", accountID, name))
		return
	}
	typ := req.Header.Get("X-Amz-Invocation-Type")
	if typ == "" {
		typ = "RequestResponse"
	}
	limit := int64(maxSyncPayload)
	if typ == "Event" {
		limit = maxAsyncPayload
	}
	payload, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not read the request body: "+err.Error())
		return
	}
	if int64(len(payload)) > limit {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("Request must be smaller than %d bytes for the %s invocation type", limit, typ))
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	clientContext := ""
	if cc := req.Header.Get("X-Amz-Client-Context"); cc != "" {
		b, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || !json.Valid(b) {
			apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "X-Amz-Client-Context must be base64 of a JSON object")
			return
		}
		clientContext = string(b)
	}
	inv := Request{Function: fn.Name, Payload: payload, TraceHeader: req.Header.Get("X-Amzn-Trace-Id"), ClientContext: clientContext}
	switch typ {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		// The id answered is the one the invocation runs with, in its
		// START and REPORT lines and its trace.
		inv.RequestID = newRequestID()
		r.async.Go(func() {
			if _, err := r.Invoke(context.WithoutCancel(req.Context()), inv); err != nil {
				r.log.Warn("asynchronous invocation", "function", fn.Name, "err", err)
			}
		})
		w.Header().Set("X-Amzn-RequestId", inv.RequestID)
		w.WriteHeader(http.StatusAccepted)
		return
	case "RequestResponse":
	default:
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf("X-Amz-Invocation-Type %q is not one of RequestResponse, Event, DryRun", typ))
		return
	}
	// An invocation runs to its end even if the caller hangs up, as on Lambda.
	resp, err := r.Invoke(context.WithoutCancel(req.Context()), inv)
	switch {
	case errors.Is(err, ErrThrottled):
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`)
		return
	case err != nil:
		apiError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	h := w.Header()
	h.Set("X-Amzn-RequestId", resp.RequestID)
	h.Set("X-Amz-Executed-Version", "$LATEST")
	if strings.EqualFold(req.Header.Get("X-Amz-Log-Type"), "Tail") {
		// The log's end, through the REPORT line, as Lambda returns it.
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(resp.Outcome.Log()))
	}
	if resp.Traced {
		h.Set("X-Amzn-Trace-Id", "Root="+resp.TraceID)
	}
	res := resp.Outcome.Result
	body, ct := res.Payload, res.ContentType
	if res.Error != nil {
		h.Set("X-Amz-Function-Error", "Unhandled")
		body, ct = res.Error.Payload, "application/json"
	}
	if ct == "" || ct == "application/octet-stream" {
		ct = "application/json"
	}
	h.Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := fmt.Sprintf("%x", b)
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
