package e2etest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// visibleTimeout bounds how long a document may take to become searchable. thaw aims for
// about 2 s; the margin absorbs a loaded CI machine.
const visibleTimeout = 15 * time.Second

// apiClient speaks thaw's X-Ray HTTP API with plain JSON, the way the stock X-Ray daemon
// does, so that tests see exactly what goes over the wire.
type apiClient struct {
	base string
}

// apiError is a non-200 answer of the X-Ray API.
type apiError struct {
	Op      string
	Status  int
	Type    string // X-Amzn-ErrorType header, or __type from the body
	Message string
	Body    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s: %s (body %s)", e.Op, e.Status, e.Type, e.Message, truncate(e.Body, 300))
}

// httpClient never uses a proxy: every server these tests talk to is on loopback.
var httpClient = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: nil}}

// post sends body to path and decodes a 200 answer into out, or returns an *apiError.
func (c *apiClient) post(ctx context.Context, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("POST %s: read body: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &apiError{Op: "POST " + path, Status: resp.StatusCode, Type: resp.Header.Get("X-Amzn-ErrorType"), Body: string(b)}
		var eb struct {
			Type     string `json:"__type"`
			Message  string `json:"message"`
			Message2 string `json:"Message"`
		}
		if json.Unmarshal(b, &eb) == nil {
			if e.Type == "" {
				e.Type = eb.Type
			}
			e.Message = eb.Message + eb.Message2
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("POST %s: decode %s: %w", path, truncate(string(b), 300), err)
	}
	return nil
}

func (c *apiClient) call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.post(ctx, path, body, out)
}

// unprocessedSegment is one entry of PutTraceSegments' UnprocessedTraceSegments.
type unprocessedSegment struct {
	Id, ErrorCode, Message string
}

// PutTraceSegments sends documents and returns those thaw did not accept.
func (c *apiClient) PutTraceSegments(ctx context.Context, docs []string) ([]unprocessedSegment, error) {
	var out struct {
		UnprocessedTraceSegments *[]unprocessedSegment
	}
	if err := c.call(ctx, "/TraceSegments", map[string]any{"TraceSegmentDocuments": docs}, &out); err != nil {
		return nil, err
	}
	if out.UnprocessedTraceSegments == nil {
		return nil, fmt.Errorf("PutTraceSegments: answer has no UnprocessedTraceSegments list")
	}
	return *out.UnprocessedTraceSegments, nil
}

// mustPut sends documents and fails the test unless every one is accepted.
func mustPut(t *testing.T, c *apiClient, docs ...string) {
	t.Helper()
	un, err := c.PutTraceSegments(t.Context(), docs)
	if err != nil {
		t.Fatal(err)
	}
	if len(un) > 0 {
		t.Fatalf("PutTraceSegments rejected %d of %d documents: %+v", len(un), len(docs), un)
	}
}

// wireTrace is one trace of BatchGetTraces.
type wireTrace struct {
	Id            string
	Duration      *float64
	LimitExceeded *bool
	Segments      []struct{ Id, Document string }
}

// batchGetMax is the AWS limit on trace ids per BatchGetTraces call, thaw's default.
const batchGetMax = 5

// BatchGetTraces fetches traces, batchGetMax ids per call. Unknown ids are left out.
func (c *apiClient) BatchGetTraces(ctx context.Context, ids []string) ([]wireTrace, error) {
	var all []wireTrace
	for len(ids) > 0 {
		n := min(len(ids), batchGetMax)
		var out struct {
			Traces              *[]wireTrace
			UnprocessedTraceIds []string
		}
		if err := c.call(ctx, "/Traces", map[string]any{"TraceIds": ids[:n]}, &out); err != nil {
			return nil, err
		}
		if out.Traces == nil {
			return nil, fmt.Errorf("BatchGetTraces: answer has no Traces list")
		}
		all = append(all, *out.Traces...)
		ids = ids[n:]
	}
	return all, nil
}

// summariesRequest is GetTraceSummaries' input.
type summariesRequest struct {
	StartTime        float64
	EndTime          float64
	TimeRangeType    string `json:",omitempty"`
	FilterExpression string `json:",omitempty"`
	NextToken        string `json:",omitempty"`
}

// serviceID is the X-Ray ServiceId shape.
type serviceID struct {
	Name      string
	Names     []string
	AccountId string
	Type      string
}

// traceSummary is the part of the X-Ray TraceSummary shape these tests check.
type traceSummary struct {
	Id           string
	StartTime    *float64
	Duration     *float64
	ResponseTime *float64
	HasFault     bool
	HasError     bool
	HasThrottle  bool
	IsPartial    bool
	Http         *struct {
		HttpURL    string
		HttpStatus *int
		HttpMethod string
		UserAgent  string
		ClientIp   string
	}
	EntryPoint       *struct{ Name, Type string }
	Annotations      map[string][]json.RawMessage
	ServiceIds       []serviceID
	MatchedEventTime *float64
}

// TraceSummaries follows NextToken to the end and returns every summary and the page count.
func (c *apiClient) TraceSummaries(ctx context.Context, req summariesRequest) ([]traceSummary, int, error) {
	var all []traceSummary
	seen := map[string]bool{}
	for pages := 1; ; pages++ {
		var out struct {
			TraceSummaries *[]traceSummary
			NextToken      string
		}
		if err := c.call(ctx, "/TraceSummaries", req, &out); err != nil {
			return nil, pages, err
		}
		if out.TraceSummaries == nil {
			return nil, pages, fmt.Errorf("GetTraceSummaries: answer has no TraceSummaries list")
		}
		all = append(all, *out.TraceSummaries...)
		if out.NextToken == "" {
			return all, pages, nil
		}
		if seen[out.NextToken] || out.NextToken == req.NextToken {
			return nil, pages, fmt.Errorf("GetTraceSummaries returned NextToken %q twice", out.NextToken)
		}
		if pages > 10000 {
			return nil, pages, fmt.Errorf("GetTraceSummaries: more than 10000 pages")
		}
		seen[out.NextToken] = true
		req.NextToken = out.NextToken
	}
}

// doc is a decoded segment document, or an entity inside one.
type doc = map[string]any

// decodeTrace decodes the Document strings of a trace.
func decodeTrace(tr wireTrace) ([]doc, error) {
	docs := make([]doc, 0, len(tr.Segments))
	for _, s := range tr.Segments {
		var d doc
		if err := json.Unmarshal([]byte(s.Document), &d); err != nil {
			return nil, fmt.Errorf("trace %s segment %s: Document is not a JSON object: %w: %s", tr.Id, s.Id, err, truncate(s.Document, 300))
		}
		if id, _ := d["id"].(string); id != s.Id {
			return nil, fmt.Errorf("trace %s: Segments entry Id %q but its Document has id %q", tr.Id, s.Id, id)
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// waitForTrace polls BatchGetTraces until the trace exists and ready accepts its documents,
// and returns them. It fails the test with ready's last complaint at the deadline.
func waitForTrace(t *testing.T, c *apiClient, id string, ready func([]doc) error) []doc {
	t.Helper()
	got := waitForTraces(t, c, []string{id}, func(m map[string][]doc) error { return ready(m[id]) })
	return got[id]
}

// waitForTraces is waitForTrace for several traces at once; ready sees only complete sets.
func waitForTraces(t *testing.T, c *apiClient, ids []string, ready func(map[string][]doc) error) map[string][]doc {
	t.Helper()
	var got map[string][]doc
	eventually(t, visibleTimeout, func() error {
		m, err := fetchTraces(t.Context(), c, ids)
		if err != nil {
			return err
		}
		if err := ready(m); err != nil {
			return err
		}
		got = m
		return nil
	})
	return got
}

// pollInterval is how often eventually checks.
const pollInterval = 100 * time.Millisecond

// eventually calls check every pollInterval until it returns nil, and fails the test with
// check's last error once timeout has passed. It is for real processes and sockets, where
// testing/synctest cannot reach.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not as expected within %v: %v", timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%v; last check: %v", t.Context().Err(), err)
		case <-tick.C:
		}
	}
}

// fetchTraces returns the decoded documents of each id, or an error naming missing ids.
func fetchTraces(ctx context.Context, c *apiClient, ids []string) (map[string][]doc, error) {
	trs, err := c.BatchGetTraces(ctx, ids)
	if err != nil {
		return nil, err
	}
	m := map[string][]doc{}
	for _, tr := range trs {
		docs, err := decodeTrace(tr)
		if err != nil {
			return nil, err
		}
		m[tr.Id] = docs
	}
	var missing []string
	for _, id := range ids {
		if _, ok := m[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("BatchGetTraces does not return %d of %d traces, e.g. %v", len(missing), len(ids), missing[:min(len(missing), 3)])
	}
	return m, nil
}

// waitForSummaries polls GetTraceSummaries until ready accepts the summaries.
func waitForSummaries(t *testing.T, c *apiClient, req summariesRequest, ready func([]traceSummary) error) []traceSummary {
	t.Helper()
	var got []traceSummary
	eventually(t, visibleTimeout, func() error {
		sums, _, err := c.TraceSummaries(t.Context(), req)
		if err != nil {
			return err
		}
		if err := ready(sums); err != nil {
			return fmt.Errorf("GetTraceSummaries %+v: %w", req, err)
		}
		got = sums
		return nil
	})
	return got
}

// walk calls fn for e and every subsegment nested in it, depth first, with the chain of
// enclosing entities (outermost first).
func walk(e doc, ancestors []doc, fn func(e doc, ancestors []doc)) {
	fn(e, ancestors)
	subs, _ := e["subsegments"].([]any)
	for _, s := range subs {
		if sd, ok := s.(doc); ok {
			walk(sd, append(ancestors[:len(ancestors):len(ancestors)], e), fn)
		}
	}
}

// found is an entity located in a trace, with its enclosing entities (outermost first).
type found struct {
	E         doc
	Ancestors []doc
}

// findAll returns every entity in docs for which match is true.
func findAll(docs []doc, match func(doc) bool) []found {
	var out []found
	for _, d := range docs {
		walk(d, nil, func(e doc, anc []doc) {
			if match(e) {
				out = append(out, found{e, anc})
			}
		})
	}
	return out
}

// findOne returns the only entity for which match is true, or an error.
func findOne(docs []doc, what string, match func(doc) bool) (found, error) {
	fs := findAll(docs, match)
	if len(fs) != 1 {
		return found{}, fmt.Errorf("want exactly 1 %s in the trace, found %d; trace outline:\n%s", what, len(fs), outline(docs))
	}
	return fs[0], nil
}

// named matches recorded entities by name. It skips inferred segments, which BatchGetTraces
// adds for downstream calls and which may carry the calling subsegment's name.
func named(name string) func(doc) bool {
	return func(e doc) bool { return str(e, "name") == name && !isTrue(e, "inferred") }
}

// withID matches entities by id.
func withID(id string) func(doc) bool {
	return func(e doc) bool { return str(e, "id") == id }
}

// field returns the value at a path of object keys, or nil.
func field(e doc, path ...string) any {
	var v any = e
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(e doc, path ...string) string {
	s, _ := field(e, path...).(string)
	return s
}

func num(e doc, path ...string) (float64, bool) {
	f, ok := field(e, path...).(float64)
	return f, ok
}

func isTrue(e doc, path ...string) bool {
	b, _ := field(e, path...).(bool)
	return b
}

// names returns the names of a list of entities, for messages.
func names(es []doc) []string {
	var out []string
	for _, e := range es {
		out = append(out, str(e, "name"))
	}
	return out
}

// outline renders the entity tree of a trace, one entity a line, for failure messages.
func outline(docs []doc) string {
	var b strings.Builder
	for _, d := range docs {
		walk(d, nil, func(e doc, anc []doc) {
			fmt.Fprintf(&b, "%s%s %q", strings.Repeat("  ", len(anc)), str(e, "id"), str(e, "name"))
			for _, k := range []string{"type", "parent_id", "origin", "namespace"} {
				if v := str(e, k); v != "" {
					fmt.Fprintf(&b, " %s=%s", k, v)
				}
			}
			if isTrue(e, "inferred") {
				b.WriteString(" inferred")
			}
			if isTrue(e, "fault") {
				b.WriteString(" fault")
			}
			b.WriteByte('\n')
		})
	}
	return b.String()
}

// newTraceID returns a fresh X-Ray trace id whose epoch is at.
func newTraceID(at time.Time) string {
	return fmt.Sprintf("1-%08x-%s", at.Unix(), randomHex(12))
}

// newID returns a fresh 16-hex segment id.
func newID() string {
	return randomHex(8)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// epoch returns t as X-Ray epoch seconds.
func epoch(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1e6
}

// segmentDoc returns a small complete segment document.
func segmentDoc(traceID, id, name string, start time.Time, d time.Duration, extra map[string]any) string {
	m := map[string]any{
		"trace_id":   traceID,
		"id":         id,
		"name":       name,
		"start_time": epoch(start),
		"end_time":   epoch(start.Add(d)),
	}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// sendUDP sends each payload as one datagram to addr.
func sendUDP(t *testing.T, addr string, payloads ...[]byte) {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, p := range payloads {
		if _, err := conn.Write(p); err != nil {
			t.Fatalf("send %d-byte datagram to %s: %v", len(p), addr, err)
		}
	}
}

// udpHeader is the daemon protocol header line as the Go and Java SDKs spell it.
const udpHeader = `{"format": "json", "version": 1}` + "\n"

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
