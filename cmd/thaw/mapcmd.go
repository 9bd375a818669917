package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// runMap runs `thaw map`.
func runMap(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := &mapCommand{getenv: getenv, now: time.Now, hc: &http.Client{Timeout: clientTimeout}}
	return c.Run(ctx, args, stdout, stderr)
}

// mapCommand prints the service graph: `thaw map`.
type mapCommand struct {
	getenv func(string) string
	now    func() time.Time
	hc     *http.Client
}

const mapSynopsis = "thaw map [--server URL] [--since 1h] [--json]"

// Run prints the service graph of the last --since.
func (c *mapCommand) Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("map", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n\nPrint the service graph of a running thaw: each service with its requests, latency\nand error rates, and each call it makes.\n\n", mapSynopsis)
		fs.PrintDefaults()
	}
	server := addServerFlag(fs, c.getenv)
	sinceText := fs.String("since", "1h", "how far back to look: a Go duration (90m, 1h30m) or days (2d)")
	asJSON := fs.Bool("json", false, "print the GetServiceGraph answer as JSON")
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if len(rest) > 0 {
		return usageError(fmt.Sprintf("map takes no arguments, got %q; see 'thaw map -h'", rest))
	}
	since, err := parseSince(*sinceText)
	if err != nil {
		return usageError(fmt.Sprintf("--since %q: %v; see 'thaw map -h'", *sinceText, err))
	}
	base, err := serverURL(*server)
	if err != nil {
		return err
	}
	end := c.now()
	start, stop := apiTime(end.Add(-since)), apiTime(end)
	out, err := xrayapi.NewClient(base, c.hc).GetServiceGraph(ctx, xrayapi.GetServiceGraphInput{StartTime: &start, EndTime: &stop})
	if err != nil {
		return explainServerError(err, base)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out.Services) == 0 {
		fmt.Fprintf(stdout, "no services in the last %s on %s\n", *sinceText, base)
		return nil
	}
	return renderMap(stdout, out.Services)
}

// renderMap prints one block per service: the service's own figures, then
// a line per call it makes, with the caller-side figures of that edge.
func renderMap(w io.Writer, services []xrayapi.Service) error {
	byRef := make(map[int]xrayapi.Service, len(services))
	for _, s := range services {
		byRef[s.ReferenceID] = s
	}
	order := slices.Clone(services)
	slices.SortStableFunc(order, func(a, b xrayapi.Service) int {
		// Entry points first, then by name; client nodes are shown as
		// their edges into the entry points.
		return cmpBool(b.Root, a.Root)*2 + strings.Compare(a.Name, b.Name)
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tTYPE\tREQUESTS\tp50\tp95\tERRORS\tFAULTS\tTHROTTLES")
	for _, s := range order {
		if s.Type == "client" {
			continue
		}
		name := cleanText(s.Name)
		if s.Root {
			name = "▶ " + name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, shortType(s.Type), figures(s.SummaryStatistics, s.ResponseTimeHistogram))
		for _, e := range s.Edges {
			callee, ok := byRef[e.ReferenceID]
			if !ok {
				continue
			}
			fmt.Fprintf(tw, "  → %s\t%s\t%s\n", cleanText(callee.Name), shortType(callee.Type), figures(e.SummaryStatistics, e.ResponseTimeHistogram))
		}
	}
	return tw.Flush()
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// figures formats requests, p50, p95 and the error, fault and throttle
// rates of a node or edge.
func figures(st *xrayapi.Statistics, hist []xrayapi.HistogramEntry) string {
	if st == nil || st.TotalCount == 0 {
		return "-\t-\t-\t-\t-\t-"
	}
	rate := func(n int64) string { return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(st.TotalCount)) }
	return fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s", st.TotalCount,
		latency(quantile(hist, 0.5)), latency(quantile(hist, 0.95)),
		rate(st.ErrorStatistics.OtherCount), rate(st.FaultStatistics.TotalCount), rate(st.ErrorStatistics.ThrottleCount))
}

// quantile reads the q-quantile, in seconds, off a histogram; NaN when it
// is empty.
func quantile(hist []xrayapi.HistogramEntry, q float64) float64 {
	h := slices.Clone(hist)
	slices.SortFunc(h, func(a, b xrayapi.HistogramEntry) int {
		switch {
		case a.Value < b.Value:
			return -1
		case a.Value > b.Value:
			return 1
		}
		return 0
	})
	var total int64
	for _, e := range h {
		total += e.Count
	}
	if total == 0 {
		return math.NaN()
	}
	rank := int64(math.Ceil(q * float64(total)))
	var seen int64
	for _, e := range h {
		if seen += e.Count; seen >= rank {
			return e.Value
		}
	}
	return h[len(h)-1].Value
}

func latency(sec float64) string {
	if math.IsNaN(sec) {
		return "-"
	}
	if sec < 1 {
		return fmt.Sprintf("%.1fms", sec*1000)
	}
	return fmt.Sprintf("%.2fs", sec)
}

// shortType drops the AWS:: prefix: Lambda::Function, DynamoDB::Table.
func shortType(t string) string {
	if t == "" {
		return "-"
	}
	return strings.TrimPrefix(t, "AWS::")
}
