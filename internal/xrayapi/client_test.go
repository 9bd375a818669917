package xrayapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cannedAnswer is what the fake server answers on one path, and what it
// records about the request it got.
type cannedAnswer struct {
	status    int
	errorType string // X-Amzn-ErrorType header, if any
	body      string
}

// newCannedServer serves answers by path and records each request's body.
func newCannedServer(t *testing.T, answers map[string]cannedAnswer) (*httptest.Server, func() []recordedRequest) {
	t.Helper()
	var (
		mu  sync.Mutex
		got []recordedRequest
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read request body: %v", err)
		}
		mu.Lock()
		got = append(got, recordedRequest{
			Method:      r.Method,
			Path:        r.URL.Path,
			ContentType: r.Header.Get("Content-Type"),
			Body:        string(b),
		})
		mu.Unlock()
		a, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if a.errorType != "" {
			w.Header().Set("X-Amzn-ErrorType", a.errorType)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []recordedRequest {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

type recordedRequest struct {
	Method, Path, ContentType, Body string
}

func TestClientPutTraceSegments(t *testing.T) {
	t.Parallel()
	srv, reqs := newCannedServer(t, map[string]cannedAnswer{
		"/TraceSegments": {status: 200, body: `{"UnprocessedTraceSegments":[
			{"Id":"6226467e3f845502","ErrorCode":"InvalidTraceId","Message":"Invalid segment. ErrorCode: InvalidTraceId"}]}`},
	})
	c := NewClient(srv.URL+"/", nil) // a trailing slash must not double up
	doc := `{"id":"6226467e3f845502","name":"a","trace_id":"bad","start_time":1,"end_time":2}`
	got, err := c.PutTraceSegments(t.Context(), []string{doc})
	if err != nil {
		t.Fatalf("PutTraceSegments: %v", err)
	}
	want := &PutTraceSegmentsOutput{UnprocessedTraceSegments: []UnprocessedTraceSegment{{
		ID: "6226467e3f845502", ErrorCode: "InvalidTraceId", Message: "Invalid segment. ErrorCode: InvalidTraceId",
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	wantReq := []recordedRequest{{
		Method: "POST", Path: "/TraceSegments", ContentType: "application/json",
		Body: `{"TraceSegmentDocuments":["{\"id\":\"6226467e3f845502\",\"name\":\"a\",\"trace_id\":\"bad\",\"start_time\":1,\"end_time\":2}"]}`,
	}}
	if diff := cmp.Diff(wantReq, reqs()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestClientBatchGetTraces(t *testing.T) {
	t.Parallel()
	srv, reqs := newCannedServer(t, map[string]cannedAnswer{
		"/Traces": {status: 200, body: `{"Traces":[{"Duration":3.232,"Segments":[
			{"Document":"{\"id\":\"194fcc8747581230\",\"name\":\"Scorekeep\"}","Id":"194fcc8747581230"}],
			"Id":"1-59602603-23fc5b688855d396af79b496"}],"UnprocessedTraceIds":[]}`},
	})
	c := NewClient(srv.URL, srv.Client())
	got, err := c.BatchGetTraces(t.Context(), BatchGetTracesInput{TraceIDs: []string{"1-59602603-23fc5b688855d396af79b496"}})
	if err != nil {
		t.Fatalf("BatchGetTraces: %v", err)
	}
	dur := 3.232
	want := &BatchGetTracesOutput{
		Traces: []Trace{{
			ID: "1-59602603-23fc5b688855d396af79b496", Duration: &dur,
			Segments: []Segment{{ID: "194fcc8747581230", Document: `{"id":"194fcc8747581230","name":"Scorekeep"}`}},
		}},
		UnprocessedTraceIDs: []string{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	if len(reqs()) != 1 || reqs()[0].Body != `{"TraceIds":["1-59602603-23fc5b688855d396af79b496"]}` {
		t.Errorf("requests = %+v, want one POST /Traces with the id", reqs())
	}
}

func TestClientGetTraceSummaries(t *testing.T) {
	t.Parallel()
	srv, reqs := newCannedServer(t, map[string]cannedAnswer{
		"/TraceSummaries": {status: 200, body: `{"TraceSummaries":[{"Id":"1-59602606-a43a1ac52fc7ee0eea12a82c",
			"ResponseTime":0.084,"Duration":0.084,"HasError":false,"HasFault":false,"HasThrottle":false,
			"Http":{"HttpStatus":200,"HttpURL":"http://scorekeep.elasticbeanstalk.com/api/session","HttpMethod":"POST"},
			"ColdStart":true}],
			"ApproximateTime":1499473304.0,"TracesProcessedCount":2,"NextToken":"page2"}`},
	})
	c := NewClient(srv.URL, nil)
	start, end := Time(1499473304), Time(1499476904.5)
	got, err := c.GetTraceSummaries(t.Context(), GetTraceSummariesInput{
		StartTime: &start, EndTime: &end, FilterExpression: `service("Scorekeep")`, NextToken: "page1",
	})
	if err != nil {
		t.Fatalf("GetTraceSummaries: %v", err)
	}
	rt, cold := 0.084, true
	want := &GetTraceSummariesOutput{
		TraceSummaries: []TraceSummary{{
			ID: "1-59602606-a43a1ac52fc7ee0eea12a82c", Duration: &rt, ResponseTime: &rt,
			HTTP:      &HTTP{HTTPStatus: 200, HTTPURL: "http://scorekeep.elasticbeanstalk.com/api/session", HTTPMethod: "POST"},
			ColdStart: &cold,
		}},
		ApproximateTime: 1499473304, TracesProcessedCount: 2, NextToken: "page2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	// Timestamps go out as epoch-second numbers (spec §4.1).
	wantBody := `{"StartTime":1499473304,"EndTime":1499476904.5,"FilterExpression":"service(\"Scorekeep\")","NextToken":"page1"}`
	if len(reqs()) != 1 || reqs()[0].Body != wantBody {
		t.Errorf("requests = %+v, want one with body %s", reqs(), wantBody)
	}
}

func TestClientEmptyAnswer(t *testing.T) {
	t.Parallel()
	srv, _ := newCannedServer(t, map[string]cannedAnswer{"/TraceSegments": {status: 200, body: ""}})
	got, err := NewClient(srv.URL, nil).PutTraceSegments(t.Context(), []string{"{}"})
	if err != nil {
		t.Fatalf("PutTraceSegments with an empty answer: %v", err)
	}
	if diff := cmp.Diff(&PutTraceSegmentsOutput{}, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
}

func TestClientAPIError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  cannedAnswer
		want    *APIError
		wantMsg string
	}{
		{
			name: "header and body",
			answer: cannedAnswer{
				status: 400, errorType: "InvalidRequestException",
				body: `{"__type":"InvalidRequestException","message":"Exceeding maximum query size: 5"}`,
			},
			want:    &APIError{Status: 400, Type: "InvalidRequestException", Message: "Exceeding maximum query size: 5"},
			wantMsg: "batch get traces: InvalidRequestException: Exceeding maximum query size: 5",
		},
		{
			name:    "body only, namespaced type, capitalised message",
			answer:  cannedAnswer{status: 429, body: `{"__type":"com.amazonaws.xray#ThrottledException:http://internal.amazon.com/","Message":"slow down"}`},
			want:    &APIError{Status: 429, Type: "ThrottledException", Message: "slow down"},
			wantMsg: "batch get traces: ThrottledException: slow down",
		},
		{
			name:    "resource not found",
			answer:  cannedAnswer{status: 404, errorType: "ResourceNotFoundException", body: `{"__type":"ResourceNotFoundException","message":"trace not found","ResourceName":"1-5"}`},
			want:    &APIError{Status: 404, Type: "ResourceNotFoundException", Message: "trace not found"},
			wantMsg: "batch get traces: ResourceNotFoundException: trace not found",
		},
		{
			name:    "not the X-Ray shape",
			answer:  cannedAnswer{status: 502, body: "<html>bad gateway</html>\n"},
			want:    &APIError{Status: 502, Message: "<html>bad gateway</html>"},
			wantMsg: "batch get traces: HTTP 502: <html>bad gateway</html>",
		},
		{
			name:    "empty body",
			answer:  cannedAnswer{status: 503},
			want:    &APIError{Status: 503, Message: "Service Unavailable"},
			wantMsg: "batch get traces: HTTP 503: Service Unavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newCannedServer(t, map[string]cannedAnswer{"/Traces": tt.answer})
			_, err := NewClient(srv.URL, nil).BatchGetTraces(t.Context(), BatchGetTracesInput{TraceIDs: []string{"1-5"}})
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("answer %+v: error %v (%T), want an *APIError", tt.answer, err, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer %+v: APIError (-want +got):\n%s", tt.answer, diff)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("answer %+v: message %q, want %q", tt.answer, err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestClientBadAnswer(t *testing.T) {
	t.Parallel()
	srv, _ := newCannedServer(t, map[string]cannedAnswer{"/Traces": {status: 200, body: `{"Traces": [`}})
	_, err := NewClient(srv.URL, nil).BatchGetTraces(t.Context(), BatchGetTracesInput{TraceIDs: []string{"1-5"}})
	var apiErr *APIError
	var syntaxErr *json.SyntaxError
	if err == nil || errors.As(err, &apiErr) || (!errors.As(err, &syntaxErr) && !errors.Is(err, io.ErrUnexpectedEOF)) {
		t.Errorf("truncated JSON answer: error %v, want a decode error", err)
	}
}

func TestClientTransportError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	_, err := NewClient(url, nil).GetTraceSummaries(t.Context(), GetTraceSummariesInput{})
	var apiErr *APIError
	if err == nil || errors.As(err, &apiErr) {
		t.Errorf("closed server: error %v, want a transport error", err)
	}
}

// A rule as the server answers it, and the record it decodes to.
const cannedRuleRecord = `{"SamplingRule":{"RuleName":"orders","RuleARN":"arn:aws:xray:us-east-1:000000000000:sampling-rule/orders",
	"ResourceARN":"*","Priority":100,"FixedRate":0.1,"ReservoirSize":2,"ServiceName":"orders-api","ServiceType":"*",
	"Host":"*","HTTPMethod":"POST","URLPath":"/orders*","Version":1,"Attributes":{}},
	"CreatedAt":1699980000,"ModifiedAt":1699980300.5}`

var cannedRule = SamplingRuleRecord{
	SamplingRule: SamplingRule{
		RuleName: "orders", RuleARN: "arn:aws:xray:us-east-1:000000000000:sampling-rule/orders",
		ResourceARN: "*", Priority: 100, FixedRate: 0.1, ReservoirSize: 2, ServiceName: "orders-api", ServiceType: "*",
		Host: "*", HTTPMethod: "POST", URLPath: "/orders*", Version: 1, Attributes: map[string]string{},
	},
	CreatedAt: 1699980000, ModifiedAt: 1699980300.5,
}

func TestClientGetSamplingRules(t *testing.T) {
	t.Parallel()
	srv, reqs := newCannedServer(t, map[string]cannedAnswer{
		"/GetSamplingRules": {status: 200, body: `{"SamplingRuleRecords":[` + cannedRuleRecord + `]}`},
	})
	got, err := NewClient(srv.URL, nil).GetSamplingRules(t.Context())
	if err != nil {
		t.Fatalf("GetSamplingRules: %v", err)
	}
	want := &GetSamplingRulesOutput{SamplingRuleRecords: []SamplingRuleRecord{cannedRule}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	wantReq := []recordedRequest{{Method: "POST", Path: "/GetSamplingRules", ContentType: "application/json", Body: `{}`}}
	if diff := cmp.Diff(wantReq, reqs()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestClientCreateSamplingRule(t *testing.T) {
	t.Parallel()
	srv, reqs := newCannedServer(t, map[string]cannedAnswer{
		"/CreateSamplingRule": {status: 200, body: `{"SamplingRuleRecord":` + cannedRuleRecord + `}`},
	})
	rule := cannedRule.SamplingRule
	rule.RuleARN, rule.Attributes = "", nil
	got, err := NewClient(srv.URL, nil).CreateSamplingRule(t.Context(), CreateSamplingRuleInput{SamplingRule: rule})
	if err != nil {
		t.Fatalf("CreateSamplingRule: %v", err)
	}
	if diff := cmp.Diff(&CreateSamplingRuleOutput{SamplingRuleRecord: cannedRule}, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	wantReq := []recordedRequest{{
		Method: "POST", Path: "/CreateSamplingRule", ContentType: "application/json",
		Body: `{"SamplingRule":{"RuleName":"orders","RuleARN":"","ResourceARN":"*","Priority":100,"FixedRate":0.1,` +
			`"ReservoirSize":2,"ServiceName":"orders-api","ServiceType":"*","Host":"*","HTTPMethod":"POST",` +
			`"URLPath":"/orders*","Version":1,"Attributes":null}}`,
	}}
	if diff := cmp.Diff(wantReq, reqs()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestClientUpdateSamplingRule(t *testing.T) {
	t.Parallel()
	srv, reqs := newCannedServer(t, map[string]cannedAnswer{
		"/UpdateSamplingRule": {status: 200, body: `{"SamplingRuleRecord":` + cannedRuleRecord + `}`},
	})
	name, rate := "orders", 0.0 // a zero rate is a change, not an absent member
	got, err := NewClient(srv.URL, nil).UpdateSamplingRule(t.Context(), UpdateSamplingRuleInput{
		SamplingRuleUpdate: SamplingRuleUpdate{RuleName: &name, FixedRate: &rate},
	})
	if err != nil {
		t.Fatalf("UpdateSamplingRule: %v", err)
	}
	if diff := cmp.Diff(&UpdateSamplingRuleOutput{SamplingRuleRecord: cannedRule}, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	wantReq := []recordedRequest{{
		Method: "POST", Path: "/UpdateSamplingRule", ContentType: "application/json",
		Body: `{"SamplingRuleUpdate":{"RuleName":"orders","FixedRate":0}}`,
	}}
	if diff := cmp.Diff(wantReq, reqs()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestClientDeleteSamplingRule(t *testing.T) {
	t.Parallel()
	srv, reqs := newCannedServer(t, map[string]cannedAnswer{
		"/DeleteSamplingRule": {status: 200, body: `{"SamplingRuleRecord":` + cannedRuleRecord + `}`},
	})
	name := "orders"
	got, err := NewClient(srv.URL, nil).DeleteSamplingRule(t.Context(), DeleteSamplingRuleInput{RuleName: &name})
	if err != nil {
		t.Fatalf("DeleteSamplingRule: %v", err)
	}
	if diff := cmp.Diff(&DeleteSamplingRuleOutput{SamplingRuleRecord: cannedRule}, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	wantReq := []recordedRequest{{
		Method: "POST", Path: "/DeleteSamplingRule", ContentType: "application/json", Body: `{"RuleName":"orders"}`,
	}}
	if diff := cmp.Diff(wantReq, reqs()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestClientDeleteSamplingRuleNotFound(t *testing.T) {
	t.Parallel()
	srv, _ := newCannedServer(t, map[string]cannedAnswer{
		"/DeleteSamplingRule": {status: 400, errorType: "InvalidRequestException",
			body: `{"__type":"InvalidRequestException","message":"sampling rule \"nope\" not found"}`},
	})
	name := "nope"
	_, err := NewClient(srv.URL, nil).DeleteSamplingRule(t.Context(), DeleteSamplingRuleInput{RuleName: &name})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Type != "InvalidRequestException" {
		t.Fatalf("DeleteSamplingRule of an unknown rule: error %v, want an InvalidRequestException", err)
	}
	if want := `delete sampling rule: InvalidRequestException: sampling rule "nope" not found`; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}

func TestClientGetSamplingStatisticSummaries(t *testing.T) {
	t.Parallel()
	srv, reqs := newCannedServer(t, map[string]cannedAnswer{
		"/SamplingStatisticSummaries": {status: 200, body: `{"SamplingStatisticSummaries":[
			{"RuleName":"orders","Timestamp":1699980300,"RequestCount":120,"BorrowCount":1,"SampledCount":14}],
			"NextToken":"p2"}`},
	})
	tok := "p1"
	got, err := NewClient(srv.URL, nil).GetSamplingStatisticSummaries(t.Context(), GetSamplingStatisticSummariesInput{NextToken: &tok})
	if err != nil {
		t.Fatalf("GetSamplingStatisticSummaries: %v", err)
	}
	next := "p2"
	want := &GetSamplingStatisticSummariesOutput{
		SamplingStatisticSummaries: []SamplingStatisticSummary{{
			RuleName: "orders", Timestamp: 1699980300, RequestCount: 120, BorrowCount: 1, SampledCount: 14,
		}},
		NextToken: &next,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	wantReq := []recordedRequest{{
		Method: "POST", Path: "/SamplingStatisticSummaries", ContentType: "application/json", Body: `{"NextToken":"p1"}`,
	}}
	if diff := cmp.Diff(wantReq, reqs()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}
