package e2etest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The ingest metrics thaw exports on GET /metrics.
const (
	udpReceivedMetric = "thaw_ingest_received_total"
	rejectedMetric    = "thaw_ingest_rejected_total"
)

var udpReceivedLabels = map[string]string{"transport": "udp"}

// paddedSegment returns a segment document of exactly size bytes, padded in metadata.
func paddedSegment(t *testing.T, traceID, id string, size int) string {
	t.Helper()
	d := segmentDoc(traceID, id, "padded", time.Now(), time.Millisecond, map[string]any{
		"metadata": map[string]any{"default": map[string]any{"pad": ""}},
	})
	pad := size - len(d)
	if pad < 0 {
		t.Fatalf("document already %d bytes, want %d", len(d), size)
	}
	d = strings.Replace(d, `"pad":""`, `"pad":"`+strings.Repeat("x", pad)+`"`, 1)
	if len(d) != size {
		t.Fatalf("padded document is %d bytes, want %d", len(d), size)
	}
	return d
}

// TestBadUDPInput interleaves malformed datagrams with valid ones: the valid ones are stored
// and each malformed one is counted as rejected, by reason.
func TestBadUDPInput(t *testing.T) {
	th := startThaw(t, t.TempDir())
	api := th.API()
	before := scrapeMetrics(t, th.URL)

	valid := newDocBatch("udp-ok", 6, 1)
	// The largest datagram IPv4 carries (65,507 bytes) with a valid document: accepted, since
	// the document is under the 64 KB limit. A 64 KB + 1 datagram cannot be sent over IPv4
	// UDP at all; TestBadHTTPInput checks the document limit itself.
	bigTrace, bigID := newTraceID(time.Now()), newID()
	big := udpHeader + paddedSegment(t, bigTrace, bigID, 65507-len(udpHeader))
	valid.traceIDs = append(valid.traceIDs, bigTrace)
	valid.segIDs[bigTrace] = []string{bigID}

	badTrace := newTraceID(time.Now())
	badDoc := segmentDoc(badTrace, newID(), "bad", time.Now(), time.Millisecond, nil)
	bad := []struct{ name, datagram, reason string }{
		{"no header", badDoc, "NoHeader"},
		{"wrong header", `{"format": "xml", "version": 1}` + "\n" + badDoc, "InvalidHeader"},
		{"truncated JSON", udpHeader + badDoc[:len(badDoc)/2], "InvalidJSON"},
		{"empty body", udpHeader, "EmptyBody"},
		{"non-UTF-8", udpHeader + strings.Replace(badDoc, `"name":"bad"`, "\"name\":\"bad\xff\xfe\"", 1), "InvalidUTF8"},
	}
	if !strings.Contains(bad[4].datagram, "\xff") {
		t.Fatal("non-UTF-8 datagram not built")
	}

	var datagrams [][]byte
	for i, d := range valid.docs {
		datagrams = append(datagrams, []byte(udpHeader+d))
		if i < len(bad) {
			datagrams = append(datagrams, []byte(bad[i].datagram))
		}
	}
	datagrams = append(datagrams, []byte(big))
	sendUDP(t, th.UDPAddr, datagrams...)

	checkBatchStored(t, api, valid)

	// Nothing of the bad trace is stored: each bad datagram was dropped whole.
	got, err := api.BatchGetTraces(t.Context(), []string{badTrace})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("BatchGetTraces(%s) = %+v, want nothing: every datagram of that trace was malformed", badTrace, got)
	}

	// Every datagram was read (received), and each malformed one rejected once, under the
	// reason that names its fault.
	delta := func(after []sample, name string, labels map[string]string) float64 {
		return metricSum(after, name, labels) - metricSum(before, name, labels)
	}
	var after []sample
	eventually(t, visibleTimeout, func() error {
		after = scrapeMetrics(t, th.URL)
		if got, want := delta(after, rejectedMetric, nil), float64(len(bad)); got < want {
			return fmt.Errorf("%s rose by %v, want %v (one per malformed datagram)", rejectedMetric, got, want)
		}
		return nil
	})
	if got, want := delta(after, rejectedMetric, nil), float64(len(bad)); got != want {
		t.Errorf("%s rose by %v, want %v (one per malformed datagram)", rejectedMetric, got, want)
	}
	if got := delta(after, udpReceivedMetric, udpReceivedLabels); got != float64(len(datagrams)) {
		t.Errorf("%s rose by %v, want %d (every datagram sent)", series(udpReceivedMetric, udpReceivedLabels), got, len(datagrams))
	}
	for _, c := range bad {
		udpReason := map[string]string{"transport": "udp", "reason": c.reason}
		if got := delta(after, rejectedMetric, udpReason); got != 1 {
			t.Errorf("%s datagram: %s rose by %v, want 1", c.name, series(rejectedMetric, udpReason), got)
		}
	}
	th.CheckRunning()
}

// TestBadHTTPInput checks PutTraceSegments' limits: a 10 MB body is refused with a clear 4xx
// error without harming the server, 1000 documents in one call are accepted, and the 64 KB
// document limit applies exactly.
func TestBadHTTPInput(t *testing.T) {
	th := startThaw(t, t.TempDir())
	api := th.API()

	t.Run("10 MB body", func(t *testing.T) {
		var body bytes.Buffer
		body.WriteString(`{"TraceSegmentDocuments":[`)
		for i := 0; body.Len() < 10<<20; i++ {
			if i > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, "%q", paddedSegment(t, newTraceID(time.Now()), newID(), 60000))
		}
		body.WriteString(`]}`)
		err := api.post(t.Context(), "/TraceSegments", body.Bytes(), nil)
		var ae *apiError
		if !errors.As(err, &ae) {
			t.Fatalf("POST /TraceSegments with a %d-byte body: %v, want a 4xx X-Ray error", body.Len(), err)
		}
		if ae.Status < 400 || ae.Status > 499 || ae.Type == "" || ae.Message == "" {
			t.Errorf("POST /TraceSegments with a %d-byte body: %v, want a 4xx with X-Amzn-ErrorType and a message", body.Len(), ae)
		}
		if m := strings.ToLower(ae.Message); !strings.Contains(m, "size") && !strings.Contains(m, "large") && !strings.Contains(m, "limit") && !strings.Contains(m, "exceed") {
			t.Errorf("message %q does not say the body is too large", ae.Message)
		}
		th.CheckRunning()
		ok := newDocBatch("after-10mb", 1, 1)
		putBatch(t, api, ok, 1)
		checkBatchStored(t, api, ok)
	})

	t.Run("1000 documents in one call", func(t *testing.T) {
		b := newDocBatch("thousand", 200, 5)
		if len(b.docs) != 1000 {
			t.Fatalf("built %d documents", len(b.docs))
		}
		putBatch(t, api, b, len(b.docs))
		checkBatchStored(t, api, b)
	})

	t.Run("64 KB document limit", func(t *testing.T) {
		fitTrace, fitID := newTraceID(time.Now()), newID()
		overTrace, overID := newTraceID(time.Now()), newID()
		fit := paddedSegment(t, fitTrace, fitID, 64<<10)
		over := paddedSegment(t, overTrace, overID, 64<<10+1)
		un, err := api.PutTraceSegments(t.Context(), []string{fit, over})
		if err != nil {
			t.Fatal(err)
		}
		if len(un) != 1 || un[0].Id != overID || un[0].ErrorCode != "SegmentTooLarge" || un[0].Message == "" {
			t.Errorf("PutTraceSegments(65536-byte doc, 65537-byte doc %s): unprocessed %+v, want only the second, ErrorCode SegmentTooLarge with a message", overID, un)
		}
		checkBatchStored(t, api, docBatch{traceIDs: []string{fitTrace}, segIDs: map[string][]string{fitTrace: {fitID}}})
	})

	t.Run("empty document list", func(t *testing.T) {
		_, err := api.PutTraceSegments(t.Context(), []string{})
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Type != "InvalidRequestException" {
			t.Errorf("PutTraceSegments with no documents: %v, want 400 InvalidRequestException", err)
		}
	})
	th.CheckRunning()
}
