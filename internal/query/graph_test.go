package query_test

import (
	"context"
	"iter"
	"testing"

	"github.com/thawtrace/thaw/internal/query"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// graphReader serves every trace id as one function calling a DynamoDB
// table, and hits for the given ids.
func graphReader(t *testing.T, hits []store.Hit) fakeReader {
	return fakeReader{
		traceDocuments: func(_ context.Context, id segment.TraceID) ([]segment.Document, error) {
			return docsOf(t, `{"trace_id":"`+string(id)+`","id":"a000000000000001","name":"fn","start_time":1700000000.1,"end_time":1700000000.5,
				"subsegments":[{"id":"a000000000000002","name":"dynamodb","namespace":"aws","start_time":1700000000.2,"end_time":1700000000.3,"aws":{"table_name":"users"}}]}`), nil
		},
		summaries: func(context.Context, store.SummaryQuery) iter.Seq2[store.Hit, error] {
			return func(yield func(store.Hit, error) bool) {
				for _, h := range hits {
					if !yield(h, nil) {
						return
					}
				}
			}
		},
	}
}

func TestGetTraceGraph(t *testing.T) {
	t.Parallel()
	s := newService(t, query.DefaultConfig(), graphReader(t, nil))
	out, err := s.GetTraceGraph(t.Context(), xrayapi.GetTraceGraphInput{TraceIDs: []string{traceID(1), traceID(2)}})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, svc := range out.Services {
		if svc.SummaryStatistics != nil {
			counts[svc.Name+"/"+svc.Type] = svc.SummaryStatistics.TotalCount
		}
	}
	if counts["fn/"] != 2 || counts["users/AWS::DynamoDB::Table"] != 2 {
		t.Errorf("node counts = %v, want fn and the users table seen in both traces", counts)
	}
	for _, tc := range []struct {
		name string
		in   xrayapi.GetTraceGraphInput
		want string
	}{
		{"no ids", xrayapi.GetTraceGraphInput{}, "TraceIds is required"},
		{"too many", xrayapi.GetTraceGraphInput{TraceIDs: []string{traceID(1), traceID(2), traceID(3), traceID(4), traceID(5), traceID(6)}}, "Exceeding maximum query size: 5"},
		{"bad id", xrayapi.GetTraceGraphInput{TraceIDs: []string{"nope"}}, `"nope" is not a trace id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GetTraceGraph(t.Context(), tc.in)
			wantInvalidRequest(t, err, tc.want)
		})
	}
}

func TestGetServiceGraph(t *testing.T) {
	t.Parallel()
	hits := newHits(3)
	cfg := query.DefaultConfig()
	s := newService(t, cfg, graphReader(t, hits))
	in := xrayapi.GetServiceGraphInput{StartTime: ptr(xrayapi.Time(base - 60)), EndTime: ptr(xrayapi.Time(base + 60))}
	out, err := s.GetServiceGraph(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range out.Services {
		if svc.Name == "fn" && svc.Type == "" && (svc.SummaryStatistics == nil || svc.SummaryStatistics.TotalCount != 3) {
			t.Errorf("fn node statistics = %+v, want the 3 traces in range", svc.SummaryStatistics)
		}
	}
	if out.StartTime != base-60 || out.EndTime != base+60 {
		t.Errorf("StartTime, EndTime = %v, %v; want the range asked", out.StartTime, out.EndTime)
	}

	cfg.MaxGraphTraces = 2
	small := newService(t, cfg, graphReader(t, hits))
	_, err = small.GetServiceGraph(t.Context(), in)
	wantInvalidRequest(t, err, "holds more than 2 traces")
	grouped := in
	grouped.GroupName = "checkout"
	_, err = s.GetServiceGraph(t.Context(), grouped)
	wantInvalidRequest(t, err, `group "checkout"`)

	// With groups: the graph of a group is built from its traces only.
	hits[0].Summary.HasFault = true
	gs := query.New(query.DefaultConfig(), graphReader(t, hits), fakeGroups{"checkout": "fault"}, nil)
	out, err = gs.GetServiceGraph(t.Context(), grouped)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range out.Services {
		if svc.Name == "fn" && svc.Type == "" && (svc.SummaryStatistics == nil || svc.SummaryStatistics.TotalCount != 1) {
			t.Errorf("fn node in the checkout group's graph = %+v, want the one faulty trace", svc.SummaryStatistics)
		}
	}
}

func TestGetTimeSeriesServiceStatistics(t *testing.T) {
	t.Parallel()
	hits := newHits(3) // events at base+3.25, base+2.25, base+1.25: one 60 s period
	s := newService(t, query.DefaultConfig(), graphReader(t, hits))
	in := func(selector string, period int) xrayapi.GetTimeSeriesServiceStatisticsInput {
		return xrayapi.GetTimeSeriesServiceStatisticsInput{StartTime: ptr(xrayapi.Time(base - 60)), EndTime: ptr(xrayapi.Time(base + 60)),
			EntitySelectorExpression: selector, Period: ptr(period)}
	}
	for _, tc := range []struct {
		selector string
		edge     bool
	}{
		{`service("fn")`, false},
		{`id(name: "users", type: "AWS::DynamoDB::Table")`, false},
		{`edge("fn", "users")`, true},
	} {
		out, err := s.GetTimeSeriesServiceStatistics(t.Context(), in(tc.selector, 60))
		if err != nil {
			t.Fatalf("%s: %v", tc.selector, err)
		}
		if len(out.TimeSeriesServiceStatistics) != 1 {
			t.Fatalf("%s: %d points, want 1 (all three traces in one period)", tc.selector, len(out.TimeSeriesServiceStatistics))
		}
		p := out.TimeSeriesServiceStatistics[0]
		st := p.ServiceSummaryStatistics
		if tc.edge {
			st = p.EdgeSummaryStatistics
		}
		if st == nil || st.TotalCount != 3 || int64(p.Timestamp)%60 != 0 {
			t.Errorf("%s: point %+v, want 3 requests at a period boundary", tc.selector, p)
		}
	}
	for _, tc := range []struct {
		in   xrayapi.GetTimeSeriesServiceStatisticsInput
		want string
	}{
		{in(`service("fn")`, 90), "Period 90 must be a positive multiple of 60"},
		{in(``, 60), "EntitySelectorExpression is required"},
		{in(`service(`, 60), "EntitySelectorExpression: col"},
	} {
		_, err := s.GetTimeSeriesServiceStatistics(t.Context(), tc.in)
		wantInvalidRequest(t, err, tc.want)
	}
}

func TestGetTraceSummariesFilter(t *testing.T) {
	t.Parallel()
	hits := newHits(3)
	hits[1].Summary.HasFault = true
	hits[1].Summary.EntryPoint = nil // no root: ok is absent, not false
	s := newService(t, query.DefaultConfig(), graphReader(t, hits))
	for _, tc := range []struct {
		expr string
		want int
	}{
		{`fault`, 1},
		{`!fault`, 2},
		{`duration = 0.5`, 3},
		{`service("users")`, 3}, // from each trace's own graph
		{`service(id(name: "users", type: "AWS::DynamoDB::Table")) { ok }`, 3},
		{`edge("fn", "users") { responsetime > 0.5 }`, 0}, // the call takes 0.1 s
		{`edge("fn", "users") { responsetime < 0.5 }`, 3},
		{`group.name = "x"`, -1}, // no groups here: an error
	} {
		in := xrayapi.GetTraceSummariesInput{StartTime: ptr(xrayapi.Time(base - 60)), EndTime: ptr(xrayapi.Time(base + 60)), FilterExpression: tc.expr}
		out, err := s.GetTraceSummaries(t.Context(), in)
		if tc.want < 0 {
			if err == nil {
				t.Errorf("%s: no error, want one", tc.expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if len(out.TraceSummaries) != tc.want || out.TracesProcessedCount != 3 {
			t.Errorf("%s: %d summaries of %d processed, want %d of 3", tc.expr, len(out.TraceSummaries), out.TracesProcessedCount, tc.want)
		}
	}
}

// fakeGroups maps group names to their filter expressions.
type fakeGroups map[string]string

func (f fakeGroups) Lookup(key string) (xrayapi.Group, bool) {
	e, ok := f[key]
	return xrayapi.Group{GroupName: key, GroupARN: "arn:aws:xray:us-east-1:000000000000:group/" + key, FilterExpression: e}, ok
}
