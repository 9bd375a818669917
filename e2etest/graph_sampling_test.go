package e2etest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGraphAndSamplingWithAWSCLI drives the service and trace graphs and
// central sampling rules with AWS CLI v2: get-service-graph,
// get-trace-graph, create-sampling-rule and get-sampling-rules, with the
// rule surviving a restart.
func TestGraphAndSamplingWithAWSCLI(t *testing.T) {
	requireAWSCLI(t)
	dir := t.TempDir()
	th := startThaw(t, dir)
	cli := newAWSCLI(t, th.URL)

	now := time.Now()
	traceID, fnID := newTraceID(now), newID()
	fn := segmentDoc(traceID, fnID, "register", now.Add(-400*time.Millisecond), 300*time.Millisecond, map[string]any{
		"origin": "AWS::Lambda::Function",
		"subsegments": []any{map[string]any{
			"id": newID(), "name": "DynamoDB", "namespace": "aws",
			"start_time": epoch(now.Add(-350 * time.Millisecond)), "end_time": epoch(now.Add(-300 * time.Millisecond)),
			"aws": map[string]any{"operation": "PutItem", "table_name": "users"},
		}},
	})
	if un, err := th.API().PutTraceSegments(t.Context(), []string{fn}); err != nil || len(un) != 0 {
		t.Fatalf("PutTraceSegments = %v, %v", un, err)
	}
	req := summariesRequest{StartTime: float64(now.Add(-time.Minute).Unix()), EndTime: float64(now.Add(time.Minute).Unix()), TimeRangeType: "Event"}
	waitForSummaries(t, th.API(), req, func(sums []traceSummary) error {
		if len(sums) != 1 {
			return fmt.Errorf("%d summaries, want 1", len(sums))
		}
		return nil
	})

	start, end := strconv.FormatInt(now.Add(-time.Minute).Unix(), 10), strconv.FormatInt(now.Add(time.Minute).Unix(), 10)
	serviceGraph := &cliCall{name: "get-service-graph", args: []string{"get-service-graph", "--start-time", start, "--end-time", end}}
	traceGraph := &cliCall{name: "get-trace-graph", args: []string{"get-trace-graph", "--trace-ids", traceID}}
	create := &cliCall{name: "create-sampling-rule", args: []string{"create-sampling-rule", "--sampling-rule",
		`{"RuleName":"checkout","ResourceARN":"*","Priority":100,"FixedRate":0.1,"ReservoirSize":2,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"POST","URLPath":"/checkout","Version":1}`}}
	series := &cliCall{name: "get-time-series-service-statistics", args: []string{"get-time-series-service-statistics",
		"--start-time", start, "--end-time", end, "--entity-selector-expression", `service("register")`, "--period", "60"}}
	group := &cliCall{name: "create-group", args: []string{"create-group", "--group-name", "slow-checkout", "--filter-expression", `service("register") AND responsetime > 1`}}
	badGroup := &cliCall{name: "create-group (bad filter)", args: []string{"create-group", "--group-name", "broken", "--filter-expression", `responsetime >`}}
	cli.runAll([]*cliCall{serviceGraph, traceGraph, create, series, group, badGroup})
	var g struct {
		Group struct{ GroupName, GroupARN, FilterExpression string }
	}
	if err := decodeCLI(group, &g); err != nil {
		t.Fatal(err)
	}
	if g.Group.GroupName != "slow-checkout" || g.Group.GroupARN == "" {
		t.Errorf("create-group = %+v, want slow-checkout with an ARN", g.Group)
	}
	if badGroup.res.Err == nil || !strings.Contains(badGroup.res.Stderr, "InvalidRequestException") || !strings.Contains(badGroup.res.Stderr, "col ") {
		t.Errorf("create-group with a broken filter: err %v, stderr %q; want an InvalidRequestException pointing at the column", badGroup.res.Err, badGroup.res.Stderr)
	}
	// group.name in a filter applies the group's own filter expression.
	inGroup := &cliCall{name: "get-trace-summaries (group)", args: []string{"get-trace-summaries", "--start-time", start, "--end-time", end,
		"--filter-expression", `group.name = "slow-checkout" OR service("register")`}}
	notInGroup := &cliCall{name: "get-trace-summaries (group only)", args: []string{"get-trace-summaries", "--start-time", start, "--end-time", end,
		"--filter-expression", `group.name = "slow-checkout"`}}
	cli.runAll([]*cliCall{inGroup, notInGroup})
	for _, tc := range []struct {
		call *cliCall
		want int
	}{{inGroup, 1}, {notInGroup, 0}} { // the trace takes 0.3 s, the group wants over 1 s
		var out struct{ TraceSummaries []struct{ Id string } }
		if err := decodeCLI(tc.call, &out); err != nil {
			t.Fatal(err)
		}
		if len(out.TraceSummaries) != tc.want {
			t.Errorf("%s: %d summaries, want %d", tc.call.name, len(out.TraceSummaries), tc.want)
		}
	}

	var points struct {
		TimeSeriesServiceStatistics []struct {
			ServiceSummaryStatistics struct{ TotalCount int }
		}
	}
	if err := decodeCLI(series, &points); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range points.TimeSeriesServiceStatistics {
		total += p.ServiceSummaryStatistics.TotalCount
	}
	if total != 1 {
		t.Errorf("get-time-series-service-statistics for register = %+v, want the one request in all", points)
	}

	type service struct {
		ReferenceId int
		Name        string
		Type        string
		Edges       []struct{ ReferenceId int }
	}
	// graphOf renders a graph as "name (type) -> callee" lines.
	graphOf := func(call *cliCall) map[string][]string {
		t.Helper()
		var out struct{ Services []service }
		if err := decodeCLI(call, &out); err != nil {
			t.Fatal(err)
		}
		byRef := map[int]service{}
		for _, s := range out.Services {
			byRef[s.ReferenceId] = s
		}
		g := map[string][]string{}
		for _, s := range out.Services {
			key := s.Name + " (" + s.Type + ")"
			g[key] = []string{}
			for _, e := range s.Edges {
				callee := byRef[e.ReferenceId]
				g[key] = append(g[key], callee.Name+" ("+callee.Type+")")
			}
		}
		return g
	}
	want := map[string][]string{
		"register (client)":                {"register (AWS::Lambda::Function)"},
		"register (AWS::Lambda::Function)": {"users (AWS::DynamoDB::Table)"},
		"users (AWS::DynamoDB::Table)":     {},
	}
	for _, call := range []*cliCall{serviceGraph, traceGraph} {
		if got := graphOf(call); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", call.name, got, want)
		}
	}

	var created struct {
		SamplingRuleRecord struct {
			SamplingRule struct{ RuleName, RuleARN string }
		}
	}
	if err := decodeCLI(create, &created); err != nil {
		t.Fatal(err)
	}
	if r := created.SamplingRuleRecord.SamplingRule; r.RuleName != "checkout" || r.RuleARN == "" {
		t.Errorf("create-sampling-rule = %+v, want the checkout rule with an ARN", r)
	}

	// The rule is kept across a restart, ahead of Default by priority.
	th.Interrupt()
	th = startThaw(t, dir)
	cli = newAWSCLI(t, th.URL)
	rules := &cliCall{name: "get-sampling-rules", args: []string{"get-sampling-rules"}}
	groupsAfter := &cliCall{name: "get-groups", args: []string{"get-groups"}}
	cli.runAll([]*cliCall{rules, groupsAfter})
	var gs struct{ Groups []struct{ GroupName string } }
	if err := decodeCLI(groupsAfter, &gs); err != nil {
		t.Fatal(err)
	}
	var groupNames []string
	for _, g := range gs.Groups {
		groupNames = append(groupNames, g.GroupName)
	}
	if fmt.Sprint(groupNames) != "[Default slow-checkout]" {
		t.Errorf("get-groups after a restart = %v, want [Default slow-checkout]", groupNames)
	}
	var got struct {
		SamplingRuleRecords []struct {
			SamplingRule struct {
				RuleName string
				Priority int
			}
		}
	}
	if err := decodeCLI(rules, &got); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got.SamplingRuleRecords {
		names = append(names, r.SamplingRule.RuleName)
	}
	if fmt.Sprint(names) != "[checkout Default]" {
		t.Errorf("get-sampling-rules after a restart = %v, want [checkout Default]", names)
	}
}
