package runner

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/thawtrace/thaw/internal/loadgen"
	"github.com/thawtrace/thaw/internal/segment"
)

// traceIDs is the runner's ID plan for one invocation (spec/lambda.md
// §5.6): the AWS::Lambda segment L under the caller's Parent, the function
// segment F under L, and the Invocation subsegment I, which is the Parent
// the runtime's header names, so the function's SDK subsegments hang under
// it.
type traceIDs struct {
	header   segment.Header // the incoming header, with a Root
	record   bool
	lambda   string // L
	function string // F
	invoke   string // I
	init     string
	overhead string
}

// planTrace decides whether an invocation is recorded and gives its IDs.
// Active tracing records every invocation that was not sampled out
// upstream (Lambda samples 1/s + 5 % itself; a local runner records them
// all, which is what a developer looking at a cold start wants);
// PassThrough records only what the caller sampled.
func planTrace(incoming string, active bool, now time.Time) traceIDs {
	h := segment.ParseHeader(incoming)
	if h.Root == "" {
		h.Root = newTraceID(now)
		h.Parent = ""
	}
	record := h.Sampled == "1" || (active && h.Sampled != "0")
	return traceIDs{header: h, record: record, lambda: newID(), function: newID(), invoke: newID(), init: newID(), overhead: newID()}
}

// runtimeHeader is the header the runtime gets: Parent is the Invocation
// subsegment; Sampled says whether the platform records.
func (t traceIDs) runtimeHeader() string {
	h := t.header
	h.Parent = t.invoke
	h.Sampled = "0"
	if t.record {
		h.Sampled = "1"
	}
	return h.String()
}

// platformSegments builds the AWS::Lambda and AWS::Lambda::Function
// segments of an invocation (spec §5.3, §5.4, classic layout plus the
// aws:* annotations).
func platformSegments(t traceIDs, fn *Function, out Outcome, requestID string) ([][]byte, error) {
	arn := fn.ARN
	end := out.Timing.End
	if end.IsZero() {
		end = time.Now()
	}
	lambda := map[string]any{
		"id": t.lambda, "name": fn.Name, "trace_id": string(t.header.Root),
		"start_time": epoch(out.Received), "end_time": epoch(out.Timing.Response),
		"origin": "AWS::Lambda", "resource_arn": arn,
		"aws":  map[string]any{"request_id": requestID},
		"http": map[string]any{"response": map[string]any{"status": 200}}, // function errors are answered 200 too
	}
	if t.header.Parent != "" {
		lambda["parent_id"] = t.header.Parent
	}
	fnSeg := map[string]any{
		"id": t.function, "name": fn.Name, "trace_id": string(t.header.Root), "parent_id": t.lambda,
		"start_time": epoch(out.Timing.Start), "end_time": epoch(end),
		"origin": "AWS::Lambda::Function",
		"aws": map[string]any{"account_id": accountID, "function_arn": arn, "resource_names": []string{fn.Name},
			"cloudwatch_logs": []any{map[string]any{"log_group": "/aws/lambda/" + fn.Name}}},
		"annotations": map[string]any{
			"aws:responseLatency": millis(out.Timing.Response.Sub(out.Timing.Start)),
			"aws:runtimeOverhead": millis(end.Sub(out.Timing.Response)),
		},
	}
	sub := func(id, name string, from, to time.Time) map[string]any {
		return map[string]any{"id": id, "name": name, "start_time": epoch(from), "end_time": epoch(to), "aws": map[string]any{"function_arn": arn}}
	}
	var subs []any
	if out.Cold {
		subs = append(subs, sub(t.init, "Initialization", out.InitStart, out.InitEnd))
	}
	subs = append(subs, sub(t.invoke, "Invocation", out.Timing.Start, out.Timing.Response), sub(t.overhead, "Overhead", out.Timing.Response, end))
	fnSeg["subsegments"] = subs
	if e := out.Result.Error; e != nil {
		// A function error is the function's fault, and the invocation's:
		// the caller receives an error. The runtime's X-Ray cause, when it
		// sent one, says what failed.
		lambda["fault"] = true
		fnSeg["fault"] = true
		if len(e.XRayCause) > 0 {
			fnSeg["cause"] = json.RawMessage(e.XRayCause)
		}
	}
	var docs [][]byte
	for _, d := range []map[string]any{lambda, fnSeg} {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("encode platform segment: %w", err)
		}
		docs = append(docs, b)
	}
	return docs, nil
}

// accountID is the account local functions belong to.
const accountID = "000000000000"

func epoch(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// sendSegments sends documents to an X-Ray daemon address over UDP, one
// datagram each, as SDKs do.
func sendSegments(addr string, docs [][]byte) error {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return fmt.Errorf("dial collector %s: %w", addr, err)
	}
	defer conn.Close()
	for _, d := range docs {
		if _, err := conn.Write(loadgen.Datagram(d)); err != nil {
			return fmt.Errorf("send segment to %s: %w", addr, err)
		}
	}
	return nil
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newTraceID(now time.Time) segment.TraceID {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return segment.TraceID(fmt.Sprintf("1-%08x-%s", uint32(now.Unix()), hex.EncodeToString(b[:])))
}
