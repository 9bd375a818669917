package xrayapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Client calls an X-Ray-compatible HTTP API: thaw's own server, or anything
// that speaks the REST-JSON protocol of spec/xray.md §4.1 without requiring
// SigV4 signatures. thaw's client subcommands use it, so they work against a
// remote server. A Client is safe for concurrent use.
type Client struct {
	baseURL string
	hc      *http.Client
}

// NewClient returns a Client for the API served at baseURL (for example
// "http://127.0.0.1:2000"; a path prefix is kept). A nil hc means
// http.DefaultClient, which has no timeout: callers that want one bound ctx
// or pass their own client.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), hc: hc}
}

// APIError is an error answer from the server: a non-2xx status with the
// X-Ray error shape (header X-Amzn-ErrorType, body {"__type", "message"}).
// Type is empty when the answer named none, as a proxy's error page would.
type APIError struct {
	Status  int    // HTTP status code
	Type    string // error code, e.g. "InvalidRequestException"
	Message string
}

// Error returns "Type: Message", or "HTTP Status: Message" without a Type.
func (e *APIError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}
	return e.Type + ": " + e.Message
}

// PutTraceSegments sends segment documents, each one JSON document as a
// string (POST /TraceSegments). Documents the server rejected are listed in
// the answer's UnprocessedTraceSegments; that is not an error.
func (c *Client) PutTraceSegments(ctx context.Context, docs []string) (*PutTraceSegmentsOutput, error) {
	var out PutTraceSegmentsOutput
	in := PutTraceSegmentsInput{TraceSegmentDocuments: docs}
	if err := c.call(ctx, "/TraceSegments", in, &out); err != nil {
		return nil, fmt.Errorf("put trace segments: %w", err)
	}
	return &out, nil
}

// BatchGetTraces fetches whole traces by id (POST /Traces). Unknown ids are
// missing from the answer's Traces rather than an error.
func (c *Client) BatchGetTraces(ctx context.Context, in BatchGetTracesInput) (*BatchGetTracesOutput, error) {
	var out BatchGetTracesOutput
	if err := c.call(ctx, "/Traces", in, &out); err != nil {
		return nil, fmt.Errorf("batch get traces: %w", err)
	}
	return &out, nil
}

// GetTraceSummaries fetches one page of trace summaries (POST
// /TraceSummaries), newest first. The caller follows NextToken for more.
func (c *Client) GetTraceSummaries(ctx context.Context, in GetTraceSummariesInput) (*GetTraceSummariesOutput, error) {
	var out GetTraceSummariesOutput
	if err := c.call(ctx, "/TraceSummaries", in, &out); err != nil {
		return nil, fmt.Errorf("get trace summaries: %w", err)
	}
	return &out, nil
}

// GetServiceGraph fetches the service graph of a time range (POST
// /ServiceGraph).
func (c *Client) GetServiceGraph(ctx context.Context, in GetServiceGraphInput) (*GetServiceGraphOutput, error) {
	var out GetServiceGraphOutput
	if err := c.call(ctx, "/ServiceGraph", in, &out); err != nil {
		return nil, fmt.Errorf("get service graph: %w", err)
	}
	return &out, nil
}

// GetSamplingRules fetches all sampling rules (POST /GetSamplingRules), in
// the order the server keeps them.
func (c *Client) GetSamplingRules(ctx context.Context) (*GetSamplingRulesOutput, error) {
	var out GetSamplingRulesOutput
	if err := c.call(ctx, "/GetSamplingRules", struct{}{}, &out); err != nil {
		return nil, fmt.Errorf("get sampling rules: %w", err)
	}
	return &out, nil
}

// CreateSamplingRule adds a sampling rule (POST /CreateSamplingRule) and
// returns it as the server stored it.
func (c *Client) CreateSamplingRule(ctx context.Context, in CreateSamplingRuleInput) (*CreateSamplingRuleOutput, error) {
	var out CreateSamplingRuleOutput
	if err := c.call(ctx, "/CreateSamplingRule", in, &out); err != nil {
		return nil, fmt.Errorf("create sampling rule: %w", err)
	}
	return &out, nil
}

// UpdateSamplingRule changes the members of a rule that in sets (POST
// /UpdateSamplingRule) and returns the rule as it now is.
func (c *Client) UpdateSamplingRule(ctx context.Context, in UpdateSamplingRuleInput) (*UpdateSamplingRuleOutput, error) {
	var out UpdateSamplingRuleOutput
	if err := c.call(ctx, "/UpdateSamplingRule", in, &out); err != nil {
		return nil, fmt.Errorf("update sampling rule: %w", err)
	}
	return &out, nil
}

// DeleteSamplingRule removes a rule (POST /DeleteSamplingRule) and returns
// the deleted rule.
func (c *Client) DeleteSamplingRule(ctx context.Context, in DeleteSamplingRuleInput) (*DeleteSamplingRuleOutput, error) {
	var out DeleteSamplingRuleOutput
	if err := c.call(ctx, "/DeleteSamplingRule", in, &out); err != nil {
		return nil, fmt.Errorf("delete sampling rule: %w", err)
	}
	return &out, nil
}

// GetSamplingStatisticSummaries fetches one page of per-rule request and
// sampled counts (POST /SamplingStatisticSummaries). The caller follows
// NextToken for more.
func (c *Client) GetSamplingStatisticSummaries(ctx context.Context, in GetSamplingStatisticSummariesInput) (*GetSamplingStatisticSummariesOutput, error) {
	var out GetSamplingStatisticSummariesOutput
	if err := c.call(ctx, "/SamplingStatisticSummaries", in, &out); err != nil {
		return nil, fmt.Errorf("get sampling statistic summaries: %w", err)
	}
	return &out, nil
}

// maxErrorBody bounds how much of an error answer is read: enough for any
// X-Ray error shape, not a whole HTML page.
const maxErrorBody = 64 << 10

// call POSTs in as JSON to path and decodes a 2xx answer into out; any other
// answer becomes an *APIError.
func (c *Client) call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "thaw")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return decodeAPIError(resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), b)
	}
	// Operations with empty output may answer with an empty body.
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("decode answer from %s: %w", req.URL, err)
	}
	return nil
}

// decodeAPIError builds an APIError from an error answer the way the AWS SDKs
// read one (spec/xray.md §4.1): the code from the header, else the body's
// code or __type, with anything before '#' or after ':' stripped; the message
// from message or Message, else the body text or the status text.
func decodeAPIError(status int, headerType string, body []byte) *APIError {
	var shape struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		CodeCap  string `json:"Code"`
		Message  string `json:"message"`
		MessageC string `json:"Message"`
	}
	isJSON := json.Unmarshal(body, &shape) == nil
	e := &APIError{Status: status}
	for _, t := range []string{headerType, shape.Code, shape.CodeCap, shape.Type} {
		if t != "" {
			e.Type = sanitizeErrorType(t)
			break
		}
	}
	switch {
	case shape.Message != "":
		e.Message = shape.Message
	case shape.MessageC != "":
		e.Message = shape.MessageC
	case !isJSON && len(bytes.TrimSpace(body)) > 0:
		e.Message = errorBodyText(body)
	default:
		e.Message = http.StatusText(status)
	}
	return e
}

// sanitizeErrorType strips a namespace ("aws.xray#Throttled") and a trailing
// URI (":http://...") from an error code.
func sanitizeErrorType(t string) string {
	if i := strings.IndexByte(t, ':'); i >= 0 {
		t = t[:i]
	}
	if i := strings.LastIndexByte(t, '#'); i >= 0 {
		t = t[i+1:]
	}
	return strings.TrimSpace(t)
}

// errorBodyText is a non-JSON error body as a message: trimmed and cut to a
// line's length, on a rune boundary.
func errorBodyText(body []byte) string {
	const limit = 200
	s := strings.TrimSpace(string(body))
	if len(s) <= limit {
		return s
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
