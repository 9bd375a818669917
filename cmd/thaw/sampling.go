package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// runSampling runs `thaw sampling`.
func runSampling(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := &samplingCommand{getenv: getenv, hc: &http.Client{Timeout: clientTimeout}}
	return c.Run(ctx, args, stdout, stderr)
}

// samplingCommand lists and edits the central sampling rules of a running
// thaw: `thaw sampling list|create|update|delete`.
type samplingCommand struct {
	getenv func(string) string
	hc     *http.Client
}

const (
	samplingListSynopsis   = "thaw sampling list [--server URL] [--json]"
	samplingCreateSynopsis = "thaw sampling create NAME --priority N --rate R --reservoir N [--service S] [--service-type T] [--host H] [--method M] [--path P]"
	samplingUpdateSynopsis = "thaw sampling update NAME [--priority N] [--rate R] [--reservoir N] [--service S] [--service-type T] [--host H] [--method M] [--path P]"
	samplingDeleteSynopsis = "thaw sampling delete NAME"
)

const samplingUsage = `usage: thaw sampling <list|create|update|delete> [flags]

List and edit the central sampling rules of a running thaw. SDKs and the
X-Ray daemon fetch them with GetSamplingRules.

  ` + samplingListSynopsis + `
  ` + samplingCreateSynopsis + `
  ` + samplingUpdateSynopsis + `
  ` + samplingDeleteSynopsis + `

Run 'thaw sampling <subcommand> -h' for its flags.
`

// Run dispatches to the subcommand named by args[0].
func (c *samplingCommand) Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, samplingUsage)
		return usageError("sampling needs a subcommand: list, create, update or delete; see 'thaw sampling -h'")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list", "ls":
		return c.list(ctx, rest, stdout, stderr)
	case "create":
		return c.create(ctx, rest, stdout, stderr)
	case "update":
		return c.update(ctx, rest, stdout, stderr)
	case "delete", "rm":
		return c.delete(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stderr, samplingUsage)
		return nil
	}
	return usageError(fmt.Sprintf("sampling: unknown subcommand %q (want list, create, update or delete); see 'thaw sampling -h'", sub))
}

// newSamplingFlags returns the flag set of `thaw sampling <sub>`, with
// --server and --json.
func (c *samplingCommand) newSamplingFlags(sub, synopsis, about string, stderr io.Writer) (fs *flag.FlagSet, server *string, asJSON *bool) {
	fs = flag.NewFlagSet("sampling "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n\n%s\n\n", synopsis, about)
		fs.PrintDefaults()
	}
	server = addServerFlag(fs, c.getenv)
	asJSON = fs.Bool("json", false, "print the server's answer as JSON")
	return fs, server, asJSON
}

// ruleFlags are the members of a rule that create and update set.
type ruleFlags struct {
	priority, reservoir                      *int
	rate                                     *string
	service, serviceType, host, method, path *string
}

// addRuleFlags defines the rule members on fs; match is the default of the
// match fields.
func addRuleFlags(fs *flag.FlagSet, match string) *ruleFlags {
	return &ruleFlags{
		priority:    fs.Int("priority", 0, "rule priority, 1 to 9999; lower is matched first"),
		rate:        fs.String("rate", "", "fixed rate after the reservoir: a fraction (0.05) or a percentage (5%)"),
		reservoir:   fs.Int("reservoir", 0, "requests per second to sample before the fixed rate applies"),
		service:     fs.String("service", match, "service name to match (* and ? wildcards)"),
		serviceType: fs.String("service-type", match, "service type to match, e.g. AWS::Lambda::Function"),
		host:        fs.String("host", match, "host name to match"),
		method:      fs.String("method", match, "HTTP method to match"),
		path:        fs.String("path", match, "URL path to match"),
	}
}

// setFlags names the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// ruleName checks that the positional arguments are one rule name.
func ruleName(sub string, rest []string) (string, error) {
	switch {
	case len(rest) == 0:
		return "", usageError(fmt.Sprintf("sampling %s needs a rule name; see 'thaw sampling %s -h'", sub, sub))
	case len(rest) > 1:
		return "", usageError(fmt.Sprintf("sampling %s takes one rule name, got %q; see 'thaw sampling %s -h'", sub, rest, sub))
	case strings.TrimSpace(rest[0]) == "":
		return "", usageError(fmt.Sprintf("sampling %s: empty rule name; see 'thaw sampling %s -h'", sub, sub))
	}
	return rest[0], nil
}

func (c *samplingCommand) list(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, server, asJSON := c.newSamplingFlags("list", samplingListSynopsis,
		"List the sampling rules of a running thaw in the order it matches them, with each\nrule's requests and sampled requests in the current statistics window.", stderr)
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if len(rest) > 0 {
		return usageError(fmt.Sprintf("sampling list takes no arguments, got %q; see 'thaw sampling list -h'", rest))
	}
	base, err := serverURL(*server)
	if err != nil {
		return err
	}
	client := xrayapi.NewClient(base, c.hc)
	out, err := client.GetSamplingRules(ctx)
	if err != nil {
		return explainServerError(err, base)
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	if len(out.SamplingRuleRecords) == 0 {
		fmt.Fprintf(stderr, "no sampling rules on %s\n", base)
		return nil
	}
	// Statistics are extra: a server without them still lists its rules.
	stats, err := fetchSamplingStats(ctx, client)
	if err != nil {
		fmt.Fprintf(stderr, "thaw: no sampling statistics: %v\n", err)
	}
	return renderSamplingRules(stdout, out.SamplingRuleRecords, stats)
}

// maxStatsPages bounds how many pages of statistics list follows.
const maxStatsPages = 100

// fetchSamplingStats reads every page of GetSamplingStatisticSummaries into
// a map by rule name; nil when the server answered with an error.
func fetchSamplingStats(ctx context.Context, client *xrayapi.Client) (map[string]xrayapi.SamplingStatisticSummary, error) {
	stats := make(map[string]xrayapi.SamplingStatisticSummary)
	var in xrayapi.GetSamplingStatisticSummariesInput
	seen := make(map[string]bool)
	for range maxStatsPages {
		out, err := client.GetSamplingStatisticSummaries(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, s := range out.SamplingStatisticSummaries {
			// Several windows of one rule add up.
			sum := stats[s.RuleName]
			sum.RuleName = s.RuleName
			sum.RequestCount += s.RequestCount
			sum.BorrowCount += s.BorrowCount
			sum.SampledCount += s.SampledCount
			stats[s.RuleName] = sum
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return stats, nil
		}
		if seen[*out.NextToken] {
			return nil, fmt.Errorf("get sampling statistic summaries: the server repeated NextToken %q", *out.NextToken)
		}
		seen[*out.NextToken] = true
		in.NextToken = out.NextToken
	}
	return stats, nil
}

// renderSamplingRules prints one row per rule, in the given order. stats
// nil leaves out the REQUESTS and SAMPLED columns.
func renderSamplingRules(w io.Writer, rules []xrayapi.SamplingRuleRecord, stats map[string]xrayapi.SamplingStatisticSummary) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "PRIORITY\tNAME\tSERVICE\tTYPE\tHOST\tMETHOD\tPATH\tRATE\tRESERVOIR"
	if stats != nil {
		header += "\tREQUESTS\tSAMPLED"
	}
	fmt.Fprintln(tw, header)
	for _, rec := range rules {
		r := rec.SamplingRule
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/s", r.Priority, tableCell(r.RuleName),
			tableCell(r.ServiceName), tableCell(r.ServiceType), tableCell(r.Host), tableCell(r.HTTPMethod),
			tableCell(r.URLPath), percent(r.FixedRate), r.ReservoirSize)
		if stats != nil {
			if s, ok := stats[r.RuleName]; ok {
				fmt.Fprintf(tw, "\t%d\t%d", s.RequestCount, s.SampledCount)
			} else {
				fmt.Fprint(tw, "\t-\t-")
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// percent formats a rate of 0 to 1 as a percentage with no trailing zeros:
// 0.05 is "5%", 0.001 is "0.1%".
func percent(rate float64) string {
	p := math.Round(rate*100*1e4) / 1e4
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}

// parseRate reads --rate: a fraction from 0 to 1, or a percentage.
func parseRate(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
	if err != nil || math.IsNaN(v) {
		return 0, usageError(fmt.Sprintf("--rate %q: want a fraction such as 0.05 or a percentage such as 5%%; see 'thaw sampling -h'", s))
	}
	if pct {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, usageError(fmt.Sprintf("--rate %q: want 0 to 1 (0%% to 100%%); see 'thaw sampling -h'", s))
	}
	return v, nil
}

func (c *samplingCommand) create(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, server, asJSON := c.newSamplingFlags("create", samplingCreateSynopsis,
		"Add a sampling rule. The match fields default to *, matching everything.", stderr)
	rf := addRuleFlags(fs, "*")
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	name, err := ruleName("create", rest)
	if err != nil {
		return err
	}
	set := setFlags(fs)
	var missing []string
	for _, f := range []string{"priority", "rate", "reservoir"} {
		if !set[f] {
			missing = append(missing, "--"+f)
		}
	}
	if len(missing) > 0 {
		return usageError(fmt.Sprintf("sampling create needs %s; see 'thaw sampling create -h'", strings.Join(missing, ", ")))
	}
	rate, err := parseRate(*rf.rate)
	if err != nil {
		return err
	}
	base, err := serverURL(*server)
	if err != nil {
		return err
	}
	out, err := xrayapi.NewClient(base, c.hc).CreateSamplingRule(ctx, xrayapi.CreateSamplingRuleInput{
		SamplingRule: xrayapi.SamplingRule{
			RuleName:      name,
			ResourceARN:   "*",
			Priority:      *rf.priority,
			FixedRate:     rate,
			ReservoirSize: *rf.reservoir,
			ServiceName:   *rf.service,
			ServiceType:   *rf.serviceType,
			Host:          *rf.host,
			HTTPMethod:    *rf.method,
			URLPath:       *rf.path,
			Version:       1,
		},
	})
	if err != nil {
		return explainServerError(err, base)
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stderr, "created sampling rule %q\n", cleanText(name))
	return renderSamplingRules(stdout, []xrayapi.SamplingRuleRecord{out.SamplingRuleRecord}, nil)
}

func (c *samplingCommand) update(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, server, asJSON := c.newSamplingFlags("update", samplingUpdateSynopsis,
		"Change a sampling rule. Only the flags given are changed.", stderr)
	rf := addRuleFlags(fs, "")
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	name, err := ruleName("update", rest)
	if err != nil {
		return err
	}
	set := setFlags(fs)
	upd := xrayapi.SamplingRuleUpdate{RuleName: &name}
	changed := false
	if set["priority"] {
		upd.Priority, changed = rf.priority, true
	}
	if set["rate"] {
		rate, err := parseRate(*rf.rate)
		if err != nil {
			return err
		}
		upd.FixedRate, changed = &rate, true
	}
	if set["reservoir"] {
		upd.ReservoirSize, changed = rf.reservoir, true
	}
	for _, m := range []struct {
		flag string
		val  *string
		dst  **string
	}{
		{"service", rf.service, &upd.ServiceName},
		{"service-type", rf.serviceType, &upd.ServiceType},
		{"host", rf.host, &upd.Host},
		{"method", rf.method, &upd.HTTPMethod},
		{"path", rf.path, &upd.URLPath},
	} {
		if set[m.flag] {
			*m.dst, changed = m.val, true
		}
	}
	if !changed {
		return usageError("sampling update: nothing to change: give --priority, --rate, --reservoir or a match flag; see 'thaw sampling update -h'")
	}
	base, err := serverURL(*server)
	if err != nil {
		return err
	}
	out, err := xrayapi.NewClient(base, c.hc).UpdateSamplingRule(ctx, xrayapi.UpdateSamplingRuleInput{SamplingRuleUpdate: upd})
	if err != nil {
		return explainServerError(err, base)
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stderr, "updated sampling rule %q\n", cleanText(name))
	return renderSamplingRules(stdout, []xrayapi.SamplingRuleRecord{out.SamplingRuleRecord}, nil)
}

func (c *samplingCommand) delete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, server, asJSON := c.newSamplingFlags("delete", samplingDeleteSynopsis, "Remove a sampling rule.", stderr)
	rest, err := parseFlags(fs, args)
	if err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	name, err := ruleName("delete", rest)
	if err != nil {
		return err
	}
	base, err := serverURL(*server)
	if err != nil {
		return err
	}
	out, err := xrayapi.NewClient(base, c.hc).DeleteSamplingRule(ctx, xrayapi.DeleteSamplingRuleInput{RuleName: &name})
	if err != nil {
		return explainServerError(err, base)
	}
	if *asJSON {
		return printJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "deleted sampling rule %q\n", cleanText(cmp.Or(out.SamplingRuleRecord.SamplingRule.RuleName, name)))
	return nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
