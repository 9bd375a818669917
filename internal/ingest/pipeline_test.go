package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/thawtrace/thaw/internal/segment"
)

// fakeWriter is a store.Writer whose behaviour each test supplies.
type fakeWriter struct {
	write func(ctx context.Context, docs []segment.Document) error
}

func (f fakeWriter) WriteDocuments(ctx context.Context, docs []segment.Document) error {
	return f.write(ctx, docs)
}

// recorder is a fakeWriter that remembers the ids of every batch. The first
// gated writes block until the gate is closed.
type recorder struct {
	mu      sync.Mutex
	batches [][]string
	gate    chan struct{} // nil: never block
	gated   int           // how many writes wait for the gate
	err     error
}

func (r *recorder) writer() fakeWriter {
	return fakeWriter{write: func(_ context.Context, docs []segment.Document) error {
		ids := make([]string, len(docs)) // the pipeline reuses docs: copy
		for i := range docs {
			ids[i] = docs[i].ID
		}
		r.mu.Lock()
		r.batches = append(r.batches, ids)
		block := len(r.batches) <= r.gated && r.gate != nil
		r.mu.Unlock()
		if block {
			<-r.gate
		}
		return r.err
	}}
}

func (r *recorder) got() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.batches
}

func (r *recorder) ids() []string {
	var all []string
	for _, b := range r.got() {
		all = append(all, b...)
	}
	return all
}

// testConfig has one writer, so batches are deterministic.
func testConfig() Config {
	c := DefaultConfig()
	c.Writers = 1
	c.BatchDelay = 0 // pure group commit; TestPipelineBatchDelay covers the wait
	return c
}

func newPipeline(t *testing.T, cfg Config, w Writer) *Pipeline {
	t.Helper()
	p, err := New(cfg, w, NewMetrics(prometheus.NewRegistry()), nil)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return p
}

// docs returns documents with the given ids and 100 raw bytes each.
func docs(ids ...string) []segment.Document {
	out := make([]segment.Document, len(ids))
	for i, id := range ids {
		out[i] = segment.Document{ID: id, Raw: make([]byte, 100)}
	}
	return out
}

func submit(t *testing.T, p *Pipeline, ids ...string) {
	t.Helper()
	if err := p.Submit(t.Context(), docs(ids...), false); err != nil {
		t.Fatalf("Submit(%q, no wait) = %v, want nil", ids, err)
	}
}

func shutdown(t *testing.T, p *Pipeline) {
	t.Helper()
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown = %v, want nil", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v, want nil", err)
	}
	for name, mutate := range map[string]func(*Config){
		"queue":     func(c *Config) { c.QueueBytes = 0 },
		"batchDocs": func(c *Config) { c.MaxBatchDocs = 0 },
		"batchSize": func(c *Config) { c.MaxBatchBytes = -1 },
		"docSize":   func(c *Config) { c.MaxDocumentBytes = 0 },
		"writers":   func(c *Config) { c.Writers = 0 },
	} {
		c := DefaultConfig()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate(%+v) = nil, want an error", name, c)
		}
		if _, err := New(c, fakeWriter{}, nil, nil); err == nil {
			t.Errorf("%s: New(%+v) = nil error, want the Validate error", name, c)
		}
	}
}

// While one write syncs, what queues up behind it goes out as one batch.
func TestPipelineGroupCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{gate: make(chan struct{}), gated: 1}
		p := newPipeline(t, testConfig(), rec.writer())
		p.Start()
		submit(t, p, "a")
		synctest.Wait() // the writer holds "a" and waits for the gate
		submit(t, p, "b")
		submit(t, p, "c", "d")
		submit(t, p, "e")
		close(rec.gate)
		shutdown(t, p)
		want := [][]string{{"a"}, {"b", "c", "d", "e"}}
		if diff := cmp.Diff(want, rec.got()); diff != "" {
			t.Errorf("batches (-want +got):\n%s", diff)
		}
	})
}

func TestPipelineBatchLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{gate: make(chan struct{}), gated: 1}
		cfg := testConfig()
		cfg.MaxBatchDocs = 2
		p := newPipeline(t, cfg, rec.writer())
		p.Start()
		submit(t, p, "a")
		synctest.Wait()
		for _, id := range []string{"b", "c", "d", "e", "f"} {
			submit(t, p, id)
		}
		close(rec.gate)
		shutdown(t, p)
		want := [][]string{{"a"}, {"b", "c"}, {"d", "e"}, {"f"}}
		if diff := cmp.Diff(want, rec.got()); diff != "" {
			t.Errorf("batches with MaxBatchDocs=2 (-want +got):\n%s", diff)
		}
	})
}

func TestPipelineSubmitWait(t *testing.T) {
	errStore := errors.New("disk on fire")
	for _, tc := range []struct {
		name     string
		writeErr error
		want     error
	}{
		{"stored", nil, nil},
		{"store error", errStore, errStore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{err: tc.writeErr}
				p := newPipeline(t, testConfig(), rec.writer())
				p.Start()
				err := p.Submit(t.Context(), docs("a", "b"), true)
				if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
					t.Errorf("Submit(wait) with writer error %v = %v, want %v", tc.writeErr, err, tc.want)
				}
				shutdown(t, p)
				if got := testutil.ToFloat64(p.metrics.storeErrors); (got == 1) != (tc.writeErr != nil) {
					t.Errorf("thaw_store_write_errors_total = %v after writer error %v", got, tc.writeErr)
				}
			})
		})
	}
}

func TestPipelineSubmitWaitCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{gate: make(chan struct{}), gated: 1}
		p := newPipeline(t, testConfig(), rec.writer())
		p.Start()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := p.Submit(ctx, docs("a"), true); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Submit(wait) with a stuck writer and a 1 s deadline = %v, want DeadlineExceeded", err)
		}
		close(rec.gate)
		shutdown(t, p)
		// The documents were still written; only the caller stopped waiting.
		if diff := cmp.Diff([]string{"a"}, rec.ids()); diff != "" {
			t.Errorf("written (-want +got):\n%s", diff)
		}
	})
}

func TestPipelineOverloaded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{gate: make(chan struct{}), gated: 1}
		cfg := testConfig()
		cfg.QueueBytes = 300 // three 100-byte documents
		p := newPipeline(t, cfg, rec.writer())
		p.Start()
		submit(t, p, "a")
		synctest.Wait() // "a" is being written: its bytes still count
		submit(t, p, "b")
		submit(t, p, "c")
		err := p.Submit(t.Context(), docs("d"), false)
		if !errors.Is(err, ErrOverloaded) {
			t.Fatalf("Submit over the 300-byte budget = %v, want ErrOverloaded", err)
		}
		var th interface{ Throttled() bool }
		if !errors.As(err, &th) || !th.Throttled() {
			t.Errorf("ErrOverloaded does not report Throttled() true: %v", err)
		}
		if err := p.Submit(t.Context(), docs("w"), true); !errors.Is(err, ErrOverloaded) {
			t.Errorf("Submit(wait) over budget = %v, want ErrOverloaded at once", err)
		}
		if got := testutil.ToFloat64(p.metrics.queueDocs); got != 3 {
			t.Errorf("thaw_ingest_queue_documents = %v, want 3", got)
		}

		close(rec.gate)
		synctest.Wait() // the writer drained the queue and freed the budget
		submit(t, p, "e")
		shutdown(t, p)
		if diff := cmp.Diff([]string{"a", "b", "c", "e"}, rec.ids()); diff != "" {
			t.Errorf("written (-want +got):\n%s", diff)
		}
		if got := testutil.ToFloat64(p.metrics.queueDocs); got != 0 {
			t.Errorf("thaw_ingest_queue_documents after drain = %v, want 0", got)
		}
	})
}

func TestPipelineShutdownDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{gate: make(chan struct{}), gated: 1}
		cfg := testConfig()
		cfg.MaxBatchDocs = 3
		p := newPipeline(t, cfg, rec.writer())
		p.Start()
		submit(t, p, "a")
		synctest.Wait()
		var want []string
		want = append(want, "a")
		for i := range 10 {
			id := fmt.Sprint(i)
			want = append(want, id)
			submit(t, p, id)
		}
		waiter := make(chan error, 1)
		go func() { waiter <- p.Submit(context.Background(), docs("w"), true) }()
		synctest.Wait()
		want = append(want, "w")

		done := make(chan error, 1)
		go func() { done <- p.Shutdown(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Shutdown returned %v while documents were still queued", err)
		default:
		}
		if err := p.Submit(t.Context(), docs("late"), false); !errors.Is(err, ErrStopped) {
			t.Errorf("Submit during Shutdown = %v, want ErrStopped", err)
		}
		close(rec.gate)
		if err := <-done; err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
		if err := <-waiter; err != nil {
			t.Errorf("Submit(wait) queued before Shutdown = %v, want nil (stored)", err)
		}
		if diff := cmp.Diff(want, rec.ids()); diff != "" {
			t.Errorf("written before Shutdown returned (-want +got):\n%s", diff)
		}
	})
}

func TestPipelineShutdownDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{gate: make(chan struct{}), gated: 1}
		p := newPipeline(t, testConfig(), rec.writer())
		p.Start()
		submit(t, p, "a")
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown with a stuck writer and a 5 s deadline = %v, want DeadlineExceeded", err)
		}
		close(rec.gate)
		shutdown(t, p) // a second Shutdown waits for the writers
	})
}

func TestPipelineShutdownWithoutStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		p := newPipeline(t, testConfig(), rec.writer())
		waiters := make(chan error, 2)
		for range 2 {
			go func() { waiters <- p.Submit(context.Background(), docs("w"), true) }()
		}
		submit(t, p, "udp1", "udp2")
		synctest.Wait() // both waiters are queued
		shutdown(t, p)
		for range 2 {
			if err := <-waiters; !errors.Is(err, ErrStopped) {
				t.Errorf("Submit(wait) queued on a pipeline shut down without Start = %v, want ErrStopped", err)
			}
		}
		if got := rec.got(); len(got) != 0 {
			t.Errorf("writer called %v without Start", got)
		}
		if got := testutil.ToFloat64(p.metrics.dropped.WithLabelValues("udp", "stopping")); got != 2 {
			t.Errorf(`thaw_ingest_dropped_total{transport="udp",reason="stopping"} = %v, want 2`, got)
		}
		if got := testutil.ToFloat64(p.metrics.queueDocs); got != 0 {
			t.Errorf("thaw_ingest_queue_documents = %v, want 0", got)
		}
	})
}

func TestPipelineSubmitAfterShutdown(t *testing.T) {
	for _, started := range []bool{true, false} {
		t.Run(fmt.Sprintf("started=%v", started), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				p := newPipeline(t, testConfig(), rec.writer())
				if started {
					p.Start()
				}
				shutdown(t, p)
				shutdown(t, p) // twice is safe
				for _, wait := range []bool{false, true} {
					if err := p.Submit(t.Context(), docs("a"), wait); !errors.Is(err, ErrStopped) {
						t.Errorf("Submit(wait=%v) after Shutdown = %v, want ErrStopped", wait, err)
					}
				}
				p.Start() // after Shutdown: starts nothing that outlives the test
				shutdown(t, p)
				if got := rec.got(); len(got) != 0 {
					t.Errorf("writer called %v", got)
				}
			})
		})
	}
}

func TestPipelineManyWriters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		cfg := DefaultConfig()
		cfg.Writers = 4
		cfg.MaxBatchDocs = 7
		p := newPipeline(t, cfg, rec.writer())
		p.Start()
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 50 {
					if err := p.Submit(context.Background(), docs(fmt.Sprintf("%d-%d", g, i)), i%2 == 0); err != nil {
						t.Errorf("Submit = %v", err)
					}
				}
			})
		}
		wg.Wait()
		shutdown(t, p)
		if got := len(rec.ids()); got != 400 {
			t.Errorf("written %d documents, want 400", got)
		}
		if got := testutil.ToFloat64(p.metrics.stored); got != 400 {
			t.Errorf("thaw_ingest_stored_total = %v, want 400", got)
		}
	})
}

func TestPipelineBatchDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		cfg := testConfig()
		cfg.BatchDelay = 5 * time.Millisecond
		cfg.MaxBatchDocs = 4
		p := newPipeline(t, cfg, rec.writer())
		p.Start()
		// Documents arriving within the delay join one batch; a batch half
		// full or more is written without waiting.
		submit(t, p, "a")
		time.Sleep(time.Millisecond)
		submit(t, p, "b")
		synctest.Wait()
		time.Sleep(10 * time.Millisecond) // fake time: past the delay
		submit(t, p, "c")
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		shutdown(t, p)
		if diff := cmp.Diff([][]string{{"a", "b"}, {"c"}}, rec.got()); diff != "" {
			t.Errorf("batches (-want +got):\n%s", diff)
		}
	})
}
