package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
)

// maxTracesPerPass bounds one summarizer batch so a backlog after a restart
// is worked off in steps.
const maxTracesPerPass = 2000

func (db *DB) summarizeLoop() {
	t := time.NewTicker(db.cfg.SummaryInterval)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
		}
		if err := db.summarizeDirty(false); err != nil {
			db.log.Error("summarize traces", "err", err)
		}
	}
}

// summarizeDirty runs passes over every dirty marker. Unless force is set,
// traces still receiving documents (settling) are left for a later pass.
func (db *DB) summarizeDirty(force bool) error {
	var from []byte
	for {
		next, err := db.summarizePass(from, force)
		if err != nil || next == nil {
			return err
		}
		from = next
	}
}

// Flush summarizes every trace written so far. Tests and benchmarks use it to
// make writes searchable without waiting for the background pass.
func (db *DB) Flush(ctx context.Context) error {
	if !db.enter() {
		return store.ErrClosed
	}
	defer db.ops.Done()
	return db.summarizeAll(ctx)
}

// summarizeAll runs summarizer passes until no dirty marker is left.
func (db *DB) summarizeAll(ctx context.Context) error {
	var from []byte
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		next, err := db.summarizePass(from, true)
		if err != nil || next == nil {
			return err
		}
		from = next
	}
}

type dirtyTrace struct {
	keys           [][]byte
	count          uint64
	oldest, newest uint64 // marker times, ns since the epoch
}

// A trace is summarized once it has been quiet for summarySettle, or at the
// latest summaryMaxDelay after its first unsummarized write: most traces'
// documents arrive within a few hundred milliseconds, and summarizing them
// once instead of after every document saves most of the work, while
// keeping traces searchable within about a second.
const (
	summarySettle   = 250 * time.Millisecond
	summaryMaxDelay = time.Second
)

// summarizePass recomputes the summaries of up to maxTracesPerPass traces
// with dirty markers at or after from, and returns where the next pass
// starts (nil when every marker was seen). Unless force is set it skips
// traces that are still settling.
func (db *DB) summarizePass(from []byte, force bool) ([]byte, error) {
	db.sumMu.Lock()
	defer db.sumMu.Unlock()

	dirty := map[segment.TraceID]*dirtyTrace{}
	var order []segment.TraceID
	lo := []byte{prefixDirty}
	if from != nil {
		lo = from
	}
	// The iterator is a snapshot; taken under commitMu, every marker in it
	// belongs to a write whose documents are already in the pending cache.
	db.commitMu.Lock()
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd([]byte{prefixDirty})})
	db.commitMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("iterate dirty markers: %w", err)
	}
	var next []byte
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 1+16+8 {
			continue
		}
		tid := traceFromKey(k, 1)
		d := dirty[tid]
		if d == nil {
			if len(order) == maxTracesPerPass {
				next = copyBytes(k) // the next pass starts at this trace
				break
			}
			d = &dirtyTrace{}
			dirty[tid] = d
			order = append(order, tid)
		}
		n, _ := binary.Uvarint(it.Value())
		d.count += n
		d.keys = append(d.keys, copyBytes(k))
		at := binary.BigEndian.Uint64(k[17:])
		if d.oldest == 0 || at < d.oldest {
			d.oldest = at
		}
		d.newest = max(d.newest, at)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("iterate dirty markers: %w", err)
	}
	if !force {
		now := uint64(db.now().UnixNano())
		settled := order[:0]
		for _, tid := range order {
			d := dirty[tid]
			// Markers from the future (a clock set back) count as settled.
			settling := d.newest <= now && now-d.newest < uint64(summarySettle) && now-d.oldest < uint64(summaryMaxDelay)
			if settling {
				continue // still receiving documents: next pass
			}
			settled = append(settled, tid)
		}
		order = settled
	}
	if len(order) == 0 {
		return next, nil
	}

	b := db.pdb.NewBatch()
	defer b.Close()
	ctx := context.Background()
	type result struct {
		id        segment.TraceID
		fromCache bool
	}
	done := make([]result, 0, len(order))
	var touched []uint32 // rollup minutes this pass makes stale
	for _, tid := range order {
		d := dirty[tid]
		fromCache, err := db.summarizeTrace(ctx, b, tid, d.count, &touched)
		if err != nil {
			// A trace that cannot be summarized must not block the others;
			// its marker stays for the next pass.
			db.log.Error("summarize trace", "trace_id", tid, "err", err)
			continue
		}
		done = append(done, result{tid, fromCache})
		for _, k := range d.keys {
			if err := b.Delete(k, nil); err != nil {
				return nil, fmt.Errorf("batch delete marker: %w", err)
			}
		}
	}
	// One deletion per stale rollup, however many of the pass's traces
	// fall in its minute.
	slices.Sort(touched)
	touched = slices.Compact(touched)
	for _, m := range touched {
		if err := b.Delete(rollupKey(m), nil); err != nil {
			return nil, fmt.Errorf("batch delete graph rollup: %w", err)
		}
	}
	// Markers and summaries change together; losing this batch in a crash
	// only means the markers are processed again.
	if err := b.Commit(pebble.NoSync); err != nil {
		return nil, fmt.Errorf("commit summaries: %w", err)
	}
	for _, r := range done {
		db.pending.summarized(r.id, dirty[r.id].count, r.fromCache)
	}
	db.rollupsChanged(touched)
	return next, nil
}

func (db *DB) summarizeTrace(ctx context.Context, b *pebble.Batch, tid segment.TraceID, added uint64, touched *[]uint32) (fromCache bool, err error) {
	old, oldWritten, err := db.storedSummary(tid)
	hadOld := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	docs, fromCache := db.pending.take(tid, added, hadOld)
	if !fromCache {
		docs, err = db.traceDocuments(ctx, tid)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil // removed by retention meanwhile
		}
		if err != nil {
			return false, err
		}
	}
	t := segment.Assemble(tid, docs)
	s := summary.Compute(t, old.Revision+int(added))
	written := uint32(max(0, db.now().Unix()))
	if err := b.Set(summaryKey(tid), encodeSummaryValue(s, written), nil); err != nil {
		return fromCache, err
	}
	// The write-time index: retention removes traces nobody wrote to for
	// the retention period, whatever their trace ids or timestamps say.
	if hadOld && oldWritten != written {
		if err := b.Delete(writtenKey(oldWritten, tid), nil); err != nil {
			return fromCache, err
		}
	}
	if err := b.Set(writtenKey(written, tid), nil, nil); err != nil {
		return fromCache, err
	}
	newAct := toMicros(lastActivity(s))
	// The trace changes the graph rollup of its activity minute (and of
	// the minute it leaves): the pass deletes those.
	*touched = append(*touched, minuteOf(newAct))
	var oldAct uint64
	var prev *summary.Summary
	if hadOld {
		prev = &old
		if oldAct = toMicros(lastActivity(old)); oldAct != newAct {
			if err := b.Delete(eventKey(oldAct, tid), nil); err != nil {
				return fromCache, err
			}
			*touched = append(*touched, minuteOf(oldAct))
		}
	}
	if err := indexTerms(b, tid, prev, oldAct, &s, newAct); err != nil {
		return fromCache, fmt.Errorf("index terms: %w", err)
	}
	return fromCache, b.Set(eventKey(newAct, tid), nil, nil)
}

// lastActivity is the latest start or end time of any segment.
func lastActivity(s summary.Summary) float64 {
	last := s.StartTime
	for _, e := range s.Events {
		last = math.Max(last, math.Max(e.Start, e.End))
	}
	return last
}

// Summary implements store.Reader.
func (db *DB) Summary(ctx context.Context, id segment.TraceID) (summary.Summary, error) {
	if !db.enter() {
		return summary.Summary{}, store.ErrClosed
	}
	defer db.ops.Done()
	if err := ctx.Err(); err != nil {
		return summary.Summary{}, err
	}
	return db.summary(id)
}

func (db *DB) summary(id segment.TraceID) (summary.Summary, error) {
	s, _, err := db.storedSummary(id)
	return s, err
}

// storedSummary returns the trace's summary and when it was written.
func (db *DB) storedSummary(id segment.TraceID) (summary.Summary, uint32, error) {
	v, closer, err := db.pdb.Get(summaryKey(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return summary.Summary{}, 0, store.ErrNotFound
	}
	if err != nil {
		return summary.Summary{}, 0, fmt.Errorf("get summary %s: %w", id, err)
	}
	defer closer.Close()
	s, err := decodeSummary(id, v)
	return s, summaryWritten(v), err
}

// decodeSummary reads a summary value of any version written so far.
func decodeSummary(id segment.TraceID, v []byte) (summary.Summary, error) {
	var s summary.Summary
	if len(v) < 1 {
		return s, fmt.Errorf("summary of %s is empty", id)
	}
	switch v[0] {
	case summaryVersion:
		return decodeSummaryV2(id, v[1:])
	case 1: // JSON, written before the compact form
		if err := json.Unmarshal(v[1:], &s); err != nil {
			return s, fmt.Errorf("decode summary %s: %w", id, err)
		}
		return s, nil
	}
	return s, fmt.Errorf("summary of %s has value version %d; this thaw reads 1 and %d", id, v[0], summaryVersion)
}

// Summaries implements store.Reader.
func (db *DB) Summaries(ctx context.Context, q store.SummaryQuery) iter.Seq2[store.Hit, error] {
	return func(yield func(store.Hit, error) bool) {
		if !db.enter() {
			yield(store.Hit{}, store.ErrClosed)
			return
		}
		defer db.ops.Done()
		if err := ctx.Err(); err != nil {
			yield(store.Hit{}, err)
			return
		}
		var lo, hi []byte
		start := float64(q.Start.UnixNano()) / 1e9
		end := float64(q.End.UnixNano()) / 1e9
		switch q.Range {
		case store.ByTraceID:
			lo = epochBound(uint32(math.Max(0, math.Min(math.Ceil(start), math.MaxUint32))))
			hi = epochBound(uint32(math.Max(0, math.Min(math.Ceil(end), math.MaxUint32))))
		case store.ByActivity:
			lo = microsBound(toMicros(start))
			hi = microsBound(toMicros(end))
		default:
			lo = microsBound(toMicros(start))
			hi = microsBound(toMicros(end + db.cfg.MaxTraceSpan.Seconds()))
		}
		if len(q.After) > 0 && bytes.Compare(q.After, hi) < 0 {
			hi = q.After
		}
		if bytes.Compare(lo, hi) >= 0 {
			return // an empty range, or a cursor at or below its start: nothing left
		}
		if !q.Match.Everything() {
			db.indexedSummaries(ctx, q, lo, hi, start, end, yield)
			return
		}
		it, err := db.pdb.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			yield(store.Hit{}, fmt.Errorf("iterate summaries: %w", err))
			return
		}
		defer it.Close()
		for ok := it.Last(); ok; ok = it.Prev() {
			if err := ctx.Err(); err != nil {
				yield(store.Hit{}, err)
				return
			}
			k := it.Key()
			var hit store.Hit
			switch q.Range {
			case store.ByTraceID:
				if len(k) != 17 {
					continue
				}
				s, err := decodeSummary(traceFromKey(k, 1), it.Value())
				if err != nil {
					yield(store.Hit{}, fmt.Errorf("trace %s: %w", traceFromKey(k, 1), err))
					return
				}
				hit = store.Hit{Summary: s, IndexTime: float64(traceFromKey(k, 1).Epoch())}
			default:
				if len(k) != 1+8+16 {
					continue
				}
				s, err := db.summary(traceFromKey(k, 9))
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					yield(store.Hit{}, err)
					return
				}
				var ok bool
				if hit, ok = eventHit(s, k[1:9], q.Range, start, end); !ok {
					continue
				}
			}
			hit.Cursor = copyBytes(k)
			if !yield(hit, nil) {
				return
			}
		}
		if err := it.Error(); err != nil {
			yield(store.Hit{}, fmt.Errorf("iterate summaries: %w", err))
		}
	}
}

// eventHit is the hit of a summary found in an activity-ordered scan at
// the 8-byte activity key micros, or false when none of its events falls
// in the range (ByEvent, ByService).
func eventHit(s summary.Summary, micros []byte, rt store.RangeType, start, end float64) (store.Hit, bool) {
	at := float64(binary.BigEndian.Uint64(micros)) / 1e6
	t, ok := at, true
	if rt != store.ByActivity {
		t, ok = matchEvent(s, start, end, rt == store.ByService)
	}
	return store.Hit{Summary: s, MatchedEventTime: t, IndexTime: at}, ok
}

// matchEvent returns the latest segment start or end (only ends when
// endsOnly) within [start, end).
func matchEvent(s summary.Summary, start, end float64, endsOnly bool) (float64, bool) {
	best, found := 0.0, false
	consider := func(t float64) {
		if t >= start && t < end && (!found || t > best) {
			best, found = t, true
		}
	}
	for _, e := range s.Events {
		if e.End > 0 {
			consider(e.End)
		}
		if !endsOnly {
			consider(e.Start)
		}
	}
	return best, found
}

func (db *DB) retentionLoop() {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := db.applyRetention(time.Now()); err != nil {
			db.log.Error("apply retention", "err", err)
		}
		select {
		case <-db.stop:
			return
		case <-t.C:
		}
	}
}

// applyRetention deletes every trace whose summary was last written
// (by the server's clock) before the retention period: a trace nobody has
// written to for that long. Trace-id epochs and segment times are the
// producers' and may be anything (random W3C-derived epochs, imported old
// traces), so they decide nothing here.
func (db *DB) applyRetention(now time.Time) error {
	// Pending writes first, so that a late document refreshes its trace's
	// write time instead of being deleted with it.
	if err := db.summarizeAll(context.Background()); err != nil {
		return fmt.Errorf("summarize before retention: %w", err)
	}
	// Not during a summarizer pass: one that read an expired trace's
	// documents before the deletion would write its summary back after it.
	db.sumMu.Lock()
	defer db.sumMu.Unlock()
	cutoff := uint32(max(0, now.Add(-db.cfg.Retention).Unix()))
	lo := []byte{prefixWritten}
	hi := binary.BigEndian.AppendUint32([]byte{prefixWritten}, cutoff)
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("iterate write times: %w", err)
	}
	var expired [][]byte
	for ok := it.First(); ok; ok = it.Next() {
		expired = append(expired, copyBytes(it.Key()))
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fmt.Errorf("iterate write times: %w", err)
	}
	const perBatch = 1000
	for len(expired) > 0 {
		n := min(perBatch, len(expired))
		if err := db.deleteTraces(expired[:n]); err != nil {
			return err
		}
		expired = expired[n:]
	}
	return nil
}

// deleteTraces removes the traces of the given write-time keys: documents,
// markers and summary, with their event and write-time entries.
func (db *DB) deleteTraces(writtenKeys [][]byte) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	var touched []uint32 // graph rollups that counted these traces
	for _, wk := range writtenKeys {
		tid := traceFromKey(wk, 5)
		if s, err := db.summary(tid); err == nil {
			act := toMicros(lastActivity(s))
			if err := errors.Join(b.Delete(eventKey(act, tid), nil), b.Delete(rollupKey(minuteOf(act)), nil), unindexTerms(b, tid, &s, act)); err != nil {
				return err
			}
			touched = append(touched, minuteOf(act))
		} else if !errors.Is(err, store.ErrNotFound) {
			db.log.Warn("expire trace: its summary does not decode, so its event and index entries stay", "trace_id", tid, "err", err)
		}
		for _, p := range []byte{prefixDoc, prefixDirty} {
			tp := tracePrefix(p, tid)
			if err := b.DeleteRange(tp, prefixEnd(tp), nil); err != nil {
				return err
			}
		}
		if err := errors.Join(b.Delete(summaryKey(tid), nil), b.Delete(wk, nil)); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("delete %d expired traces: %w", len(writtenKeys), err)
	}
	db.rollupsChanged(touched)
	return nil
}
