package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/thawtrace/thaw/internal/daemon"
	"github.com/thawtrace/thaw/internal/runner"
	"github.com/thawtrace/thaw/internal/template"
)

// runRun runs `thaw run`: a project's functions, as Lambda runs them,
// traced into an in-process thaw (or a running one).
func runRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: thaw run [flags] [serverless.yml | template.yaml | directory]

Runs the functions of a Serverless Framework or SAM project the way Lambda
runs them: an execution environment per concurrent invocation, cold starts,
frozen between invocations, shut down when idle, and the platform's X-Ray
segments. It serves the Lambda Invoke API (aws lambda invoke
--endpoint-url) and starts a thaw collector and console in the process,
unless --collector names a running one. Runtimes: provided.al2,
provided.al2023 and go1.x bootstraps, python3.x and nodejs* (through
runtime clients thaw ships). --extensions starts external extensions,
with the Extensions and Telemetry APIs.

flags:
`)
		fs.PrintDefaults()
	}
	stage := fs.String("stage", "", "stage (Serverless: opt:stage)")
	region := fs.String("region", "", "region the functions see")
	params := fs.String("parameter-overrides", "", "SAM parameters, KEY=VALUE separated by spaces")
	idle := fs.Duration("idle", 10*time.Minute, "shut an environment down after this long idle")
	concurrency := fs.Int("concurrency", 0, "most environments per function (0: no limit; more invocations are throttled)")
	invokeAddr := fs.String("invoke", "127.0.0.1:3001", "address of the Lambda Invoke API")
	frontAddr := fs.String("port", "127.0.0.1:3000", "address of the API Gateway front (the functions' http/httpApi events)")
	collector := fs.String("collector", "", "a running thaw to trace into instead of one in this process: its URL (http://127.0.0.1:2000, UDP on the same port) or UDP host:port")
	listen := fs.String("listen", "127.0.0.1:2000", "address of the in-process thaw (UDP and HTTP)")
	data := fs.String("data", envOr(getenv, "THAW_DATA", "thaw-data"), "data directory of the in-process thaw")
	extensions := fs.String("extensions", "", "folder of external extensions to start in every environment, as Lambda starts /opt/extensions/*")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError(err.Error() + "; see 'thaw run -h'")
	}
	path := "."
	if fs.NArg() > 1 {
		return usageError("run takes one template or directory; see 'thaw run -h'")
	}
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	overrides := map[string]string{}
	for kv := range strings.FieldsSeq(*params) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return usageError(fmt.Sprintf("--parameter-overrides %q: want KEY=VALUE", kv))
		}
		overrides[k] = v
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	proj, err := template.Load(path, template.Options{Stage: *stage, Region: *region, Params: overrides})
	if err != nil {
		return err
	}
	for _, n := range proj.Notes {
		fmt.Fprintln(stdout, "note    ", n)
	}

	udpAddr := *collector
	if u, err := url.Parse(udpAddr); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		udpAddr = u.Host // thaw serves UDP on its HTTP port
	}
	var srv *daemon.Server
	if udpAddr == "" {
		cfg := daemon.DefaultConfig()
		cfg.UDPAddr, cfg.HTTPAddr, cfg.Store.Dir = *listen, *listen, *data
		if srv, err = daemon.New(cfg, stdout, log); err != nil {
			return err
		}
		if err := srv.Start(ctx); err != nil {
			return errors.Join(err, srv.Shutdown(context.Background()))
		}
		defer func() { _ = srv.Shutdown(context.Background()) }()
		udpAddr = srv.UDPAddr()
	}
	r, err := runner.New(proj, runner.Config{Collector: udpAddr, IdleTTL: *idle, Concurrency: *concurrency, Log: stdout, ExtensionsDir: *extensions}, log)
	if err != nil {
		return err
	}
	defer r.Close()
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *invokeAddr)
	if err != nil {
		return fmt.Errorf("listen for the Invoke API on %s: %w", *invokeAddr, err)
	}
	hs := &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	apiName, stageName := proj.Stage+"-"+proj.Service, proj.Stage
	if proj.Kind == "sam" {
		apiName, stageName = proj.Service, "Prod"
		if proj.Stage != "" {
			stageName = proj.Stage
		}
	}
	front := runner.NewFront(r, apiName, stageName)
	fln, err := lc.Listen(ctx, "tcp", *frontAddr)
	if err != nil {
		return fmt.Errorf("listen for the API Gateway front on %s: %w", *frontAddr, err)
	}
	fs2 := &http.Server{Handler: front, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = fs2.Serve(fln) }()
	frontBase := "http://" + fln.Addr().String()
	for _, route := range front.Routes() {
		fmt.Fprintf(stdout, "route    %s  %s\n", frontBase, route)
	}
	base := "http://" + ln.Addr().String()
	for _, f := range r.Functions() {
		fmt.Fprintf(stdout, "function %s (%s)  POST %s/2015-03-31/functions/%s/invocations\n", f.Name, f.Runtime, base, f.Name)
	}
	fmt.Fprintf(stdout, "invoke   aws lambda invoke --endpoint-url %s --function-name NAME out.json\n", base)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	_ = fs2.Shutdown(sctx)
	fmt.Fprintln(stdout, "thaw run stopped")
	return nil
}
