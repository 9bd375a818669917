package udp_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/thawtrace/thaw/internal/ingest"
	"github.com/thawtrace/thaw/internal/ingest/udp"
	"github.com/thawtrace/thaw/internal/segment"
)

// fakeWriter is a store.Writer whose behaviour each test supplies.
type fakeWriter struct {
	write func(ctx context.Context, docs []segment.Document) error
}

func (f fakeWriter) WriteDocuments(ctx context.Context, docs []segment.Document) error {
	return f.write(ctx, docs)
}

// counters returns the non-zero series of the counter family name, keyed by
// their labels as name=value pairs in name order, joined with ",".
func counters(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue()
			if v == 0 {
				continue
			}
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out[strings.Join(labels, ",")] = v
		}
	}
	return out
}

func TestListener(t *testing.T) {
	t.Parallel()
	written := make(chan string, 100)
	w := fakeWriter{write: func(_ context.Context, docs []segment.Document) error {
		for _, d := range docs {
			written <- d.ID
		}
		return nil
	}}
	reg := prometheus.NewRegistry()
	p, err := ingest.New(ingest.DefaultConfig(), w, ingest.NewMetrics(reg), nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	l := udp.New(udp.Config{Addr: "127.0.0.1:0"}, p, nil)
	if err := l.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// Listener first, so nothing is submitted to a stopped pipeline.
		if err := l.Shutdown(context.Background()); err != nil {
			t.Errorf("listener Shutdown: %v", err)
		}
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("pipeline Shutdown: %v", err)
		}
	}
	t.Cleanup(stop)

	conn, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	datagrams := []string{
		headerTight + "\n" + segmentJSON("00000000000000a1"),
		segmentJSON("00000000000000b1"), // no header
		headerLoose + "\n" + segmentJSON("00000000000000a2"),
		`{"format":"json","version":2}` + "\n" + segmentJSON("00000000000000b2"),
		headerTight + "\n[" + subsegmentJSON("00000000000000a3", "00000000000000a1") + "," +
			subsegmentJSON("00000000000000b3", "") + "," + subsegmentJSON("zz", "00000000000000a1") + "]",
		headerTight + "\n" + strings.Replace(segmentJSON("00000000000000b4"), "svc", "\xff\xfe", 1),
		headerTight + "\n",
		headerTight + "\n" + segmentJSON("00000000000000a4"), // last, so all before it were read
	}
	for _, d := range datagrams {
		if _, err := conn.Write([]byte(d)); err != nil {
			t.Fatalf("send datagram: %v", err)
		}
	}

	want := []string{"00000000000000a1", "00000000000000a2", "00000000000000a3", "00000000000000a4"}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var got []string
	for len(got) < len(want) {
		select {
		case id := <-written:
			got = append(got, id)
		case <-ctx.Done():
			t.Fatalf("after 10 s the writer got %q, want %q", got, want)
		}
	}
	slices.Sort(got) // two writers may reorder batches
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents written (-want +got):\n%s", diff)
	}

	stop()
	if diff := cmp.Diff(map[string]float64{"transport=udp": float64(len(datagrams))}, counters(t, reg, "thaw_ingest_received_total")); diff != "" {
		t.Errorf("thaw_ingest_received_total (-want +got):\n%s", diff)
	}
	wantRejected := map[string]float64{
		"reason=" + udp.ReasonNoHeader + ",transport=udp":                  1,
		"reason=" + udp.ReasonBadHeader + ",transport=udp":                 1,
		"reason=" + string(segment.CodeMissingParentID) + ",transport=udp": 1,
		"reason=" + string(segment.CodeInvalidID) + ",transport=udp":       1,
		"reason=" + string(segment.CodeInvalidUTF8) + ",transport=udp":     1,
		"reason=" + udp.ReasonEmptyBody + ",transport=udp":                 1,
	}
	if diff := cmp.Diff(wantRejected, counters(t, reg, "thaw_ingest_rejected_total")); diff != "" {
		t.Errorf("thaw_ingest_rejected_total (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{}, counters(t, reg, "thaw_ingest_dropped_total")); diff != "" {
		t.Errorf("thaw_ingest_dropped_total (-want +got):\n%s", diff)
	}
}

// Datagrams arriving while the pipeline refuses them are counted as drops.
func TestListenerOverloaded(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	cfg := ingest.DefaultConfig()
	cfg.QueueBytes = 1 // no document fits
	w := fakeWriter{write: func(context.Context, []segment.Document) error {
		t.Error("writer called although no document fits the queue")
		return nil
	}}
	p, err := ingest.New(cfg, w, ingest.NewMetrics(reg), nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	l := udp.New(udp.Config{Addr: "127.0.0.1:0"}, p, nil)
	if err := l.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := errors.Join(l.Shutdown(context.Background()), p.Shutdown(context.Background())); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	conn, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		// Resend until one is counted: loopback UDP may still lose one.
		if _, err := conn.Write([]byte(headerTight + "\n" + segmentJSON("00000000000000a1"))); err != nil {
			t.Fatal(err)
		}
		if got := counters(t, reg, "thaw_ingest_dropped_total"); got["reason=queue_full,transport=udp"] > 0 {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("no datagram counted as dropped (queue_full) within 10 s; dropped = %v", counters(t, reg, "thaw_ingest_dropped_total"))
		}
	}
}

func TestListenerShutdown(t *testing.T) {
	t.Parallel()
	p, err := ingest.New(ingest.DefaultConfig(), fakeWriter{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := udp.New(udp.Config{Addr: "127.0.0.1:0"}, p, nil)
	if err := l.Shutdown(t.Context()); err != nil {
		t.Errorf("Shutdown without Start = %v, want nil", err)
	}
	if l.Addr() != nil {
		t.Errorf("Addr before Start = %v, want nil", l.Addr())
	}
	if err := l.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := l.Shutdown(t.Context()); err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
	}
	if err := p.Shutdown(t.Context()); err != nil {
		t.Errorf("pipeline Shutdown = %v", err)
	}

	bad := udp.New(udp.Config{Addr: "127.0.0.1:notaport"}, p, nil)
	if err := bad.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "listen udp 127.0.0.1:notaport") {
		t.Errorf("Start on a bad address = %v, want an error naming it", err)
	}
	if err := bad.Shutdown(t.Context()); err != nil {
		t.Errorf("Shutdown after a failed Start = %v, want nil", err)
	}
}
