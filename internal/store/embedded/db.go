// Package embedded is thaw's default store: Pebble, an LSM key-value engine,
// in a local directory, with the key layout of docs/store-format.md.
//
// Writes are synced to Pebble's write-ahead log before WriteDocuments
// returns. Trace summaries are computed by a background summarizer from
// durable "dirty" markers written with the documents, so a crash between a
// write and its summary only delays the summary.
//
// It imports store, segment and analyze/summary; never ingest or query.
package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable/block"

	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
)

// Config configures the embedded store.
type Config struct {
	// Dir is the data directory; created if missing.
	Dir string
	// SummaryInterval is how often the summarizer looks for changed traces.
	SummaryInterval time.Duration
	// Retention is how long traces are kept, by trace-id epoch; 0 keeps
	// them forever.
	Retention time.Duration
	// MaxTraceSpan bounds how long a trace may last and still be found by
	// its events (TimeRangeType Event and Service).
	MaxTraceSpan time.Duration
	// CacheSize is Pebble's block cache in bytes.
	CacheSize int64
	// MemTableSize is Pebble's memtable size in bytes.
	MemTableSize uint64
	// PendingBytes bounds the documents kept in memory for the summarizer,
	// by their raw size (see pending.go); beyond it, traces are read back
	// from the store.
	PendingBytes int
}

// DefaultConfig returns the defaults: ./thaw-data, summaries every 250 ms,
// 30 days of retention.
func DefaultConfig() Config {
	return Config{
		Dir:             "thaw-data",
		SummaryInterval: 250 * time.Millisecond,
		Retention:       30 * 24 * time.Hour,
		MaxTraceSpan:    time.Hour,
		CacheSize:       64 << 20,
		MemTableSize:    32 << 20,
		PendingBytes:    64 << 20,
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("embedded store: data directory is empty")
	}
	if c.SummaryInterval <= 0 {
		return errors.New("embedded store: summary interval must be positive")
	}
	if c.Retention < 0 {
		return errors.New("embedded store: retention must not be negative")
	}
	return nil
}

// DB is an open embedded store.
type DB struct {
	cfg Config
	log *slog.Logger
	pdb *pebble.DB
	// seq is the last dirty-marker sequence: nanoseconds since the epoch,
	// made strictly increasing, so a marker also says when it was written.
	seq atomic.Uint64
	now func() time.Time

	// mu guards closed and started. Every call that touches pdb enters
	// through enter, which counts it in ops; Close waits for ops before it
	// closes Pebble, which panics when used during or after its Close.
	mu      sync.RWMutex
	closed  bool
	started bool
	ops     sync.WaitGroup

	stop     chan struct{}
	wg       sync.WaitGroup
	closeErr error
	closeMu  sync.Once

	// sumMu serialises summarizer passes (the background loop, Flush and
	// Close) and retention.
	sumMu sync.Mutex

	pending *pending
	// commitMu makes a write's commit and its entry in pending one step for
	// the summarizer: writers hold it shared across both, and a pass holds
	// it exclusively while it takes its snapshot of the dirty markers.
	commitMu sync.RWMutex

	// rollupGen counts, per epoch minute, the summarizer passes that made
	// its graph rollup stale (see RollupGeneration).
	rollupMu  sync.Mutex
	rollupGen map[uint32]uint64
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the store in cfg.Dir. It starts nothing;
// call Start to run the summarizer and retention.
func Open(cfg Config, log *slog.Logger) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", cfg.Dir, err)
	}
	opts := &pebble.Options{
		// Pebble charges its memtables to the block cache; without room
		// for two of them on top, blocks are never cached at all, and every
		// look-up decompresses index and filter blocks again.
		Cache:        pebble.NewCache(cfg.CacheSize + 2*int64(cfg.MemTableSize)),
		MemTableSize: cfg.MemTableSize,
		Logger:       pebbleLogger{log.With("component", "pebble")},
	}
	defer opts.Cache.Unref()
	// Keys start with the trace id, whose first bytes are its epoch, so new
	// data lands at the end of the key space and compactions mostly move
	// tables down without rewriting them: a table keeps the compression it
	// was flushed with. So every level gets zstd and large blocks, paid once
	// at flush, rather than cheap compression that would stay forever. Not
	// an adaptive profile: those chose snappy for every block of our data.
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings {
		return pebble.UniformDBCompressionSettings(block.ZstdCompression)
	})
	for i := range opts.Levels {
		opts.Levels[i].BlockSize = 64 << 10
		// Bloom filters let the summarizer's look-up of a trace's previous
		// summary, which usually does not exist, skip the tables on disk.
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	pdb, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open pebble in %s: %w", cfg.Dir, err)
	}
	db := &DB{cfg: cfg, log: log, pdb: pdb, stop: make(chan struct{}), pending: newPending(cfg.PendingBytes)}
	if err := db.checkFormat(); err != nil {
		_ = pdb.Close()
		return nil, err
	}
	stale, err := db.dirtyTraces()
	if err != nil {
		_ = pdb.Close()
		return nil, err
	}
	db.pending.markUncached(stale)
	db.now = time.Now
	return db, nil
}

func (db *DB) checkFormat() error {
	v, closer, err := db.pdb.Get(metaFormatKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return db.pdb.Set(metaFormatKey, []byte(strconv.Itoa(FormatVersion)), pebble.Sync)
	}
	if err != nil {
		return fmt.Errorf("read format version: %w", err)
	}
	defer closer.Close()
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 1 || n > FormatVersion {
		return fmt.Errorf("data directory %s has store format %q; this thaw reads formats 1..%d", db.cfg.Dir, v, FormatVersion)
	}
	if n == 1 {
		return db.migrateFormat1()
	}
	return nil
}

// enter admits a call that uses Pebble, or reports false when the store is
// closed. An admitted call must call db.ops.Done when it no longer uses
// Pebble (iterators included).
func (db *DB) enter() bool {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return false
	}
	db.ops.Add(1) // never concurrent with ops.Wait: Close sets closed first
	return true
}

// Start runs the summarizer and retention in the background until Close.
func (db *DB) Start() {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.started || db.closed {
		return
	}
	db.started = true
	db.wg.Go(db.summarizeLoop)
	if db.cfg.Retention > 0 {
		db.wg.Go(db.retentionLoop)
	}
}

// Close stops the background work, waits for the calls in flight (a
// Summaries sequence counts until its loop ends, so Close must not be called
// from inside one), summarizes what is still pending, and closes Pebble
// (flushing memtables). Later calls return store.ErrClosed. Safe to call
// twice and without Start.
func (db *DB) Close() error {
	db.closeMu.Do(func() {
		db.mu.Lock()
		db.closed = true
		db.mu.Unlock()
		close(db.stop)
		db.wg.Wait()
		db.ops.Wait()
		// Summaries first, so a clean shutdown leaves every trace searchable
		// at the next start without waiting for the summarizer.
		err := db.summarizeAll(context.Background())
		err = errors.Join(err, db.pdb.Flush())
		db.closeErr = errors.Join(err, db.pdb.Close())
	})
	return db.closeErr
}

// WriteDocuments implements store.Writer.
func (db *DB) WriteDocuments(ctx context.Context, docs []segment.Document) error {
	if !db.enter() {
		return store.ErrClosed
	}
	defer db.ops.Done()
	if err := ctx.Err(); err != nil {
		return err
	}
	size := 0
	for i := range docs {
		if docs[i].Entity == nil {
			return fmt.Errorf("write document %s: it has no decoded entity; pass documents as segment.Decode returns them", docs[i].ID)
		}
		size += docKeyLen + 1 + len(docs[i].Raw) + 16
	}
	b := db.pdb.NewBatchWithSize(size)
	defer b.Close()
	var key []byte
	counts := make(map[segment.TraceID]uint64, 8)
	for i := range docs {
		d := &docs[i]
		key = docKey(key[:0], d.TraceID, d.ID, d.Entity.Complete())
		// Written in place in the batch: no copy of the document per write.
		op := b.SetDeferred(len(key), 1+len(d.Raw))
		copy(op.Key, key)
		op.Value[0] = valueVersion
		copy(op.Value[1:], d.Raw)
		if err := op.Finish(); err != nil {
			return fmt.Errorf("batch set document %s: %w", d.ID, err)
		}
		counts[d.TraceID]++
	}
	for tid, n := range counts {
		if err := b.Set(dirtyKey(tid, db.nextSeq()), binary.AppendUvarint(nil, n), nil); err != nil {
			return fmt.Errorf("batch set dirty marker: %w", err)
		}
	}
	db.commitMu.RLock()
	defer db.commitMu.RUnlock()
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("commit %d documents: %w", len(docs), err)
	}
	db.pending.add(docs)
	return nil
}

// dirtyTraces lists the traces with dirty markers, as found at Open.
func (db *DB) dirtyTraces() ([]segment.TraceID, error) {
	lo := []byte{prefixDirty}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, fmt.Errorf("iterate dirty markers: %w", err)
	}
	var ids []segment.TraceID
	for ok := it.First(); ok; ok = it.Next() {
		if k := it.Key(); len(k) == 1+16+8 {
			if id := traceFromKey(k, 1); len(ids) == 0 || ids[len(ids)-1] != id {
				ids = append(ids, id)
			}
		}
	}
	return ids, errors.Join(it.Error(), it.Close())
}

// Compact rewrites the whole store into its final, most compressed form.
// A long-running store converges there by itself; `thaw bench` uses this to
// report the size a store settles to.
func (db *DB) Compact(ctx context.Context) error {
	if !db.enter() {
		return store.ErrClosed
	}
	defer db.ops.Done()
	if err := db.pdb.Compact(ctx, []byte{0}, []byte{0xff}, true); err != nil {
		return fmt.Errorf("compact store: %w", err)
	}
	return nil
}

// TraceDocuments implements store.Reader.
func (db *DB) TraceDocuments(ctx context.Context, id segment.TraceID) ([]segment.Document, error) {
	if !db.enter() {
		return nil, store.ErrClosed
	}
	defer db.ops.Done()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return db.traceDocuments(ctx, id)
}

func (db *DB) traceDocuments(ctx context.Context, id segment.TraceID) ([]segment.Document, error) {
	p := tracePrefix(prefixDoc, id)
	it, err := db.pdb.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("iterate trace %s: %w", id, err)
	}
	defer it.Close()
	var docs []segment.Document
	for ok := it.First(); ok; ok = it.Next() {
		v := it.Value()
		if len(v) < 1 || v[0] != valueVersion {
			return nil, fmt.Errorf("trace %s: document value version %v is unknown", id, v[:min(1, len(v))])
		}
		ds, errs := segment.Decode(v[1:], len(v))
		if len(errs) > 0 {
			// A document an older thaw accepted may fail a stricter rule
			// now. One such document must not hide the rest of its trace.
			db.log.Warn("stored document no longer decodes; leaving it out", "trace_id", id, "err", errs[0])
			continue
		}
		docs = append(docs, ds...)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("iterate trace %s: %w", id, err)
	}
	if len(docs) == 0 {
		return nil, store.ErrNotFound
	}
	return docs, nil
}

type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug("pebble", "msg", fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("pebble", "msg", fmt.Sprintf(format, args...))
}

// Fatalf reports an invariant Pebble found broken; Pebble does not expect
// it to return. A panic, unlike os.Exit, still runs deferred cleanup.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error("pebble fatal", "msg", msg)
	panic("pebble: " + msg)
}

func copyBytes(b []byte) []byte { return bytes.Clone(b) }

// nextSeq returns a marker sequence number: the current time in nanoseconds,
// or one more than the last number when the clock has not moved on.
func (db *DB) nextSeq() uint64 {
	for {
		last := db.seq.Load()
		n := max(last+1, uint64(db.now().UnixNano()))
		if db.seq.CompareAndSwap(last, n) {
			return n
		}
	}
}
