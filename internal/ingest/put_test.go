package ingest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/thawtrace/thaw/internal/segment"
)

const testTraceID = "1-5f2aebcc-b475d14618c51eaa28753d37"

// segmentJSON is a valid segment document with the given id.
func segmentJSON(id string) string {
	return fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":"svc","start_time":1596648396.1,"end_time":1596648396.2}`, testTraceID, id)
}

// subsegmentJSON is a valid independent subsegment with the given id.
func subsegmentJSON(id string) string {
	return fmt.Sprintf(`{"type":"subsegment","trace_id":%q,"id":%q,"parent_id":"bda182a644eee9b3","name":"db","start_time":1596648396.1,"end_time":1596648396.2}`, testTraceID, id)
}

func raws(docs ...string) [][]byte {
	out := make([][]byte, len(docs))
	for i, d := range docs {
		out[i] = []byte(d)
	}
	return out
}

// newPutPipeline returns a started pipeline on a fresh registry, writing to
// rec, and stops it when the test ends.
func newPutPipeline(t *testing.T, cfg Config, rec *recorder) (*Pipeline, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	p, err := New(cfg, rec.writer(), NewMetrics(reg), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	p.Start()
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return p, reg
}

// rejection is what a test compares of a *segment.Error.
type rejection struct {
	Code segment.ErrorCode
	ID   string
}

func rejections(errs []*segment.Error) []rejection {
	var out []rejection
	for _, e := range errs {
		out = append(out, rejection{e.Code, e.ID})
	}
	return out
}

func TestPutDocuments(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	p, reg := newPutPipeline(t, testConfig(), rec)
	in := raws(
		segmentJSON("00000000000000a1"),
		`{"id":"00000000000000b1","name":"svc","start_time":1,"end_time":2}`, // no trace_id
		`not json`,
		segmentJSON("00000000000000a2"),
		"["+subsegmentJSON("00000000000000a3")+`,{"type":"subsegment","trace_id":"`+testTraceID+`","id":"00000000000000b2","name":"x","start_time":1,"end_time":2}]`,
		``,
		segmentJSON("00000000000000a4"),
	)
	rejects, err := p.PutDocuments(t.Context(), in)
	if err != nil {
		t.Fatalf("PutDocuments = %v, want nil", err)
	}
	wantRejects := []rejection{
		{segment.CodeInvalidTraceID, "00000000000000b1"},
		{segment.CodeInvalidJSON, ""},
		{segment.CodeMissingParentID, "00000000000000b2"},
		{segment.CodeEmpty, ""},
	}
	if diff := cmp.Diff(wantRejects, rejections(rejects)); diff != "" {
		t.Errorf("rejections (-want +got):\n%s", diff)
	}
	wantStored := [][]string{{"00000000000000a1", "00000000000000a2", "00000000000000a3", "00000000000000a4"}}
	if diff := cmp.Diff(wantStored, rec.got()); diff != "" {
		t.Errorf("stored batches (-want +got):\n%s", diff)
	}

	m := p.Metrics()
	counts := map[string]float64{
		"received http":           testutil.ToFloat64(m.received.WithLabelValues("http")),
		"received udp":            testutil.ToFloat64(m.received.WithLabelValues("udp")),
		"stored":                  testutil.ToFloat64(m.stored),
		"queue":                   testutil.ToFloat64(m.queueDocs),
		"dropped http queue_full": testutil.ToFloat64(m.dropped.WithLabelValues("http", "queue_full")),
	}
	for _, c := range segment.Codes {
		if v := testutil.ToFloat64(m.rejected.WithLabelValues("http", string(c))); v != 0 {
			counts["rejected http "+string(c)] = v
		}
	}
	wantCounts := map[string]float64{
		"received http":                 7,
		"received udp":                  0,
		"stored":                        4,
		"queue":                         0,
		"dropped http queue_full":       0,
		"rejected http InvalidTraceId":  1,
		"rejected http InvalidJSON":     1,
		"rejected http MissingParentId": 1,
		"rejected http EmptyDocument":   1,
	}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	// Every series exists on the registry from the start, so dashboards
	// see zeros rather than gaps.
	// Two transports × every segment code, plus UDP's four datagram reasons.
	want := 2*len(segment.Codes) + 4
	if n, err := testutil.GatherAndCount(reg, "thaw_ingest_rejected_total"); err != nil || n != want {
		t.Errorf("thaw_ingest_rejected_total series on the registry = %d, %v; want %d", n, err, want)
	}
}

func TestPutDocumentsAllRejected(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	p, _ := newPutPipeline(t, testConfig(), rec)
	rejects, err := p.PutDocuments(t.Context(), raws(`{}`, `[]`))
	if err != nil {
		t.Fatalf("PutDocuments = %v, want nil", err)
	}
	want := []rejection{{segment.CodeInvalidTraceID, ""}, {segment.CodeEmpty, ""}}
	if diff := cmp.Diff(want, rejections(rejects)); diff != "" {
		t.Errorf("rejections (-want +got):\n%s", diff)
	}
	if got := rec.got(); len(got) != 0 {
		t.Errorf("writer called with %v, want no write", got)
	}
}

func TestPutDocumentsThousand(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	p, _ := newPutPipeline(t, testConfig(), rec)
	in := make([]string, 1000)
	want := make([]string, 1000)
	for i := range in {
		want[i] = fmt.Sprintf("%016x", i+1)
		in[i] = segmentJSON(want[i])
	}
	rejects, err := p.PutDocuments(t.Context(), raws(in...))
	if err != nil || len(rejects) != 0 {
		t.Fatalf("PutDocuments(1000 valid) = %v, %v; want no rejections, nil", rejections(rejects), err)
	}
	if diff := cmp.Diff(want, rec.ids()); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	if got := testutil.ToFloat64(p.Metrics().received.WithLabelValues("http")); got != 1000 {
		t.Errorf("received = %v, want 1000", got)
	}
}

func TestPutDocumentsOverloaded(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	cfg := testConfig()
	cfg.QueueBytes = 50 // smaller than one document
	p, _ := newPutPipeline(t, cfg, rec)
	rejects, err := p.PutDocuments(t.Context(), raws(segmentJSON("00000000000000a1"), `{}`, segmentJSON("00000000000000a2")))
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("PutDocuments over the queue budget = %v, want ErrOverloaded", err)
	}
	var th interface{ Throttled() bool }
	if !errors.As(err, &th) || !th.Throttled() {
		t.Errorf("error %v does not report Throttled() true through its wrapping", err)
	}
	if diff := cmp.Diff([]rejection{{segment.CodeInvalidTraceID, ""}}, rejections(rejects)); diff != "" {
		t.Errorf("rejections are still returned with the error (-want +got):\n%s", diff)
	}
	if got := testutil.ToFloat64(p.Metrics().dropped.WithLabelValues("http", "queue_full")); got != 2 {
		t.Errorf(`dropped{http,queue_full} = %v, want 2`, got)
	}
}

func TestPutDocumentsStoreError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStore := errors.New("store busy")
		rec := &recorder{err: errStore}
		p, _ := newPutPipeline(t, testConfig(), rec)
		_, err := p.PutDocuments(t.Context(), raws(segmentJSON("00000000000000a1")))
		if !errors.Is(err, errStore) {
			t.Errorf("PutDocuments with a failing store = %v, want %v", err, errStore)
		}
	})
}

func TestPutDocumentsStopped(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	p, _ := newPutPipeline(t, testConfig(), rec)
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, err := p.PutDocuments(t.Context(), raws(segmentJSON("00000000000000a1")))
	if !errors.Is(err, ErrStopped) {
		t.Errorf("PutDocuments after Shutdown = %v, want ErrStopped", err)
	}
	if got := testutil.ToFloat64(p.Metrics().dropped.WithLabelValues("http", "stopping")); got != 1 {
		t.Errorf(`dropped{http,stopping} = %v, want 1`, got)
	}
}
