package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// defaultServer is where client subcommands find thaw when neither --server
// nor THAW_SERVER says otherwise: the X-Ray daemon's TCP port on loopback,
// where `thaw serve` also answers the API.
const defaultServer = "http://127.0.0.1:2000"

// clientTimeout bounds each API call a client subcommand makes.
const clientTimeout = 30 * time.Second

// runTraces runs `thaw traces`.
func runTraces(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := &tracesCommand{
		getenv: getenv,
		now:    time.Now,
		loc:    time.Local,
		hc:     &http.Client{Timeout: clientTimeout},
	}
	return c.Run(ctx, args, stdout, stderr)
}

// tracesCommand lists recent traces: `thaw traces`. Its fields are the
// process's inputs, so tests can fix them.
type tracesCommand struct {
	getenv func(string) string
	now    func() time.Time
	loc    *time.Location // for the TIME column
	hc     *http.Client
}

const tracesSynopsis = "thaw traces [--server URL] [--since 1h] [--filter EXPR] [--limit 20] [--json]"

// Run parses args and prints the matching traces, newest first.
func (c *tracesCommand) Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("traces", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n\nList recent traces from a running thaw, newest first.\n\n", tracesSynopsis)
		fs.PrintDefaults()
	}
	server := addServerFlag(fs, c.getenv)
	sinceText := fs.String("since", "1h", "how far back to look: a Go duration (90m, 1h30m) or days (2d)")
	filter := fs.String("filter", "", "X-Ray filter expression, e.g. 'service(\"api\") AND responsetime > 1'")
	limit := fs.Int("limit", 20, "most traces to list; 0 lists all")
	asJSON := fs.Bool("json", false, "print the trace summaries as JSON, one per line")
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if len(rest) > 0 {
		return usageError(fmt.Sprintf("traces takes no arguments, got %q (a filter goes in --filter); see 'thaw traces -h'", rest))
	}
	since, err := parseSince(*sinceText)
	if err != nil {
		return usageError(fmt.Sprintf("--since %q: %v; see 'thaw traces -h'", *sinceText, err))
	}
	if *limit < 0 {
		return usageError(fmt.Sprintf("--limit %d: want 0 (all) or more; see 'thaw traces -h'", *limit))
	}
	base, err := serverURL(*server)
	if err != nil {
		return err
	}

	end := c.now()
	sums, err := fetchSummaries(ctx, xrayapi.NewClient(base, c.hc), end.Add(-since), end, *filter, *limit)
	if err != nil {
		return explainServerError(err, base)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, s := range sums {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	}
	if len(sums) == 0 {
		what := "no traces"
		if *filter != "" {
			what += " matching the filter"
		}
		fmt.Fprintf(stderr, "%s in the last %s on %s\n", what, *sinceText, base)
		return nil
	}
	return renderTraceTable(stdout, sums, c.loc)
}

// summaryWindow is the longest time range fetchSummaries asks for in one
// query: thaw, like X-Ray, rejects longer ones (spec/xray.md §4.4.3).
const summaryWindow = 24 * time.Hour

// fetchSummaries asks for the summaries of traces in [start, end), newest
// window first and following NextToken, until limit summaries arrived
// (limit 0: all of them), and returns them newest first.
func fetchSummaries(ctx context.Context, client *xrayapi.Client, start, end time.Time, filter string, limit int) ([]xrayapi.TraceSummary, error) {
	var sums []xrayapi.TraceSummary
	seenTrace := make(map[string]bool)
	full := func() bool { return limit > 0 && len(sums) >= limit }
	for wEnd := end; wEnd.After(start) && !full(); wEnd = wEnd.Add(-summaryWindow) {
		wStart := wEnd.Add(-summaryWindow)
		if wStart.Before(start) {
			wStart = start
		}
		st, et := apiTime(wStart), apiTime(wEnd)
		in := xrayapi.GetTraceSummariesInput{StartTime: &st, EndTime: &et, FilterExpression: filter}
		seenToken := make(map[string]bool)
		for {
			out, err := client.GetTraceSummaries(ctx, in)
			if err != nil {
				return nil, err
			}
			for _, s := range out.TraceSummaries {
				// A trace updated between two pages may come back on both.
				if !seenTrace[s.ID] {
					seenTrace[s.ID] = true
					sums = append(sums, s)
				}
			}
			if out.NextToken == "" || full() {
				break
			}
			if seenToken[out.NextToken] {
				return nil, fmt.Errorf("get trace summaries: the server repeated NextToken %q", out.NextToken)
			}
			seenToken[out.NextToken] = true
			in.NextToken = out.NextToken
		}
	}
	// Pages come newest first, but a server may order within a page by
	// something else; the table promises newest first.
	slices.SortStableFunc(sums, func(a, b xrayapi.TraceSummary) int {
		return summaryTime(b).Compare(summaryTime(a))
	})
	if limit > 0 && len(sums) > limit {
		sums = sums[:limit]
	}
	return sums, nil
}

// renderTraceTable prints summaries as a table, one trace per line, with
// times in loc.
func renderTraceTable(w io.Writer, sums []xrayapi.TraceSummary, loc *time.Location) error {
	layout := "15:04:05"
	day := func(s xrayapi.TraceSummary) string { return summaryTime(s).In(loc).Format(time.DateOnly) }
	for _, s := range sums {
		if day(s) != day(sums[0]) {
			layout = time.DateTime // the list spans days
			break
		}
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, columnGap, ' ', 0)
	fmt.Fprintln(tw, "TIME\tTRACE ID\tENTRY POINT\tMETHOD\tURL\tSTATUS\tRESPONSE\tCOLD")
	for _, s := range sums {
		var method, target string
		if s.HTTP != nil {
			method = strings.ToUpper(s.HTTP.HTTPMethod)
			target = urlCell(s.HTTP.HTTPURL)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			summaryTime(s).In(loc).Format(layout),
			tableCell(s.ID),
			tableCell(entryPoint(s.EntryPoint)),
			tableCell(method),
			tableCell(target),
			statusCell(s),
			responseCell(s.ResponseTime),
			coldCell(s.ColdStart),
		)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// tabwriter pads every cell but the last, leaving trailing blanks on
	// rows whose last cells are empty.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// tableCell is a table cell: a value from the server made safe for the terminal,
// or "-" when empty.
func tableCell(s string) string { return cmp.Or(cleanText(s), "-") }

// urlCell is a URL short enough for a table: without its scheme, or just
// its path when that is still too long.
func urlCell(raw string) string {
	const maxLen = 50
	s := raw
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	if runeLen(s) > maxLen {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			s = u.RequestURI()
		}
	}
	return ellipsize(s, maxLen)
}

// entryPoint is a service's name and short type, e.g. "api (Lambda::Function)".
func entryPoint(id *xrayapi.ServiceID) string {
	if id == nil {
		return ""
	}
	name := id.Name
	if name == "" && len(id.Names) > 0 {
		name = id.Names[0]
	}
	if id.Type == "" {
		return name
	}
	return strings.TrimSpace(name + " (" + shortOrigin(id.Type) + ")")
}

// statusCell is the HTTP status and the trace's fault, error and throttle
// markers.
func statusCell(s xrayapi.TraceSummary) string {
	var parts []string
	if s.HTTP != nil && s.HTTP.HTTPStatus != 0 {
		parts = append(parts, strconv.Itoa(s.HTTP.HTTPStatus))
	}
	if s.HasFault {
		parts = append(parts, "FAULT")
	}
	if s.HasError {
		parts = append(parts, "ERROR")
	}
	if s.HasThrottle {
		parts = append(parts, "THROTTLE")
	}
	return cmp.Or(strings.Join(parts, " "), "-")
}

// responseCell is a response time: milliseconds below a second, else
// seconds.
func responseCell(sec *float64) string {
	if sec == nil {
		return "-"
	}
	if *sec < 1 {
		return strconv.FormatFloat(*sec*1000, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(*sec, 'f', 2, 64) + "s"
}

func coldCell(cold *bool) string {
	switch {
	case cold == nil:
		return ""
	case *cold:
		return "yes"
	default:
		return "no"
	}
}

// summaryTime is when a trace started: its StartTime, or the time in its id
// for servers that omit StartTime (AWS's own examples do).
func summaryTime(s xrayapi.TraceSummary) time.Time {
	if s.StartTime > 0 {
		return epochTime(s.StartTime)
	}
	// "1-5759e988-bd862e3fe1be46a994272793": version, epoch seconds in hex, random.
	if parts := strings.SplitN(s.ID, "-", 3); len(parts) == 3 {
		if sec, err := strconv.ParseInt(parts[1], 16, 64); err == nil {
			return time.Unix(sec, 0)
		}
	}
	return time.Time{}
}

// apiTime converts t to an X-Ray timestamp, to the millisecond.
func apiTime(t time.Time) xrayapi.Time {
	return xrayapi.Time(float64(t.UnixMilli()) / 1e3)
}

// parseSince parses a Go duration, or a whole number of days ("2d").
func parseSince(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, errors.New("want a duration such as 15m, 1h or 2d")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, errors.New("want a duration such as 15m, 1h or 2d")
		}
	}
	if d <= 0 {
		return 0, errors.New("want a positive duration")
	}
	return d, nil
}

// The helpers below are shared by the client subcommands (traces, trace).

// addServerFlag defines --server, defaulting to THAW_SERVER or
// defaultServer.
func addServerFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	return fs.String("server", envOr(getenv, "THAW_SERVER", defaultServer), "URL of the thaw server (env THAW_SERVER)")
}

// parseFlags parses args, allowing flags after positional arguments as in
// `thaw trace ID --json`, and returns the positional ones. Everything after
// "--" is positional.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageError(fmt.Sprintf("%v; see 'thaw %s -h'", err, fs.Name()))
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// Parse stops at the first non-flag, or after "--" which it drops.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// errHelp reports that -h was given and usage printed: the command did what
// was asked and has nothing more to do.
var errHelp = errors.New("help requested")

// serverURL checks a --server value and supplies "http://" when it has no
// scheme, so that "localhost:2000" works.
func serverURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", usageError(fmt.Sprintf("--server %q: want a URL such as %s", s, defaultServer))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// explainServerError adds a hint to errors that mean nothing answered at
// the server's address.
func explainServerError(err error, server string) error {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return fmt.Errorf("%w (is 'thaw serve' running at %s? set --server or THAW_SERVER)", err, server)
	}
	return err
}
