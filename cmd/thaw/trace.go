package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// runTrace runs `thaw trace ID`.
func runTrace(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := &traceCommand{
		getenv: getenv,
		loc:    time.Local,
		hc:     &http.Client{Timeout: clientTimeout},
	}
	return c.Run(ctx, args, stdout, stderr)
}

// traceCommand shows one trace as a waterfall: `thaw trace ID`. Its fields
// are the process's inputs, so tests can fix them.
type traceCommand struct {
	getenv func(string) string
	loc    *time.Location // for the start time in the header
	hc     *http.Client
}

const traceSynopsis = "thaw trace ID [--server URL] [--json] [--width 100]"

// Run parses args, fetches the trace and prints it.
func (c *traceCommand) Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n\nShow one trace from a running thaw as a waterfall of its segments and subsegments.\n"+
			"Markers: %s fault, %s error, %s throttle, %s in progress.\n\n",
			traceSynopsis, markFault, markError, markThrottle, markInProgress)
		fs.PrintDefaults()
	}
	server := addServerFlag(fs, c.getenv)
	asJSON := fs.Bool("json", false, "print the BatchGetTraces answer as JSON instead")
	width := fs.Int("width", 100, fmt.Sprintf("width of the waterfall in columns (at least %d)", minWaterfallWidth))
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	switch {
	case len(rest) == 0:
		return usageError("trace needs a trace id, e.g. 'thaw trace 1-5759e988-bd862e3fe1be46a994272793'; see 'thaw trace -h'")
	case len(rest) > 1:
		return usageError(fmt.Sprintf("trace takes one trace id, got %q; see 'thaw trace -h'", rest))
	case *width < minWaterfallWidth:
		return usageError(fmt.Sprintf("--width %d: want at least %d; see 'thaw trace -h'", *width, minWaterfallWidth))
	}
	id := strings.TrimSpace(rest[0])
	base, err := serverURL(*server)
	if err != nil {
		return err
	}

	out, err := xrayapi.NewClient(base, c.hc).BatchGetTraces(ctx, xrayapi.BatchGetTracesInput{TraceIDs: []string{id}})
	var apiErr *xrayapi.APIError
	if errors.As(err, &apiErr) && apiErr.Type == "ResourceNotFoundException" {
		return fmt.Errorf("trace %s not found on %s", id, base)
	}
	if err != nil {
		return explainServerError(err, base)
	}
	tr := findTrace(out, id)
	if tr == nil {
		return fmt.Errorf("trace %s not found on %s", id, base)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if tr.LimitExceeded {
		fmt.Fprintf(stderr, "note: trace %s exceeded the trace size limit; some segments are missing\n", id)
	}
	docs := make([][]byte, len(tr.Segments))
	for i, s := range tr.Segments {
		docs[i] = []byte(s.Document)
	}
	if err := renderWaterfall(stdout, docs, waterfallOptions{Width: *width, Location: c.loc}); err != nil {
		return fmt.Errorf("render trace %s: %w", id, err)
	}
	return nil
}

// findTrace returns the trace with id in a BatchGetTraces answer, or nil if
// it is missing or has no segments: X-Ray answers an unknown id with an empty
// list rather than an error.
func findTrace(out *xrayapi.BatchGetTracesOutput, id string) *xrayapi.Trace {
	for i := range out.Traces {
		if t := &out.Traces[i]; strings.EqualFold(t.ID, id) && len(t.Segments) > 0 {
			return t
		}
	}
	// A server may answer with the id in another form (a W3C id for an X-Ray
	// one); a single trace for a single id is the one asked for.
	if len(out.Traces) == 1 && len(out.Traces[0].Segments) > 0 {
		return &out.Traces[0]
	}
	return nil
}
