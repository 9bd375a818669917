// Command thaw is a self-hosted, X-Ray-compatible tracing backend for
// serverless teams: `thaw serve` runs the collector, store and API; client
// subcommands talk to a running thaw over HTTP.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "thaw:", err)
		if isUsage(err) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

const usage = `thaw: tracing for serverless, X-Ray compatible

usage: thaw <command> [flags]

commands:
  serve     run the collector, store and X-Ray API (UDP and HTTP on 127.0.0.1:2000)
  run       run a serverless.yml or SAM project's functions as Lambda does, traced
  traces    list recent traces from a running thaw
  trace     show one trace as a waterfall
  map       show the service graph: each service's requests, latency and error rates
  sampling  list, create, update and delete the sampling rules of a running thaw
  bench     measure ingest and query speed on this machine
  version   print the version

Run 'thaw <command> -h' for a command's flags.
`

// run is main without the process: it reads only its arguments.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "run":
		return runRun(ctx, rest, getenv, stdout, stderr)
	case "traces":
		return runTraces(ctx, rest, getenv, stdout, stderr)
	case "trace":
		return runTrace(ctx, rest, getenv, stdout, stderr)
	case "map":
		return runMap(ctx, rest, getenv, stdout, stderr)
	case "sampling":
		return runSampling(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "thaw", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError(fmt.Sprintf("unknown command %q", cmd))
}

// usageError is a mistake in how thaw was called; main exits 2 for it.
type usageError string

func (e usageError) Error() string {
	s := string(e)
	if strings.HasPrefix(s, "usage:") {
		return s
	}
	return "usage: " + s
}

func isUsage(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return true
	}
	return strings.HasPrefix(err.Error(), "usage:")
}
