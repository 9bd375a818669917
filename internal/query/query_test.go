package query_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/query"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// fakeReader is a store.Reader whose behaviour each test supplies.
type fakeReader struct {
	traceDocuments func(ctx context.Context, id segment.TraceID) ([]segment.Document, error)
	summaries      func(ctx context.Context, q store.SummaryQuery) iter.Seq2[store.Hit, error]
}

var _ store.Reader = fakeReader{}

func (f fakeReader) TraceDocuments(ctx context.Context, id segment.TraceID) ([]segment.Document, error) {
	return f.traceDocuments(ctx, id)
}

func (f fakeReader) Summary(context.Context, segment.TraceID) (summary.Summary, error) {
	return summary.Summary{}, errors.New("fakeReader: Summary is not used by query")
}

func (f fakeReader) Summaries(ctx context.Context, q store.SummaryQuery) iter.Seq2[store.Hit, error] {
	return f.summaries(ctx, q)
}

// hitsReader serves hits newest first, honouring SummaryQuery.After (the
// cursor is the trace id), and records the queries it got.
type hitsReader struct {
	hits    []store.Hit
	queries []store.SummaryQuery
}

func (h *hitsReader) reader() fakeReader {
	return fakeReader{summaries: func(_ context.Context, q store.SummaryQuery) iter.Seq2[store.Hit, error] {
		h.queries = append(h.queries, q)
		return func(yield func(store.Hit, error) bool) {
			i := 0
			if q.After != nil {
				i = slices.IndexFunc(h.hits, func(h store.Hit) bool { return bytes.Equal(h.Cursor, q.After) }) + 1
			}
			for _, hit := range h.hits[i:] {
				hit.Cursor = bytes.Clone(hit.Cursor) // owned by the caller
				if !yield(hit, nil) {
					return
				}
			}
		}
	}}
}

const base = 1_700_000_000.0 // epoch seconds of the test traces

// traceID returns a valid trace id made from n.
func traceID(n int) string { return fmt.Sprintf("1-%08x-%024x", int(base), n) }

// newHits returns n hits, newest first, one second apart.
func newHits(n int) []store.Hit {
	hits := make([]store.Hit, n)
	for i := range hits {
		id := traceID(i)
		t := base + float64(n-i)
		hits[i] = store.Hit{
			Summary:          summary.Summary{ID: id, StartTime: t, Duration: 0.5, HasDuration: true},
			MatchedEventTime: t + 0.25,
			IndexTime:        t,
			Cursor:           []byte(id),
		}
	}
	return hits
}

func newService(t *testing.T, cfg query.Config, r store.Reader) *query.Service {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate(%+v): %v", cfg, err)
	}
	return query.New(cfg, r, nil, nil)
}

func ptr[T any](v T) *T { return &v }

// wantInvalidRequest checks err is an InvalidRequestException whose message
// contains msg.
func wantInvalidRequest(t *testing.T, err error, msg string) {
	t.Helper()
	var ae *xrayapi.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want an *xrayapi.Error containing %q", err, msg)
	}
	if ae.Type != "InvalidRequestException" || ae.Status != 400 || !strings.Contains(ae.Message, msg) {
		t.Errorf("error = %d %s %q, want 400 InvalidRequestException containing %q", ae.Status, ae.Type, ae.Message, msg)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if err := query.DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
	for _, c := range []query.Config{
		{PageSize: 0, MaxWindow: time.Hour, MaxBatchTraces: 5},
		{PageSize: 1, MaxWindow: 0, MaxBatchTraces: 5},
		{PageSize: 1, MaxWindow: time.Hour, MaxBatchTraces: 0},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
}

// docsOf decodes raw documents as the store returns them.
func docsOf(t testing.TB, raws ...string) []segment.Document {
	t.Helper()
	var out []segment.Document
	for _, r := range raws {
		ds, errs := segment.Decode([]byte(r), 0)
		if len(errs) > 0 {
			t.Fatalf("decode %s: %v", r, errs[0])
		}
		out = append(out, ds...)
	}
	return out
}

func TestBatchGetTracesLimits(t *testing.T) {
	t.Parallel()
	s := newService(t, query.DefaultConfig(), fakeReader{})
	six := []string{traceID(1), traceID(2), traceID(3), traceID(4), traceID(5), traceID(6)}
	for _, tc := range []struct {
		name string
		in   xrayapi.BatchGetTracesInput
		msg  string
	}{
		{"six ids", xrayapi.BatchGetTracesInput{TraceIDs: six}, "Exceeding maximum query size: 5"},
		{"next token", xrayapi.BatchGetTracesInput{TraceIDs: six[:1], NextToken: ptr("abc")}, "NextToken is currently not supported"},
		{"no ids", xrayapi.BatchGetTracesInput{}, "TraceIds is required"},
	} {
		_, err := s.BatchGetTraces(t.Context(), tc.in)
		wantInvalidRequest(t, err, tc.msg)
	}
}

func TestBatchGetTraces(t *testing.T) {
	t.Parallel()
	known := "1-5f2aebcc-b475d14618c51eaa28753d37"
	root := `{"trace_id":"` + known + `","id":"bda182a644eee9b3","name":"web","start_time":1596648396.5,"end_time":1596648397.75}`
	sub := `{"type":"subsegment","trace_id":"` + known + `","id":"00000000000000c1","parent_id":"bda182a644eee9b3","name":"db","start_time":1596648396.6,"end_time":1596648396.7}`
	var asked []segment.TraceID
	r := fakeReader{traceDocuments: func(_ context.Context, id segment.TraceID) ([]segment.Document, error) {
		asked = append(asked, id)
		if string(id) == known {
			return docsOf(t, root, sub), nil
		}
		return nil, store.ErrNotFound
	}}
	s := newService(t, query.DefaultConfig(), r)
	out, err := s.BatchGetTraces(t.Context(), xrayapi.BatchGetTracesInput{
		TraceIDs: []string{strings.ToUpper(known[:2]) + known[2:], traceID(99), "bogus", "1-xyz"},
	})
	if err != nil {
		t.Fatalf("BatchGetTraces: %v", err)
	}
	if diff := cmp.Diff([]segment.TraceID{segment.TraceID(known), segment.TraceID(traceID(99))}, asked); diff != "" {
		t.Errorf("ids read from the store (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bogus", "1-xyz"}, out.UnprocessedTraceIDs); diff != "" {
		t.Errorf("UnprocessedTraceIds (-want +got):\n%s", diff)
	}
	if len(out.Traces) != 1 {
		t.Fatalf("Traces = %+v, want only %s (unknown ids are missing)", out.Traces, known)
	}
	tr := out.Traces[0]
	if tr.ID != known || tr.Duration == nil || *tr.Duration != 1.25 || tr.LimitExceeded {
		t.Errorf("trace = {Id %s, Duration %v, LimitExceeded %v}, want {%s, 1.25, false}", tr.ID, tr.Duration, tr.LimitExceeded, known)
	}
	// The subsegment is nested in its segment: one document.
	if len(tr.Segments) != 1 || tr.Segments[0].ID != "bda182a644eee9b3" {
		t.Fatalf("Segments = %+v, want one, bda182a644eee9b3", tr.Segments)
	}
	var doc struct {
		ID          string `json:"id"`
		Subsegments []struct {
			ID string `json:"id"`
		} `json:"subsegments"`
	}
	if err := json.Unmarshal([]byte(tr.Segments[0].Document), &doc); err != nil || doc.ID != "bda182a644eee9b3" || len(doc.Subsegments) != 1 || doc.Subsegments[0].ID != "00000000000000c1" {
		t.Errorf("Document = %s (%v), want the segment with subsegment 00000000000000c1 nested", tr.Segments[0].Document, err)
	}
}

func TestBatchGetTracesStoreError(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk gone")
	s := newService(t, query.DefaultConfig(), fakeReader{traceDocuments: func(context.Context, segment.TraceID) ([]segment.Document, error) {
		return nil, errDisk
	}})
	// A trace the store cannot read is reported unprocessed; it does not
	// fail the other ids of the call.
	out, err := s.BatchGetTraces(t.Context(), xrayapi.BatchGetTracesInput{TraceIDs: []string{traceID(1)}})
	if err != nil || len(out.Traces) != 0 || len(out.UnprocessedTraceIDs) != 1 || out.UnprocessedTraceIDs[0] != traceID(1) {
		t.Errorf("BatchGetTraces with a store failing with %v = %+v, %v; want %s in UnprocessedTraceIds", errDisk, out, err, traceID(1))
	}
}

func TestGetTraceSummariesInvalid(t *testing.T) {
	t.Parallel()
	s := newService(t, query.DefaultConfig(), fakeReader{summaries: func(context.Context, store.SummaryQuery) iter.Seq2[store.Hit, error] {
		t.Error("store read for an invalid request")
		return func(func(store.Hit, error) bool) {}
	}})
	tm := func(v float64) *xrayapi.Time { x := xrayapi.Time(v); return &x }
	window := func(in xrayapi.GetTraceSummariesInput) xrayapi.GetTraceSummariesInput {
		in.StartTime, in.EndTime = tm(base), tm(base+60)
		return in
	}
	for _, tc := range []struct {
		name string
		in   xrayapi.GetTraceSummariesInput
		msg  string
	}{
		{"no times", xrayapi.GetTraceSummariesInput{}, "StartTime and EndTime are required"},
		{"no end", xrayapi.GetTraceSummariesInput{StartTime: tm(base)}, "StartTime and EndTime are required"},
		{"no start", xrayapi.GetTraceSummariesInput{EndTime: tm(base)}, "StartTime and EndTime are required"},
		{"end before start", xrayapi.GetTraceSummariesInput{StartTime: tm(base), EndTime: tm(base - 1)}, "is before StartTime"},
		{"window over 24 h", xrayapi.GetTraceSummariesInput{StartTime: tm(base), EndTime: tm(base + 25*3600)}, "Time range exceeds the maximum of 24h0m0s (asked: 25h0m0s)"},
		{"window that overflows a Duration", xrayapi.GetTraceSummariesInput{StartTime: tm(0), EndTime: tm(1e300)}, "must be epoch seconds between 0 and"},
		{"negative start", xrayapi.GetTraceSummariesInput{StartTime: tm(-1), EndTime: tm(base)}, "must be epoch seconds between 0 and"},
		{"bad range type", window(xrayapi.GetTraceSummariesInput{TimeRangeType: "Trace"}), `TimeRangeType "Trace" is not one of TraceId, Event, Service`},
		{"broken filter", window(xrayapi.GetTraceSummariesInput{FilterExpression: "responsetime >"}), `FilterExpression "responsetime >": col 15: expected`},
		{"sampling value", window(xrayapi.GetTraceSummariesInput{Sampling: true, SamplingStrategy: &xrayapi.SamplingStrategy{Name: "FixedRate", Value: 1.5}}), "SamplingStrategy.Value 1.5 must be in (0, 1]"},
		{"sampling name", window(xrayapi.GetTraceSummariesInput{Sampling: true, SamplingStrategy: &xrayapi.SamplingStrategy{Name: "Random", Value: 0.5}}), `SamplingStrategy.Name "Random" is not one of`},
		{"garbage token", window(xrayapi.GetTraceSummariesInput{NextToken: "not a token"}), "NextToken does not belong to this query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GetTraceSummaries(t.Context(), tc.in)
			wantInvalidRequest(t, err, tc.msg)
		})
	}
}

// page is what a test compares of one GetTraceSummaries answer.
type page struct {
	IDs       []string
	Processed int64
	HasToken  bool
}

func pageOf(out *xrayapi.GetTraceSummariesOutput) page {
	p := page{Processed: out.TracesProcessedCount, HasToken: out.NextToken != ""}
	for _, ts := range out.TraceSummaries {
		p.IDs = append(p.IDs, ts.ID)
	}
	return p
}

func summariesInput(start, end float64) xrayapi.GetTraceSummariesInput {
	s, e := xrayapi.Time(start), xrayapi.Time(end)
	return xrayapi.GetTraceSummariesInput{StartTime: &s, EndTime: &e}
}

func TestGetTraceSummariesPagination(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 9, 10} {
		t.Run(fmt.Sprint(n, " traces"), func(t *testing.T) {
			t.Parallel()
			h := &hitsReader{hits: newHits(n)}
			cfg := query.DefaultConfig()
			cfg.PageSize = 3
			s := newService(t, cfg, h.reader())
			in := summariesInput(base, base+3600)
			var got, tokens []string
			for range n/3 + 2 {
				out, err := s.GetTraceSummaries(t.Context(), in)
				if err != nil {
					t.Fatalf("page %d: %v", len(tokens)+1, err)
				}
				p := pageOf(out)
				if len(p.IDs) > 3 {
					t.Errorf("page %d holds %d summaries, over the page size 3", len(tokens)+1, len(p.IDs))
				}
				got = append(got, p.IDs...)
				if !p.HasToken {
					break
				}
				if slices.Contains(tokens, out.NextToken) {
					t.Fatalf("token %q returned twice", out.NextToken)
				}
				tokens = append(tokens, out.NextToken)
				in.NextToken = out.NextToken
			}
			var want []string
			for _, h := range newHits(n) {
				want = append(want, h.Summary.ID)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ids over all pages, newest first, each once (-want +got):\n%s", diff)
			}
			// ceil(n/3) pages, each but the last with a token: a full last
			// page has none.
			if wantTokens := max(0, (n+2)/3-1); len(tokens) != wantTokens {
				t.Errorf("%d tokens for %d traces in pages of 3, want %d", len(tokens), n, wantTokens)
			}
			for _, q := range h.queries {
				if !q.Start.Equal(time.Unix(int64(base), 0)) || !q.End.Equal(time.Unix(int64(base)+3600, 0)) || q.Range != store.ByTraceID {
					t.Errorf("store query = %+v, want [base, base+1h) by trace id", q)
				}
			}
		})
	}
}

func TestGetTraceSummariesForeignToken(t *testing.T) {
	t.Parallel()
	h := &hitsReader{hits: newHits(5)}
	cfg := query.DefaultConfig()
	cfg.PageSize = 2
	s := newService(t, cfg, h.reader())
	in := summariesInput(base, base+3600)
	out, err := s.GetTraceSummaries(t.Context(), in)
	if err != nil || out.NextToken == "" {
		t.Fatalf("first page = %+v, %v; want a NextToken", out, err)
	}
	for name, other := range map[string]xrayapi.GetTraceSummariesInput{
		"other start": summariesInput(base+1, base+3600),
		"other end":   summariesInput(base, base+3599),
		"other range": func() xrayapi.GetTraceSummariesInput { i := in; i.TimeRangeType = "Event"; return i }(),
	} {
		other.NextToken = out.NextToken
		_, err := s.GetTraceSummaries(t.Context(), other)
		t.Run(name, func(t *testing.T) { wantInvalidRequest(t, err, "NextToken does not belong to this query") })
	}
}

func TestGetTraceSummariesFixedRate(t *testing.T) {
	t.Parallel()
	h := &hitsReader{hits: newHits(400)}
	cfg := query.DefaultConfig()
	cfg.PageSize = 1000
	s := newService(t, cfg, h.reader())
	in := summariesInput(base, base+3600)
	in.Sampling = true
	in.SamplingStrategy = &xrayapi.SamplingStrategy{Name: "FixedRate", Value: 0.25}
	first, err := s.GetTraceSummaries(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.GetTraceSummaries(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pageOf(first), pageOf(second)); diff != "" {
		t.Errorf("the same sampled query answered differently (-first +second):\n%s", diff)
	}
	if n := len(first.TraceSummaries); n < 60 || n > 140 {
		t.Errorf("FixedRate 0.25 of 400 traces returned %d, want about 100", n)
	}
	if first.TracesProcessedCount != 400 {
		t.Errorf("TracesProcessedCount = %d, want 400 (all scanned)", first.TracesProcessedCount)
	}
	// A larger rate keeps what a smaller one chose: the choice is by id.
	in.SamplingStrategy.Value = 0.5
	half, err := s.GetTraceSummaries(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range pageOf(first).IDs {
		if !slices.Contains(pageOf(half).IDs, id) {
			t.Errorf("trace %s sampled at 0.25 but not at 0.5", id)
		}
	}
}

func TestGetTraceSummariesPartialScan(t *testing.T) {
	t.Parallel()
	h := &hitsReader{}
	s := newService(t, query.DefaultConfig(), h.reader())
	in := summariesInput(base, base+1000)
	in.Sampling = true
	in.SamplingStrategy = &xrayapi.SamplingStrategy{Name: "PartialScan", Value: 0.25}
	if _, err := s.GetTraceSummaries(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if len(h.queries) != 1 || !h.queries[0].Start.Equal(time.Unix(int64(base)+750, 0)) {
		t.Errorf("store queries = %+v, want one starting at base+750 (the newest quarter)", h.queries)
	}
}

func TestGetTraceSummariesMatchedEventTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rangeType string
		want      store.RangeType
		matched   bool
	}{
		{"", store.ByTraceID, false},
		{"TraceId", store.ByTraceID, false},
		{"Event", store.ByEvent, true},
		{"Service", store.ByService, false},
	} {
		h := &hitsReader{hits: newHits(2)}
		s := newService(t, query.DefaultConfig(), h.reader())
		in := summariesInput(base, base+3600)
		in.TimeRangeType = tc.rangeType
		out, err := s.GetTraceSummaries(t.Context(), in)
		if err != nil {
			t.Fatalf("TimeRangeType %q: %v", tc.rangeType, err)
		}
		if h.queries[0].Range != tc.want {
			t.Errorf("TimeRangeType %q: store range %v, want %v", tc.rangeType, h.queries[0].Range, tc.want)
		}
		for i, ts := range out.TraceSummaries {
			var want *float64
			if tc.matched {
				want = ptr(h.hits[i].MatchedEventTime)
			}
			if diff := cmp.Diff(want, ts.MatchedEventTime); diff != "" {
				t.Errorf("TimeRangeType %q: %s MatchedEventTime (-want +got):\n%s", tc.rangeType, ts.ID, diff)
			}
		}
	}
}

func TestGetTraceSummariesStoreError(t *testing.T) {
	t.Parallel()
	errScan := errors.New("corrupt block")
	s := newService(t, query.DefaultConfig(), fakeReader{summaries: func(context.Context, store.SummaryQuery) iter.Seq2[store.Hit, error] {
		return func(yield func(store.Hit, error) bool) {
			if yield(newHits(1)[0], nil) {
				yield(store.Hit{}, errScan)
			}
		}
	}})
	if _, err := s.GetTraceSummaries(t.Context(), summariesInput(base, base+60)); !errors.Is(err, errScan) {
		t.Errorf("GetTraceSummaries with a failing scan = %v, want %v", err, errScan)
	}
}

// Every list member is present (empty, not null) for strict clients.
func TestSummaryWireShape(t *testing.T) {
	t.Parallel()
	h := &hitsReader{hits: newHits(1)}
	h.hits[0].Summary.HasDuration = false
	s := newService(t, query.DefaultConfig(), h.reader())
	out, err := s.GetTraceSummaries(t.Context(), summariesInput(base, base+60))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out.TraceSummaries[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, member := range []string{"Annotations", "Users", "ServiceIds", "ResourceARNs", "InstanceIds", "AvailabilityZones", "FaultRootCauses", "ErrorRootCauses", "ResponseTimeRootCauses"} {
		if v, ok := m[member]; !ok || v == nil {
			t.Errorf("member %s = %v in %s, want an empty list or object", member, v, b)
		}
	}
	if _, ok := m["Duration"]; ok {
		t.Errorf("Duration present in %s for a summary without one", b)
	}
}

func TestSummaryWireValues(t *testing.T) {
	t.Parallel()
	str, num, yes := "5M388M1E", 12.5, true
	sum := summary.Summary{
		ID: traceID(1), StartTime: base, Duration: 3.232, HasDuration: true, ResponseTime: 3.1, HasResponse: true,
		HasError: true, Revision: 2, ColdStart: &yes,
		HTTP: &summary.HTTP{HTTPURL: "http://x/api", HTTPStatus: 200, HTTPMethod: "POST", UserAgent: "ua", ClientIP: "1.2.3.4"},
		Annotations: map[string][]summary.ValueWithServiceIDs{
			"UserID": {{AnnotationValue: summary.AnnotationValue{StringValue: &str}, ServiceIDs: []summary.ServiceID{{Name: "web", Names: []string{"web"}, Type: "AWS::EC2::Instance"}}}},
			"n":      {{AnnotationValue: summary.AnnotationValue{NumberValue: &num}}},
		},
		Users:             []summary.User{{UserName: str}},
		ServiceIDs:        []summary.ServiceID{{Name: "web"}},
		ResourceARNs:      []string{"arn:aws:lambda:us-east-1:1:function:f"},
		InstanceIDs:       []string{"i-1"},
		AvailabilityZones: []string{"us-east-1a"},
		EntryPoint:        &summary.ServiceID{Name: "web", Type: "client"},
	}
	h := &hitsReader{hits: []store.Hit{{Summary: sum, Cursor: []byte("c")}}}
	s := newService(t, query.DefaultConfig(), h.reader())
	out, err := s.GetTraceSummaries(t.Context(), summariesInput(base, base+60))
	if err != nil {
		t.Fatal(err)
	}
	want := xrayapi.TraceSummary{
		ID: traceID(1), StartTime: base, Duration: ptr(3.232), ResponseTime: ptr(3.1), HasError: true, Revision: 2, ColdStart: &yes,
		HTTP: &xrayapi.HTTP{HTTPURL: "http://x/api", HTTPStatus: 200, HTTPMethod: "POST", UserAgent: "ua", ClientIP: "1.2.3.4"},
		Annotations: map[string][]xrayapi.ValueWithServiceIDs{
			"UserID": {{AnnotationValue: xrayapi.AnnotationValue{StringValue: &str}, ServiceIDs: []xrayapi.ServiceID{{Name: "web", Names: []string{"web"}, Type: "AWS::EC2::Instance"}}}},
			"n":      {{AnnotationValue: xrayapi.AnnotationValue{NumberValue: &num}, ServiceIDs: []xrayapi.ServiceID{}}},
		},
		Users:                  []xrayapi.TraceUser{{UserName: str, ServiceIDs: []xrayapi.ServiceID{}}},
		ServiceIDs:             []xrayapi.ServiceID{{Name: "web", Names: []string{}}},
		ResourceARNs:           []xrayapi.ResourceARNDetail{{ARN: "arn:aws:lambda:us-east-1:1:function:f"}},
		InstanceIDs:            []xrayapi.InstanceIDDetail{{ID: "i-1"}},
		AvailabilityZones:      []xrayapi.AvailabilityZoneDetail{{Name: "us-east-1a"}},
		EntryPoint:             &xrayapi.ServiceID{Name: "web", Names: []string{}, Type: "client"},
		FaultRootCauses:        []json.RawMessage{},
		ErrorRootCauses:        []json.RawMessage{},
		ResponseTimeRootCauses: []json.RawMessage{},
	}
	if diff := cmp.Diff([]xrayapi.TraceSummary{want}, out.TraceSummaries); diff != "" {
		t.Errorf("summary on the wire (-want +got):\n%s", diff)
	}
}
