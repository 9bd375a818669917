// Package ingest is the write path: documents decoded by the transports
// (UDP, the PutTraceSegments API) go through a bounded queue to a batcher
// that writes them to the store. Overload is explicit: when the queue is full
// Submit fails with ErrOverloaded, which HTTP answers as 429 and UDP counts
// as a drop.
//
// It imports store and segment; transports import it, never the reverse.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thawtrace/thaw/internal/segment"
)

// ErrOverloaded is returned by Submit when the queue is full. It reports
// itself as throttling, which the API answers with 429 ThrottledException.
var ErrOverloaded error = overloaded{}

type overloaded struct{}

func (overloaded) Error() string   { return "ingest: queue full; retry later" }
func (overloaded) Throttled() bool { return true }

// ErrStopped is returned by Submit after Shutdown began.
var ErrStopped = errors.New("ingest: pipeline stopped")

// Writer is what the pipeline writes to: store.Writer's contract.
type Writer interface {
	WriteDocuments(ctx context.Context, docs []segment.Document) error
}

// Config configures the pipeline.
type Config struct {
	// QueueBytes bounds the raw bytes of queued documents.
	QueueBytes int64
	// BatchDelay is how long a batch that is less than half full waits for
	// more documents before it is written. Under load, batches fill while
	// the previous write syncs (group commit) and never wait.
	BatchDelay time.Duration
	// MaxBatchDocs and MaxBatchBytes bound one store write.
	MaxBatchDocs  int
	MaxBatchBytes int
	// MaxDocumentBytes is the document size limit (X-Ray: 64 KB).
	MaxDocumentBytes int
	// Writers is the number of concurrent store writes; while one batch is
	// being synced the next one fills.
	Writers int
}

// DefaultConfig returns the defaults: 64 MiB of queue, batches of up to
// 2,000 documents or 4 MiB, two writers.
func DefaultConfig() Config {
	return Config{
		QueueBytes:       64 << 20,
		MaxBatchDocs:     2000,
		MaxBatchBytes:    4 << 20,
		BatchDelay:       2 * time.Millisecond,
		MaxDocumentBytes: segment.DefaultMaxDocumentSize,
		Writers:          2,
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	switch {
	case c.QueueBytes <= 0:
		return errors.New("ingest: queue size must be positive")
	case c.MaxBatchDocs <= 0 || c.MaxBatchBytes <= 0:
		return errors.New("ingest: batch limits must be positive")
	case c.MaxDocumentBytes <= 0:
		return errors.New("ingest: document size limit must be positive")
	case c.BatchDelay < 0:
		return errors.New("ingest: batch delay must not be negative")
	case c.Writers <= 0:
		return errors.New("ingest: writers must be positive")
	}
	return nil
}

type item struct {
	docs   []segment.Document
	bytes  int64
	queued time.Time
	done   chan error // nil for fire-and-forget (UDP)
}

// Pipeline is the bounded queue and batcher.
type Pipeline struct {
	cfg     Config
	w       Writer
	log     *slog.Logger
	metrics *Metrics

	queue  chan item
	queued atomic.Int64 // bytes

	mu       sync.RWMutex // guards stopping against concurrent Submit
	stopping bool
	wg       sync.WaitGroup
	startMu  sync.Mutex
	started  bool
	stopOnce sync.Once

	logMu      sync.Mutex
	lastLog    time.Time
	suppressed int
}

// New returns a pipeline writing to w. It starts nothing.
func New(cfg Config, w Writer, m *Metrics, log *slog.Logger) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Pipeline{
		cfg:     cfg,
		w:       w,
		log:     log,
		metrics: m,
		// The byte budget is the real bound; the channel only has to hold
		// at least as many items as the budget admits small ones.
		queue: make(chan item, 65536),
	}, nil
}

// Metrics returns the pipeline's counters, for transports to share.
func (p *Pipeline) Metrics() *Metrics { return p.metrics }

// MaxDocumentBytes is the configured document size limit.
func (p *Pipeline) MaxDocumentBytes() int { return p.cfg.MaxDocumentBytes }

// Start runs the writers until Shutdown.
func (p *Pipeline) Start() {
	p.startMu.Lock()
	defer p.startMu.Unlock()
	if p.started {
		return
	}
	p.started = true
	for range p.cfg.Writers {
		p.wg.Go(p.writeLoop)
	}
}

// Shutdown stops accepting documents, writes everything queued, and returns
// when the writers have exited or ctx ends. Safe without Start and twice.
func (p *Pipeline) Shutdown(ctx context.Context) error {
	p.stopOnce.Do(func() {
		p.mu.Lock()
		p.stopping = true
		close(p.queue)
		p.mu.Unlock()
		p.startMu.Lock()
		if !p.started {
			// Nobody will drain: fail the waiters.
			for it := range p.queue {
				p.queued.Add(-it.bytes)
				p.metrics.queueDocs.Sub(float64(len(it.docs)))
				if it.done == nil {
					// Fire-and-forget documents have nobody to tell.
					p.metrics.Dropped("udp", "stopping", len(it.docs))
				}
				p.finish(it, ErrStopped)
			}
		}
		p.startMu.Unlock()
	})
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain ingest queue: %w", ctx.Err())
	}
}

// Submit queues docs. With wait, it returns once they are durably stored
// (or the write failed); without, once they are queued. It fails with
// ErrOverloaded when the queue is full and with ErrStopped after Shutdown.
func (p *Pipeline) Submit(ctx context.Context, docs []segment.Document, wait bool) error {
	if len(docs) == 0 {
		return nil
	}
	var n int64
	for i := range docs {
		n += int64(len(docs[i].Raw))
	}
	it := item{docs: docs, bytes: n, queued: time.Now()}
	if wait {
		it.done = make(chan error, 1)
	}
	p.mu.RLock()
	if p.stopping {
		p.mu.RUnlock()
		return ErrStopped
	}
	if p.queued.Add(n) > p.cfg.QueueBytes {
		p.queued.Add(-n)
		p.mu.RUnlock()
		return ErrOverloaded
	}
	// Count before sending: a writer may take the item and subtract it
	// before this goroutine runs again, and the gauge must not go negative.
	p.metrics.queueDocs.Add(float64(len(docs)))
	select {
	case p.queue <- it:
	default:
		p.metrics.queueDocs.Sub(float64(len(docs)))
		p.queued.Add(-n)
		p.mu.RUnlock()
		return ErrOverloaded
	}
	p.mu.RUnlock()
	if !wait {
		return nil
	}
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		// The documents may still be written; the caller was not told so.
		return ctx.Err()
	}
}

func (p *Pipeline) writeLoop() {
	var batch []item
	var docs []segment.Document
	for first := range p.queue {
		var size int
		batch, docs, size = p.collect(first, batch[:0], docs[:0])
		p.write(batch, docs, size)
	}
}

// collect builds a batch from first and whatever else is queued: group
// commit takes what queued up while the last write synced, and a batch under
// half full waits up to BatchDelay for company.
func (p *Pipeline) collect(first item, batch []item, docs []segment.Document) ([]item, []segment.Document, int) {
	batch = append(batch, first)
	docs = append(docs, first.docs...)
	size := int(first.bytes)
	var linger <-chan time.Time
	if p.cfg.BatchDelay > 0 {
		t := time.NewTimer(p.cfg.BatchDelay)
		defer t.Stop()
		linger = t.C
	}
	for len(docs) < p.cfg.MaxBatchDocs && size < p.cfg.MaxBatchBytes {
		var it item
		var ok bool
		select {
		case it, ok = <-p.queue:
		default:
			if linger == nil || 2*len(docs) >= p.cfg.MaxBatchDocs {
				return batch, docs, size
			}
			select {
			case it, ok = <-p.queue:
			case <-linger:
				return batch, docs, size
			}
		}
		if !ok {
			break
		}
		batch = append(batch, it)
		docs = append(docs, it.docs...)
		size += int(it.bytes)
	}
	return batch, docs, size
}

func (p *Pipeline) write(batch []item, docs []segment.Document, size int) {
	start := time.Now()
	err := p.w.WriteDocuments(context.Background(), docs)
	p.metrics.storeSeconds.Observe(time.Since(start).Seconds())
	p.metrics.batchDocs.Observe(float64(len(docs)))
	p.queued.Add(-int64(size))
	p.metrics.queueDocs.Sub(float64(len(docs)))
	if err != nil {
		p.metrics.storeErrors.Inc()
		// Waiting callers get the error; only fire-and-forget documents
		// (UDP) have nobody else to report it to.
		if p.hasFireAndForget(batch) {
			p.logStoreError(len(docs), err)
		}
	} else {
		p.metrics.stored.Add(float64(len(docs)))
	}
	now := time.Now()
	for _, it := range batch {
		p.metrics.latency.Observe(now.Sub(it.queued).Seconds())
		if it.done == nil && err != nil {
			p.metrics.dropped.WithLabelValues("udp", "store_error").Add(float64(len(it.docs)))
		}
		p.finish(it, err)
	}
}

func (p *Pipeline) finish(it item, err error) {
	if it.done != nil {
		it.done <- err
	}
}

func (p *Pipeline) hasFireAndForget(batch []item) bool {
	for _, it := range batch {
		if it.done == nil {
			return true
		}
	}
	return false
}

// logStoreError logs a failed write at most once a second, with how many
// failures it did not log, so a failing disk cannot flood the log.
func (p *Pipeline) logStoreError(docs int, err error) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	if time.Since(p.lastLog) < time.Second {
		p.suppressed++
		return
	}
	p.log.Error("write batch; documents from UDP are lost", "documents", docs, "err", err, "suppressed_since_last", p.suppressed)
	p.lastLog, p.suppressed = time.Now(), 0
}
