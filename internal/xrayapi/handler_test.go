package xrayapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// Fakes: structs with one func field per method. A nil field fails the test
// when called, through the notCalled helpers.

type fakeIngester struct {
	put func(ctx context.Context, raws [][]byte) ([]*segment.Error, error)
}

func (f fakeIngester) PutDocuments(ctx context.Context, raws [][]byte) ([]*segment.Error, error) {
	return f.put(ctx, raws)
}

type fakeQuerier struct {
	batchGetTraces    func(ctx context.Context, in xrayapi.BatchGetTracesInput) (*xrayapi.BatchGetTracesOutput, error)
	getTraceSummaries func(ctx context.Context, in xrayapi.GetTraceSummariesInput) (*xrayapi.GetTraceSummariesOutput, error)
	getServiceGraph   func(ctx context.Context, in xrayapi.GetServiceGraphInput) (*xrayapi.GetServiceGraphOutput, error)
}

func (f fakeQuerier) BatchGetTraces(ctx context.Context, in xrayapi.BatchGetTracesInput) (*xrayapi.BatchGetTracesOutput, error) {
	return f.batchGetTraces(ctx, in)
}

func (f fakeQuerier) GetTraceSummaries(ctx context.Context, in xrayapi.GetTraceSummariesInput) (*xrayapi.GetTraceSummariesOutput, error) {
	return f.getTraceSummaries(ctx, in)
}

func (f fakeQuerier) GetServiceGraph(ctx context.Context, in xrayapi.GetServiceGraphInput) (*xrayapi.GetServiceGraphOutput, error) {
	return f.getServiceGraph(ctx, in)
}

func (f fakeQuerier) GetTimeSeriesServiceStatistics(context.Context, xrayapi.GetTimeSeriesServiceStatisticsInput) (*xrayapi.GetTimeSeriesServiceStatisticsOutput, error) {
	return nil, errors.New("fakeQuerier: GetTimeSeriesServiceStatistics is not used by these tests")
}

func (f fakeQuerier) GetTraceGraph(context.Context, xrayapi.GetTraceGraphInput) (*xrayapi.GetTraceGraphOutput, error) {
	return nil, errors.New("fakeQuerier: GetTraceGraph is not used by these tests")
}

type fakeSampler struct {
	rules   func(ctx context.Context) (*xrayapi.GetSamplingRulesOutput, error)
	targets func(ctx context.Context, in xrayapi.GetSamplingTargetsInput) (*xrayapi.GetSamplingTargetsOutput, error)
}

// fakeGrouper answers nothing: these tests do not manage groups.
type fakeGrouper struct{}

func (fakeGrouper) CreateGroup(context.Context, xrayapi.CreateGroupInput) (*xrayapi.CreateGroupOutput, error) {
	return nil, errors.New("fakeGrouper: not used")
}

func (fakeGrouper) GetGroup(context.Context, xrayapi.GetGroupInput) (*xrayapi.GetGroupOutput, error) {
	return nil, errors.New("fakeGrouper: not used")
}

func (fakeGrouper) GetGroups(context.Context, xrayapi.GetGroupsInput) (*xrayapi.GetGroupsOutput, error) {
	return nil, errors.New("fakeGrouper: not used")
}

func (fakeGrouper) UpdateGroup(context.Context, xrayapi.UpdateGroupInput) (*xrayapi.UpdateGroupOutput, error) {
	return nil, errors.New("fakeGrouper: not used")
}

func (fakeGrouper) DeleteGroup(context.Context, xrayapi.DeleteGroupInput) (*xrayapi.DeleteGroupOutput, error) {
	return nil, errors.New("fakeGrouper: not used")
}

func (f fakeSampler) CreateSamplingRule(context.Context, xrayapi.CreateSamplingRuleInput) (*xrayapi.CreateSamplingRuleOutput, error) {
	return nil, errors.New("fakeSampler: CreateSamplingRule is not used by these tests")
}

func (f fakeSampler) UpdateSamplingRule(context.Context, xrayapi.UpdateSamplingRuleInput) (*xrayapi.UpdateSamplingRuleOutput, error) {
	return nil, errors.New("fakeSampler: UpdateSamplingRule is not used by these tests")
}

func (f fakeSampler) DeleteSamplingRule(context.Context, xrayapi.DeleteSamplingRuleInput) (*xrayapi.DeleteSamplingRuleOutput, error) {
	return nil, errors.New("fakeSampler: DeleteSamplingRule is not used by these tests")
}

func (f fakeSampler) GetSamplingStatisticSummaries(context.Context, xrayapi.GetSamplingStatisticSummariesInput) (*xrayapi.GetSamplingStatisticSummariesOutput, error) {
	return nil, errors.New("fakeSampler: GetSamplingStatisticSummaries is not used by these tests")
}

func (f fakeSampler) GetSamplingRules(ctx context.Context) (*xrayapi.GetSamplingRulesOutput, error) {
	return f.rules(ctx)
}

func (f fakeSampler) GetSamplingTargets(ctx context.Context, in xrayapi.GetSamplingTargetsInput) (*xrayapi.GetSamplingTargetsOutput, error) {
	return f.targets(ctx, in)
}

// fakes bundles the three services; newHandler fills unset methods with
// ones that fail the test.
type fakes struct {
	in fakeIngester
	q  fakeQuerier
	s  fakeSampler
}

func newHandler(t *testing.T, cfg xrayapi.Config, f fakes) *xrayapi.Handler {
	t.Helper()
	if f.in.put == nil {
		f.in.put = func(context.Context, [][]byte) ([]*segment.Error, error) {
			t.Error("unexpected PutDocuments call")
			return nil, nil
		}
	}
	if f.q.batchGetTraces == nil {
		f.q.batchGetTraces = func(context.Context, xrayapi.BatchGetTracesInput) (*xrayapi.BatchGetTracesOutput, error) {
			t.Error("unexpected BatchGetTraces call")
			return &xrayapi.BatchGetTracesOutput{}, nil
		}
	}
	if f.q.getTraceSummaries == nil {
		f.q.getTraceSummaries = func(context.Context, xrayapi.GetTraceSummariesInput) (*xrayapi.GetTraceSummariesOutput, error) {
			t.Error("unexpected GetTraceSummaries call")
			return &xrayapi.GetTraceSummariesOutput{}, nil
		}
	}
	if f.s.rules == nil {
		f.s.rules = func(context.Context) (*xrayapi.GetSamplingRulesOutput, error) {
			t.Error("unexpected GetSamplingRules call")
			return &xrayapi.GetSamplingRulesOutput{}, nil
		}
	}
	if f.s.targets == nil {
		f.s.targets = func(context.Context, xrayapi.GetSamplingTargetsInput) (*xrayapi.GetSamplingTargetsOutput, error) {
			t.Error("unexpected GetSamplingTargets call")
			return &xrayapi.GetSamplingTargetsOutput{}, nil
		}
	}
	return xrayapi.NewHandler(cfg, f.in, f.q, f.s, fakeGrouper{}, nil)
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// post sends body to path and checks what every answer carries.
func post(t *testing.T, h http.Handler, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if id := w.Header().Get("x-amzn-RequestId"); !requestIDPattern.MatchString(id) {
		t.Errorf("POST %s: x-amzn-RequestId = %q, want a UUID", path, id)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("POST %s: Content-Type = %q, want application/json", path, ct)
	}
	return w
}

// apiError is an error answer as a client sees it.
type apiError struct {
	Status     int
	HeaderType string
	Body       map[string]string
}

func errorOf(t *testing.T, w *httptest.ResponseRecorder) apiError {
	t.Helper()
	e := apiError{Status: w.Code, HeaderType: w.Header().Get("X-Amzn-ErrorType")}
	if err := json.Unmarshal(w.Body.Bytes(), &e.Body); err != nil {
		t.Errorf("error body %q is not a JSON object of strings: %v", w.Body, err)
	}
	return e
}

// wantError checks the X-Ray error shape: status, X-Amzn-ErrorType, and a
// body with exactly __type (the same code) and a message containing msg.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, typ, msg string) {
	t.Helper()
	got := errorOf(t, w)
	if !strings.Contains(got.Body["message"], msg) {
		t.Errorf("error message %q does not contain %q", got.Body["message"], msg)
	}
	want := apiError{Status: status, HeaderType: typ, Body: map[string]string{"__type": typ, "message": got.Body["message"]}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error answer (-want +got):\n%s", diff)
	}
}

func TestPutTraceSegments(t *testing.T) {
	t.Parallel()
	var gotRaws []string
	h := newHandler(t, xrayapi.DefaultConfig(), fakes{in: fakeIngester{put: func(_ context.Context, raws [][]byte) ([]*segment.Error, error) {
		for _, r := range raws {
			gotRaws = append(gotRaws, string(r))
		}
		return []*segment.Error{
			{Code: segment.CodeInvalidTraceID, ID: "6226467e3f845502", Reason: "trace_id is missing"},
			{Code: segment.CodeInvalidJSON, Reason: "unexpected end of JSON input"},
		}, nil
	}}})
	w := post(t, h, "/TraceSegments", `{"TraceSegmentDocuments":["{\"id\":\"6226467e3f845502\"}","{","{\"ok\":1}"]}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
	}
	if diff := cmp.Diff([]string{`{"id":"6226467e3f845502"}`, `{`, `{"ok":1}`}, gotRaws); diff != "" {
		t.Errorf("documents passed to the ingester (-want +got):\n%s", diff)
	}
	// Id is omitted when unknown (spec §4.4.1).
	want := `{"UnprocessedTraceSegments":[` +
		`{"Id":"6226467e3f845502","ErrorCode":"InvalidTraceId","Message":"Invalid segment. ErrorCode: InvalidTraceId, Cause: trace_id is missing"},` +
		`{"ErrorCode":"InvalidJSON","Message":"Invalid segment. ErrorCode: InvalidJSON, Cause: unexpected end of JSON input"}]}` + "\n"
	if diff := cmp.Diff(want, w.Body.String()); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestPutTraceSegmentsAllAccepted(t *testing.T) {
	t.Parallel()
	h := newHandler(t, xrayapi.DefaultConfig(), fakes{in: fakeIngester{put: func(context.Context, [][]byte) ([]*segment.Error, error) {
		return nil, nil
	}}})
	w := post(t, h, "/TraceSegments", `{"TraceSegmentDocuments":["{}"], "Unknown": 1}`)
	if w.Code != http.StatusOK || w.Body.String() != `{"UnprocessedTraceSegments":[]}`+"\n" {
		t.Errorf("answer = %d %s, want 200 {\"UnprocessedTraceSegments\":[]}", w.Code, w.Body)
	}
}

// throttled is an overload error as ingest returns it.
type throttled struct{}

func (throttled) Error() string   { return "ingest: queue full; retry later" }
func (throttled) Throttled() bool { return true }

func TestErrors(t *testing.T) {
	t.Parallel()
	putErr := func(err error) fakes {
		return fakes{in: fakeIngester{put: func(context.Context, [][]byte) ([]*segment.Error, error) { return nil, err }}}
	}
	oneDoc := `{"TraceSegmentDocuments":["{}"]}`
	for _, tc := range []struct {
		name    string
		cfg     xrayapi.Config
		fakes   fakes
		path    string
		body    string
		status  int
		errType string
		msg     string
	}{
		{"empty document list", xrayapi.DefaultConfig(), fakes{}, "/TraceSegments", `{"TraceSegmentDocuments":[]}`,
			400, "InvalidRequestException", "TraceSegmentDocuments is required"},
		{"empty body is {}", xrayapi.DefaultConfig(), fakes{}, "/TraceSegments", ``,
			400, "InvalidRequestException", "TraceSegmentDocuments is required"},
		{"body not JSON", xrayapi.DefaultConfig(), fakes{}, "/TraceSegments", `{"TraceSegmentDocuments":`,
			400, "InvalidRequestException", "request body is not valid JSON"},
		{"body not an object", xrayapi.DefaultConfig(), fakes{}, "/TraceSegments", `["{}"]`,
			400, "InvalidRequestException", "request body is a JSON array; it must be a JSON object"},
		{"member of the wrong type", xrayapi.DefaultConfig(), fakes{}, "/TraceSegments", `{"TraceSegmentDocuments":"{}"}`,
			400, "InvalidRequestException", "member TraceSegmentDocuments: string is not a valid []string"},
		{"bad timestamp", xrayapi.DefaultConfig(), fakes{}, "/TraceSummaries", `{"StartTime":"yesterday","EndTime":1}`,
			400, "InvalidRequestException", `timestamp "yesterday" is neither epoch seconds nor ISO-8601`},
		{"body over the limit", xrayapi.Config{MaxRequestBytes: 100, MaxInflightBytes: 100}, fakes{}, "/TraceSegments", `{"TraceSegmentDocuments":["` + strings.Repeat("x", 100) + `"]}`,
			400, "InvalidRequestException", "request body exceeds the 100-byte limit; send fewer documents per call"},
		{"overloaded", xrayapi.DefaultConfig(), putErr(fmt.Errorf("store 1 documents: %w", throttled{})), "/TraceSegments", oneDoc,
			429, "ThrottledException", "queue full; retry later"},
		{"store failure", xrayapi.DefaultConfig(), putErr(errors.New("disk full")), "/TraceSegments", oneDoc,
			500, "InternalFailure", "disk full"},
		{"client gone", xrayapi.DefaultConfig(), putErr(context.Canceled), "/TraceSegments", oneDoc,
			503, "ServiceUnavailable", "context canceled"},
		{"service error kept as is", xrayapi.DefaultConfig(),
			fakes{q: fakeQuerier{batchGetTraces: func(context.Context, xrayapi.BatchGetTracesInput) (*xrayapi.BatchGetTracesOutput, error) {
				return nil, fmt.Errorf("wrapped: %w", xrayapi.InvalidRequest("Exceeding maximum query size: %d", 5))
			}}},
			"/Traces", `{"TraceIds":["a","b","c","d","e","f"]}`,
			400, "InvalidRequestException", "Exceeding maximum query size: 5"},
		{"not implemented", xrayapi.DefaultConfig(), fakes{}, "/TagResource", `{}`,
			400, "InvalidRequestException", "TagResource is not implemented"},
		{"not implemented, empty body", xrayapi.DefaultConfig(), fakes{}, "/GetIndexingRules", ``,
			400, "InvalidRequestException", "GetIndexingRules is not implemented"},
		{"not applicable, with the reason", xrayapi.DefaultConfig(), fakes{}, "/EncryptionConfig", ``,
			400, "InvalidRequestException", "GetEncryptionConfig does not apply to thaw: thaw keeps its data on your own disk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHandler(t, tc.cfg, tc.fakes)
			w := post(t, h, tc.path, tc.body)
			wantError(t, w, tc.status, tc.errType, tc.msg)
		})
	}
}

func TestEmptyBodyIsEmptyObject(t *testing.T) {
	t.Parallel()
	var got *xrayapi.GetTraceSummariesInput
	rulesCalled := false
	h := newHandler(t, xrayapi.DefaultConfig(), fakes{
		q: fakeQuerier{getTraceSummaries: func(_ context.Context, in xrayapi.GetTraceSummariesInput) (*xrayapi.GetTraceSummariesOutput, error) {
			got = &in
			return &xrayapi.GetTraceSummariesOutput{TraceSummaries: []xrayapi.TraceSummary{}}, nil
		}},
		s: fakeSampler{rules: func(context.Context) (*xrayapi.GetSamplingRulesOutput, error) {
			rulesCalled = true
			return &xrayapi.GetSamplingRulesOutput{SamplingRuleRecords: []xrayapi.SamplingRuleRecord{}}, nil
		}},
	})
	for _, body := range []string{"", " \n", "{}", `{"NextToken": null}`} {
		rulesCalled = false
		if w := post(t, h, "/GetSamplingRules", body); w.Code != http.StatusOK || !rulesCalled {
			t.Errorf("GetSamplingRules with body %q = %d %s (called %v), want 200", body, w.Code, w.Body, rulesCalled)
		}
	}
	if w := post(t, h, "/TraceSummaries", ""); w.Code != http.StatusOK {
		t.Errorf("GetTraceSummaries with no body = %d %s, want the service's answer", w.Code, w.Body)
	}
	if diff := cmp.Diff(&xrayapi.GetTraceSummariesInput{}, got); diff != "" {
		t.Errorf("input from an empty body (-want +got):\n%s", diff)
	}
	if w := post(t, h, "/TelemetryRecords", ""); w.Code != http.StatusOK || w.Body.String() != "{}\n" {
		t.Errorf("PutTelemetryRecords = %d %q, want 200 {}", w.Code, w.Body)
	}
}

func TestBatchGetTraces(t *testing.T) {
	t.Parallel()
	var got xrayapi.BatchGetTracesInput
	d := 3.232
	h := newHandler(t, xrayapi.DefaultConfig(), fakes{q: fakeQuerier{batchGetTraces: func(_ context.Context, in xrayapi.BatchGetTracesInput) (*xrayapi.BatchGetTracesOutput, error) {
		got = in
		return &xrayapi.BatchGetTracesOutput{
			Traces: []xrayapi.Trace{{ID: "1-59602603-23fc5b688855d396af79b496", Duration: &d,
				Segments: []xrayapi.Segment{{ID: "194fcc8747581230", Document: `{"id":"194fcc8747581230","name":"<a&b>"}`}}}},
			UnprocessedTraceIDs: []string{"bogus"},
		}, nil
	}}})
	w := post(t, h, "/Traces", `{"TraceIds":["1-59602603-23fc5b688855d396af79b496","bogus"]}`)
	if diff := cmp.Diff(xrayapi.BatchGetTracesInput{TraceIDs: []string{"1-59602603-23fc5b688855d396af79b496", "bogus"}}, got); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
	// The document is a JSON string, and HTML characters are not escaped.
	want := `{"Traces":[{"Id":"1-59602603-23fc5b688855d396af79b496","Duration":3.232,"LimitExceeded":false,` +
		`"Segments":[{"Id":"194fcc8747581230","Document":"{\"id\":\"194fcc8747581230\",\"name\":\"<a&b>\"}"}]}],` +
		`"UnprocessedTraceIds":["bogus"]}` + "\n"
	if w.Code != http.StatusOK || w.Body.String() != want {
		t.Errorf("answer = %d\n%s\nwant 200\n%s", w.Code, w.Body, want)
	}
}

// Integer members are written without a decimal point and timestamps as
// numbers: aws-sdk-go-v2 parses integers with Int64() and Node rejects a
// string LastRuleModification (spec §3.4).
func TestSamplingWireNumbers(t *testing.T) {
	t.Parallel()
	quota, interval, ttl := 1, 10, 1700000310.0
	var gotTargets xrayapi.GetSamplingTargetsInput
	h := newHandler(t, xrayapi.DefaultConfig(), fakes{s: fakeSampler{
		rules: func(context.Context) (*xrayapi.GetSamplingRulesOutput, error) {
			return &xrayapi.GetSamplingRulesOutput{SamplingRuleRecords: []xrayapi.SamplingRuleRecord{{
				SamplingRule: xrayapi.SamplingRule{
					RuleName: "Default", RuleARN: "arn:aws:xray:us-east-1:000000000000:sampling-rule/Default",
					ResourceARN: "*", Priority: 10000, FixedRate: 0.05, ReservoirSize: 1,
					ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*",
					Version: 1, Attributes: map[string]string{},
				},
				CreatedAt: 0, ModifiedAt: 1529959993,
			}}}, nil
		},
		targets: func(_ context.Context, in xrayapi.GetSamplingTargetsInput) (*xrayapi.GetSamplingTargetsOutput, error) {
			gotTargets = in
			return &xrayapi.GetSamplingTargetsOutput{
				SamplingTargetDocuments: []xrayapi.SamplingTargetDocument{{
					RuleName: "Default", FixedRate: 0.05, ReservoirQuota: &quota, ReservoirQuotaTTL: &ttl, Interval: &interval,
				}},
				LastRuleModification:  1529959993,
				UnprocessedStatistics: []xrayapi.UnprocessedStatistics{},
			}, nil
		},
	}})

	rules := post(t, h, "/GetSamplingRules", `{"NextToken": null}`).Body.String()
	targets := post(t, h, "/SamplingTargets",
		`{"SamplingStatisticsDocuments":[{"RuleName":"Default","ClientID":"a1b2c3d4e5f60718293a4b5c","RequestCount":31,"SampledCount":2,"BorrowCount":1,"Timestamp":1700000010}]}`).Body.String()
	for _, tc := range []struct{ body, member, want string }{
		{rules, "Priority", "10000"},
		{rules, "ReservoirSize", "1"},
		{rules, "Version", "1"},
		{rules, "FixedRate", "0.05"},
		{rules, "CreatedAt", "0"},
		{rules, "ModifiedAt", "1529959993"},
		{rules, "Attributes", "{}"},
		{targets, "ReservoirQuota", "1"},
		{targets, "Interval", "10"},
		{targets, "ReservoirQuotaTTL", "1700000310"},
		{targets, "LastRuleModification", "1529959993"},
		{targets, "UnprocessedStatistics", "[]"},
	} {
		m := regexp.MustCompile(`"` + tc.member + `":(\{\}|\[\]|[^,}\]]*)`).FindStringSubmatch(tc.body)
		if m == nil || m[1] != tc.want {
			t.Errorf("%s in %s: got %q, want %s", tc.member, tc.body, m, tc.want)
		}
	}
	want := xrayapi.GetSamplingTargetsInput{SamplingStatisticsDocuments: []xrayapi.SamplingStatisticsDocument{{
		RuleName: "Default", ClientID: "a1b2c3d4e5f60718293a4b5c", RequestCount: 31, SampledCount: 2, BorrowCount: 1, Timestamp: 1700000010,
	}}}
	if diff := cmp.Diff(want, gotTargets); diff != "" {
		t.Errorf("targets input (-want +got):\n%s", diff)
	}
}

func TestGetTraceSummariesTimes(t *testing.T) {
	t.Parallel()
	var got xrayapi.GetTraceSummariesInput
	h := newHandler(t, xrayapi.DefaultConfig(), fakes{q: fakeQuerier{getTraceSummaries: func(_ context.Context, in xrayapi.GetTraceSummariesInput) (*xrayapi.GetTraceSummariesOutput, error) {
		got = in
		return &xrayapi.GetTraceSummariesOutput{TraceSummaries: []xrayapi.TraceSummary{}, ApproximateTime: 1530922806.5}, nil
	}}})
	w := post(t, h, "/TraceSummaries", `{"StartTime":"2018-07-07T00:20:06","EndTime":1530922866,"TimeRangeType":"Event"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d %s", w.Code, w.Body)
	}
	start, end := xrayapi.Time(1530922806), xrayapi.Time(1530922866)
	if diff := cmp.Diff(xrayapi.GetTraceSummariesInput{StartTime: &start, EndTime: &end, TimeRangeType: "Event"}, got); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
	if want := `{"TraceSummaries":[],"ApproximateTime":1530922806.5,"TracesProcessedCount":0}` + "\n"; w.Body.String() != want {
		t.Errorf("body = %s, want %s", w.Body, want)
	}
}

func TestTimeUnmarshal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    xrayapi.Time
		wantErr bool
	}{
		{in: `1499394017`, want: 1499394017},
		{in: `1528317567.25`, want: 1528317567.25},
		{in: `1.7e9`, want: 1.7e9},
		{in: `0`, want: 0},
		{in: `null`, want: 42}, // untouched
		{in: `"2018-07-07T00:20:06"`, want: 1530922806},
		{in: `"2018-07-07T00:20:06Z"`, want: 1530922806},
		{in: `"2018-07-07T02:20:06.5+02:00"`, want: 1530922806.5},
		{in: `"2018-07-07"`, want: 1530921600},
		{in: `"1499394017"`, want: 1499394017},
		{in: `"yesterday"`, wantErr: true},
		{in: `"NaN"`, wantErr: true},
		{in: `"Inf"`, wantErr: true},
		{in: `""`, wantErr: true},
		{in: `1e999`, wantErr: true},
		{in: `true`, wantErr: true},
		{in: `{}`, wantErr: true},
	} {
		got := xrayapi.Time(42)
		err := json.Unmarshal([]byte(tc.in), &got)
		switch {
		case tc.wantErr && err == nil:
			t.Errorf("Time from %s = %v, want an error", tc.in, float64(got))
		case !tc.wantErr && err != nil:
			t.Errorf("Time from %s: %v", tc.in, err)
		case !tc.wantErr && got != tc.want:
			t.Errorf("Time from %s = %v, want %v", tc.in, float64(got), float64(tc.want))
		}
	}
	if got := xrayapi.Time(1530922806.5).Time().UTC(); got.Format("2006-01-02T15:04:05.000Z") != "2018-07-07T00:20:06.500Z" {
		t.Errorf("Time(1530922806.5).Time() = %v", got)
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	h := newHandler(t, xrayapi.DefaultConfig(), fakes{})
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/TraceSegments", true},
		{"POST", "/Traces", true},
		{"POST", "/SamplingTargets", true},
		{"POST", "/TagResource", true}, // answered, with "not implemented"
		{"GET", "/", false},
		{"POST", "/NoSuchOperation", false},
		{"GET", "/metrics", false},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		if got := h.Routes(r); got != tc.want {
			t.Errorf("Routes(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if err := xrayapi.DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
	if err := (xrayapi.Config{}).Validate(); err == nil {
		t.Error("Config{}.Validate() = nil, want an error for a zero body limit")
	}
}

// TestPutTraceSegmentsInflightBudget: while bodies worth the whole budget
// are being handled, another call is throttled rather than read into memory.
func TestPutTraceSegmentsInflightBudget(t *testing.T) {
	t.Parallel()
	body := `{"TraceSegmentDocuments":["{}"]}`
	entered, release := make(chan struct{}), make(chan struct{})
	h := newHandler(t, xrayapi.Config{MaxRequestBytes: int64(len(body)), MaxInflightBytes: int64(len(body))}, fakes{in: fakeIngester{
		put: func(context.Context, [][]byte) ([]*segment.Error, error) {
			close(entered)
			<-release
			return nil, nil
		},
	}})
	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- post(t, h, "/TraceSegments", body) }()
	<-entered
	if rec := post(t, h, "/TraceSegments", body); rec.Code != http.StatusTooManyRequests || rec.Header().Get("X-Amzn-ErrorType") != "ThrottledException" {
		t.Errorf("second call while the budget is used: status %d, type %q; want 429 ThrottledException", rec.Code, rec.Header().Get("X-Amzn-ErrorType"))
	}
	close(release)
	if rec := <-first; rec.Code != http.StatusOK {
		t.Errorf("first call: status %d, want 200", rec.Code)
	}
}
