package graph

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/thawtrace/thaw/internal/loadgen"
	"github.com/thawtrace/thaw/internal/segment"
)

// figure is one node or edge of a graph with the numbers the spec pins
// down: "Name Type" for a node, "Name Type -> Name Type" for an edge.
type figure struct {
	State                        string
	Root                         bool
	Ok, Err, Throttle, Fault, N  int64
	TotalResponseTime            float64
	Aliases                      []string
	Histogram, DurationHistogram string
}

// figuresOf flattens Services into figures keyed by node or edge.
func figuresOf(ss []Service) map[string]figure {
	label := func(s Service) string { return s.Name + " " + s.Type }
	hist := func(h []HistogramEntry) string {
		var b strings.Builder
		for _, e := range h {
			fmt.Fprintf(&b, "%gx%d ", e.Value, e.Count)
		}
		return strings.TrimSpace(b.String())
	}
	stat := func(f *figure, st Statistics) {
		f.Ok, f.Err, f.Throttle = st.OkCount, st.ErrorStatistics.TotalCount, st.ErrorStatistics.ThrottleCount
		f.Fault, f.N, f.TotalResponseTime = st.FaultStatistics.TotalCount, st.TotalCount, st.TotalResponseTime
	}
	out := map[string]figure{}
	for _, s := range ss {
		f := figure{State: s.State, Root: s.Root}
		if s.SummaryStatistics != nil {
			stat(&f, *s.SummaryStatistics)
			f.Histogram, f.DurationHistogram = hist(s.ResponseTimeHistogram), hist(s.DurationHistogram)
		}
		out[label(s)] = f
		for _, e := range s.Edges {
			ef := figure{Histogram: hist(e.ResponseTimeHistogram)}
			stat(&ef, e.SummaryStatistics)
			for _, a := range e.Aliases {
				ef.Aliases = append(ef.Aliases, a.Name+" "+a.Type)
			}
			out[label(s)+" -> "+label(ss[e.ReferenceID])] = ef
		}
	}
	return out
}

var approx = cmpopts.EquateApprox(0, 1e-9)

func TestFigures(t *testing.T) {
	tests := []struct {
		sample string
		want   map[string]figure
	}{{
		// spec/xray.md §6.5: client → API Gateway → AWS::Lambda →
		// AWS::Lambda::Function → DynamoDB table and a remote API. The
		// remote call's 503 faults the function and API Gateway (502).
		sample: "handwritten-apigateway-lambda-cold.json",
		want: map[string]figure{
			"my-api/Prod client": {State: "unknown"},
			"my-api/Prod client -> my-api/Prod AWS::ApiGateway::Stage": {
				Fault: 1, N: 1, TotalResponseTime: 0.95, Histogram: "0.95x1"},
			"my-api/Prod AWS::ApiGateway::Stage": {State: "active", Root: true,
				Fault: 1, N: 1, TotalResponseTime: 0.95, Histogram: "0.95x1", DurationHistogram: "0.95x1"},
			// Timed by API Gateway's Lambda subsegment (0.010–0.940).
			"my-api/Prod AWS::ApiGateway::Stage -> my-function AWS::Lambda": {
				Ok: 1, N: 1, TotalResponseTime: 0.93, Histogram: "0.93x1", Aliases: []string{"Lambda AWS::Lambda"}},
			"my-function AWS::Lambda": {State: "active",
				Ok: 1, N: 1, TotalResponseTime: 0.915, Histogram: "0.915x1", DurationHistogram: "0.915x1"},
			// Timed by the AWS::Lambda segment (0.020–0.935).
			"my-function AWS::Lambda -> my-function AWS::Lambda::Function": {
				Ok: 1, N: 1, TotalResponseTime: 0.915, Histogram: "0.915x1"},
			"my-function AWS::Lambda::Function": {State: "active",
				Fault: 1, N: 1, TotalResponseTime: 0.53, Histogram: "0.53x1",
				// Initialization starts before the segment (cold start)
				// but ends before it, so end-to-end equals end − start.
				DurationHistogram: "0.53x1"},
			"my-function AWS::Lambda::Function -> orders AWS::DynamoDB::Table": {
				Ok: 1, N: 1, TotalResponseTime: 0.05, Histogram: "0.05x1"},
			"orders AWS::DynamoDB::Table": {State: "unknown",
				Ok: 1, N: 1, TotalResponseTime: 0.05, Histogram: "0.05x1", DurationHistogram: "0.05x1"},
			"my-function AWS::Lambda::Function -> api.example.com remote": {
				Fault: 1, N: 1, TotalResponseTime: 0.44, Histogram: "0.44x1"},
			"api.example.com remote": {State: "unknown",
				Fault: 1, N: 1, TotalResponseTime: 0.44, Histogram: "0.44x1", DurationHistogram: "0.44x1"},
		},
	}, {
		// AWS's own BatchGetTraces example: Scorekeep invokes a Lambda
		// function that publishes to SNS, then saves to DynamoDB. Its
		// inferred DynamoDB and SNS segments are ignored in favour of the
		// calls that infer them.
		sample: "awsdocs-batch-get-traces-response-lambda.json",
		want: map[string]figure{
			"Scorekeep client": {State: "unknown"},
			"Scorekeep client -> Scorekeep AWS::ElasticBeanstalk::Environment": {
				Ok: 1, N: 1, TotalResponseTime: 3.232, Histogram: "3.232x1"},
			"Scorekeep AWS::ElasticBeanstalk::Environment": {State: "active", Root: true,
				Ok: 1, N: 1, TotalResponseTime: 3.232, Histogram: "3.232x1", DurationHistogram: "3.232x1"},
			"Scorekeep AWS::ElasticBeanstalk::Environment -> random-name AWS::Lambda": {
				Ok: 1, N: 1, TotalResponseTime: 2.943, Histogram: "2.943x1", Aliases: []string{"Lambda AWS::Lambda"}},
			"Scorekeep AWS::ElasticBeanstalk::Environment -> scorekeep-user AWS::DynamoDB::Table": {
				Ok: 1, N: 1, TotalResponseTime: 0.079, Histogram: "0.079x1"},
			"random-name AWS::Lambda": {State: "active",
				Ok: 1, N: 1, TotalResponseTime: 2.895, Histogram: "2.895x1", DurationHistogram: "2.895x1"},
			"random-name AWS::Lambda -> random-name AWS::Lambda::Function": {
				Ok: 1, N: 1, TotalResponseTime: 2.895, Histogram: "2.895x1"},
			"random-name AWS::Lambda::Function": {State: "active",
				Ok: 1, N: 1, TotalResponseTime: 1.74, Histogram: "1.74x1", DurationHistogram: "1.74x1"},
			"random-name AWS::Lambda::Function -> SNS AWS::SNS": {
				Ok: 1, N: 1, TotalResponseTime: 0.959, Histogram: "0.959x1"},
			"SNS AWS::SNS": {State: "unknown",
				Ok: 1, N: 1, TotalResponseTime: 0.959, Histogram: "0.959x1", DurationHistogram: "0.959x1"},
			"scorekeep-user AWS::DynamoDB::Table": {State: "unknown",
				Ok: 1, N: 1, TotalResponseTime: 0.079, Histogram: "0.079x1", DurationHistogram: "0.079x1"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			t.Parallel()
			var g Graph
			g.AddTrace(loadSample(t, tt.sample))
			if diff := cmp.Diff(tt.want, figuresOf(g.Services()), approx); diff != "" {
				t.Errorf("graph of %s (-want +got):\n%s", tt.sample, diff)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	// Each document is a root segment of its own trace, so the node
	// counts one entity per case.
	tests := []struct {
		doc                           string
		ok, errOther, throttle, fault int64
	}{
		{`{}`, 1, 0, 0, 0},
		{`{"http":{"response":{"status":200}}}`, 1, 0, 0, 0},
		{`{"error":true}`, 0, 1, 0, 0},
		{`{"http":{"response":{"status":404}}}`, 0, 1, 0, 0},
		{`{"throttle":true,"error":true}`, 0, 0, 1, 0},
		{`{"http":{"response":{"status":429}}}`, 0, 0, 1, 0},
		{`{"fault":true}`, 0, 0, 0, 1},
		{`{"http":{"response":{"status":503}}}`, 0, 0, 0, 1},
		// Fault wins over error and throttle.
		{`{"fault":true,"error":true,"throttle":true,"http":{"response":{"status":429}}}`, 0, 0, 0, 1},
		{`{"error":true,"http":{"response":{"status":500}}}`, 0, 0, 0, 1},
		// In progress: not counted at all.
		{`{"in_progress":true,"fault":true,"end_time":null}`, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		var g Graph
		g.AddTrace(buildTrace(t, doc("1-5759e988-bd862e3fe1be46a994272793", "a000000000000001", "", "svc", 1, 1.5, tt.doc)))
		ss := g.Services()
		i := slices.IndexFunc(ss, func(s Service) bool { return s.Type != TypeClient })
		st := ss[i].SummaryStatistics
		got := []int64{st.OkCount, st.ErrorStatistics.OtherCount, st.ErrorStatistics.ThrottleCount, st.FaultStatistics.TotalCount}
		want := []int64{tt.ok, tt.errOther, tt.throttle, tt.fault}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got ok/error/throttle/fault %v, want %v", tt.doc, got, want)
		}
		n := tt.ok + tt.errOther + tt.throttle + tt.fault
		if st.TotalCount != n || st.ErrorStatistics.TotalCount != tt.errOther+tt.throttle ||
			st.FaultStatistics.OtherCount != tt.fault || st.TotalResponseTime != 0.5*float64(n) {
			t.Errorf("%s: inconsistent statistics %+v", tt.doc, *st)
		}
	}
}

// doc returns a segment document with the given fields merged with the
// JSON object extra.
func doc(traceID, id, parent, name string, start, end float64, extra string) string {
	m := map[string]any{"trace_id": traceID, "id": id, "name": name, "start_time": start, "end_time": end}
	if parent != "" {
		m["parent_id"] = parent
	}
	var x map[string]any
	if err := json.Unmarshal([]byte(extra), &x); err != nil {
		panic(err)
	}
	for k, v := range x {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestMergeEqualsAddingBoth(t *testing.T) {
	t.Parallel()
	traces := []*segment.Trace{
		loadSample(t, "awsdocs-batch-get-traces-response-lambda.json"),
		loadSample(t, "handwritten-apigateway-lambda-cold.json"),
		loadSample(t, "iatk-lambda-cold-start-with-links-trace.json"),
		loadSample(t, "iatk-stepfunctions-express-trace.json"),
	}
	gen := loadgen.New(7)
	start := time.Unix(1716560306, 0)
	for i := range 40 {
		traces = append(traces, generated(t, gen, start.Add(time.Duration(i)*time.Second)))
	}

	var all Graph
	for _, tr := range traces {
		all.AddTrace(tr)
	}
	want := all.Services()

	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 5 {
		perm := rng.Perm(len(traces))
		// Split the shuffled traces into 3 graphs, merged in turn.
		parts := make([]Graph, 3)
		for i, p := range perm {
			parts[i%3].AddTrace(traces[p])
		}
		var merged Graph
		for _, i := range rng.Perm(3) {
			merged.Merge(&parts[i])
		}
		if diff := cmp.Diff(want, merged.Services()); diff != "" {
			t.Errorf("round %d: merged graph differs from one built from all traces (-want +got):\n%s", round, diff)
		}
	}

	// Merging leaves the source alone and shares nothing with it.
	c := all.Clone()
	c.Merge(&all)
	if diff := cmp.Diff(want, all.Services()); diff != "" {
		t.Errorf("merging into a clone changed the source:\n%s", diff)
	}
	var twice Graph
	for range 2 {
		for _, tr := range traces {
			twice.AddTrace(tr)
		}
	}
	if diff := cmp.Diff(twice.Services(), c.Services()); diff != "" {
		t.Errorf("clone merged with its source differs from adding every trace twice:\n%s", diff)
	}
}

func generated(t testing.TB, gen *loadgen.Generator, start time.Time) *segment.Trace {
	t.Helper()
	lt := gen.Trace(start)
	var docs []segment.Document
	for _, raw := range lt.Docs {
		d, errs := segment.Decode(raw, 0)
		if len(errs) > 0 {
			t.Fatalf("decode generated %s: %v", raw, errs[0])
		}
		docs = append(docs, d...)
	}
	return segment.Assemble(docs[0].TraceID, docs)
}

func TestDocumentOrderDoesNotMatter(t *testing.T) {
	t.Parallel()
	for _, name := range goldenSamples {
		bodies := sampleBodies(t, name)
		var want Graph
		want.AddTrace(buildTrace(t, bodies...))
		slices.Reverse(bodies)
		var got Graph
		got.AddTrace(buildTrace(t, bodies...))
		if diff := cmp.Diff(want.Services(), got.Services()); diff != "" {
			t.Errorf("%s: documents in reverse order give another graph (-want +got):\n%s", name, diff)
		}
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	var g Graph
	if got := g.Services(); got == nil || len(got) != 0 {
		t.Errorf("Services of an empty graph = %#v, want empty and non-nil", got)
	}
	g.Merge(&Graph{})
	g.AddTrace(&segment.Trace{})
	if n := g.Len(); n != 0 {
		t.Errorf("Len = %d after adding nothing", n)
	}
}

func TestInProgressCallKeepsNodeUncounted(t *testing.T) {
	t.Parallel()
	const tid = "1-5759e988-bd862e3fe1be46a994272793"
	tr := buildTrace(t,
		doc(tid, "a000000000000001", "", "front", 10, 0, `{"in_progress":true,"end_time":null}`),
		`{"type":"subsegment","trace_id":"`+tid+`","id":"b000000000000001","parent_id":"a000000000000001","name":"backend.example.com","namespace":"remote","start_time":10.1,"in_progress":true}`,
	)
	var g Graph
	g.AddTrace(tr)
	got := figuresOf(g.Services())
	want := map[string]figure{
		"front ":                               {State: "active", Root: true},
		"front client":                         {State: "unknown"},
		"front client -> front ":               {},
		"front  -> backend.example.com remote": {},
		"backend.example.com remote":           {State: "unknown"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("in-progress trace (-want +got):\n%s", diff)
	}
}

func TestHistogramBounded(t *testing.T) {
	t.Parallel()
	var h histogram
	for ms := range 5000 {
		h.add(float64(ms) / 1e3)
	}
	e := h.entries()
	if len(e) > 2*maxDistinct {
		t.Errorf("%d entries for 5000 distinct values, want at most %d", len(e), 2*maxDistinct)
	}
	var n int64
	for _, x := range e {
		n += x.Count
	}
	if n != 5000 {
		t.Errorf("histogram counts %d values, want 5000", n)
	}

	// 300 distinct values: kept exactly in the graph, rounded in the answer.
	var small histogram
	for ms := range 300 {
		small.add(float64(ms) / 1e3)
	}
	if small.coarse || len(small.counts) != 300 {
		t.Errorf("300 values: coarse=%v, %d kept; want exact", small.coarse, len(small.counts))
	}
	if got := len(small.entries()); got >= 300 || got == 0 {
		t.Errorf("300 values: %d entries, want them merged", got)
	}

	for _, tt := range []struct{ in, want int64 }{{0, 0}, {7, 7}, {99, 99}, {123, 120}, {125, 130}, {1949, 1900}, {1950, 2000}, {98765, 99000}} {
		if got := twoDigits(tt.in); got != tt.want {
			t.Errorf("twoDigits(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestWireShape checks Services' JSON against AWS's GetServiceGraph
// example: every member thaw writes is one AWS writes, with the same JSON
// type, and counts are integers.
func TestWireShape(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "awsdocs-get-service-graph-response.json"))
	if err != nil {
		t.Fatal(err)
	}
	var aws struct{ Services any }
	if err := json.Unmarshal(b, &aws); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	shapeOf(aws.Services, "Services", want)
	// AccountId is in X-Ray's model but not in the example.
	want["Services[].AccountId"] = "string"
	want["Services[].Edges[].Aliases[]"] = "object"
	want["Services[].Edges[].Aliases[].Name"] = "string"
	want["Services[].Edges[].Aliases[].Names"] = "array"
	want["Services[].Edges[].Aliases[].Names[]"] = "string"
	want["Services[].Edges[].Aliases[].Type"] = "string"

	var g Graph
	for _, name := range goldenSamples {
		g.AddTrace(loadSample(t, name))
	}
	ours, err := json.Marshal(g.Services())
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(ours, &v); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	shapeOf(v, "Services", got)
	for path, kind := range got {
		if want[path] != kind {
			t.Errorf("%s is %s, AWS's example has %q", path, kind, want[path])
		}
	}
	for path, kind := range want {
		if _, ok := got[path]; !ok && kind != "" && !strings.HasSuffix(path, "AccountId") {
			t.Errorf("%s (%s) is missing from thaw's output", path, kind)
		}
	}
}

// shapeOf records the JSON type of every member under path; numbers are
// "int" or "number", as integer members must never be written as
// fractions.
func shapeOf(v any, path string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		out[path] = "object"
		for k, c := range x {
			shapeOf(c, path+"."+k, out)
		}
	case []any:
		out[path] = "array"
		for _, c := range x {
			shapeOf(c, path+"[]", out)
		}
	case float64:
		if old := out[path]; old != "number" {
			out[path] = "int"
			if x != float64(int64(x)) || isTime(path) {
				out[path] = "number"
			}
		}
	case string:
		out[path] = "string"
	case bool:
		out[path] = "bool"
	case nil:
		out[path] = "null"
	}
}

// isTime reports members that are doubles even when whole.
func isTime(path string) bool {
	for _, s := range []string{"StartTime", "EndTime", "TotalResponseTime", "Value"} {
		if strings.HasSuffix(path, "."+s) {
			return true
		}
	}
	return false
}

// TestTracedCallAndClientEdge covers an HTTP call to an instrumented
// service (an edge with an alias instead of an inferred node) and a node
// that is the root of only some traces: its client edge counts those only.
func TestTracedCallAndClientEdge(t *testing.T) {
	t.Parallel()
	const tid1, tid2 = "1-5759e988-bd862e3fe1be46a994272793", "1-5759e988-bd862e3fe1be46a994272794"
	called := buildTrace(t,
		doc(tid1, "a000000000000001", "", "front", 10, 11, `{"subsegments":[
			{"id":"a000000000000002","name":"api.example.com","namespace":"remote","start_time":10.1,"end_time":10.9,
			 "http":{"request":{"traced":true},"response":{"status":429}}}]}`),
		doc(tid1, "b000000000000001", "a000000000000002", "backend", 10.2, 10.8, `{"throttle":true,"error":true}`),
	)
	direct := buildTrace(t, doc(tid2, "b000000000000002", "", "backend", 20, 20.25, `{}`))
	var g Graph
	g.AddTrace(called)
	g.AddTrace(direct)
	want := map[string]figure{
		"front ":                 {State: "active", Root: true, Ok: 1, N: 1, TotalResponseTime: 1, Histogram: "1x1", DurationHistogram: "1x1"},
		"front client":           {State: "unknown"},
		"front client -> front ": {Ok: 1, N: 1, TotalResponseTime: 1, Histogram: "1x1"},
		"front  -> backend ": {Err: 1, Throttle: 1, N: 1, TotalResponseTime: 0.8, Histogram: "0.8x1",
			Aliases: []string{"api.example.com remote"}},
		"backend ": {State: "active", Root: true, Ok: 1, Err: 1, Throttle: 1, N: 2, TotalResponseTime: 0.85,
			Histogram: "0.25x1 0.6x1", DurationHistogram: "0.25x1 0.6x1"},
		"backend client":             {State: "unknown"},
		"backend client -> backend ": {Ok: 1, N: 1, TotalResponseTime: 0.25, Histogram: "0.25x1"},
	}
	if diff := cmp.Diff(want, figuresOf(g.Services()), approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
