package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
)

// The term index (docs/store-format.md, tables p and q): for every term of a
// trace's summary (store.Terms), one posting keyed by trace id and one keyed
// by last activity, so a scan narrowed by a store.Match walks the postings in
// exactly the order, and with the same cursors, as the summary and event
// scans it replaces.

// indexTerms updates a trace's postings in b from its previous summary (nil
// when it had none) to its new one; act values are last-activity times in µs.
func indexTerms(b *pebble.Batch, tid segment.TraceID, old *summary.Summary, oldAct uint64, s *summary.Summary, newAct uint64) error {
	var before []store.Term
	if old != nil {
		before = store.Terms(old)
	}
	after := store.Terms(s)
	moved := old != nil && oldAct != newAct
	for _, t := range before {
		_, kept := slices.BinarySearch(after, t)
		if !kept {
			if err := b.Delete(postingByTrace(t, tid), nil); err != nil {
				return err
			}
		}
		if !kept || moved {
			if err := b.Delete(postingByTime(t, oldAct, tid), nil); err != nil {
				return err
			}
		}
	}
	for _, t := range after {
		_, had := slices.BinarySearch(before, t)
		if !had {
			if err := b.Set(postingByTrace(t, tid), nil, nil); err != nil {
				return err
			}
		}
		if !had || moved {
			if err := b.Set(postingByTime(t, newAct, tid), nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// unindexTerms deletes every posting of a trace's summary.
func unindexTerms(b *pebble.Batch, tid segment.TraceID, s *summary.Summary, act uint64) error {
	for _, t := range store.Terms(s) {
		if err := errors.Join(b.Delete(postingByTrace(t, tid), nil), b.Delete(postingByTime(t, act, tid), nil)); err != nil {
			return err
		}
	}
	return nil
}

// postings walks the traces a Match admits, newest first, as key suffixes
// after a term's prefix: trace (16) in table p, activity (8) · trace (16) in
// table q. Each step is seekLT: the greatest admitted suffix below target
// (nil: the greatest of all). The returned slice is valid until the next
// call.
type postings interface {
	seekLT(target []byte) ([]byte, bool)
}

// termPostings is one term's postings within the scan's bounds.
type termPostings struct {
	it     *pebble.Iterator
	prefix []byte
	size   int // suffix length
	key    []byte
}

func (p *termPostings) seekLT(target []byte) ([]byte, bool) {
	var ok bool
	if target == nil {
		ok = p.it.Last()
	} else {
		p.key = append(append(p.key[:0], p.prefix...), target...)
		ok = p.it.SeekLT(p.key)
	}
	for ok && len(p.it.Key()) != len(p.prefix)+p.size {
		ok = p.it.Prev() // not a posting of this layout; skip it
	}
	if !ok {
		return nil, false
	}
	return p.it.Key()[len(p.prefix):], true
}

// allPostings intersects: it leapfrogs its elements down to a suffix they
// all hold.
type allPostings struct {
	elems      []postings
	cand, next []byte
}

func (a *allPostings) seekLT(target []byte) ([]byte, bool) {
	for {
		c, ok := a.elems[0].seekLT(target)
		if !ok {
			return nil, false
		}
		a.cand = append(a.cand[:0], c...)
		agreed := true
		for _, e := range a.elems[1:] {
			got, ok := e.seekLT(append(a.cand, 0)) // at or below cand
			if !ok {
				return nil, false
			}
			if !bytes.Equal(got, a.cand) {
				// got < cand: no element at or above got can agree above it.
				a.next = append(append(a.next[:0], got...), 0)
				target = a.next
				agreed = false
				break
			}
		}
		if agreed {
			return a.cand, true
		}
	}
}

// anyPostings unites: the greatest suffix any element holds.
type anyPostings struct {
	elems []postings
	best  []byte
}

func (o *anyPostings) seekLT(target []byte) ([]byte, bool) {
	found := false
	for _, e := range o.elems {
		got, ok := e.seekLT(target)
		if ok && (!found || bytes.Compare(got, o.best) > 0) {
			o.best = append(o.best[:0], got...)
			found = true
		}
	}
	return o.best, found
}

// iterSource is where postings are read from: one snapshot, so that every
// term's iterator sees the same state of the index.
type iterSource interface {
	NewIterWithContext(ctx context.Context, o *pebble.IterOptions) (*pebble.Iterator, error)
}

// openPostings builds the walk of m over [lo, hi) suffixes of table, opening
// one iterator of src per term (appended to its, which the caller closes).
func openPostings(ctx context.Context, src iterSource, m store.Match, table byte, size int, lo, hi []byte, its *[]*pebble.Iterator) (postings, error) {
	switch {
	case m.Term != "":
		prefix := termPrefix(nil, table, m.Term)
		it, err := src.NewIterWithContext(ctx, &pebble.IterOptions{
			LowerBound: append(slices.Clip(prefix), lo...),
			UpperBound: append(slices.Clip(prefix), hi...),
		})
		if err != nil {
			return nil, fmt.Errorf("iterate postings: %w", err)
		}
		*its = append(*its, it)
		return &termPostings{it: it, prefix: prefix, size: size}, nil
	case len(m.All) > 0, len(m.Any) > 0:
		elems := m.All
		if len(elems) == 0 {
			elems = m.Any
		}
		ps := make([]postings, 0, len(elems))
		for _, e := range elems {
			p, err := openPostings(ctx, src, e, table, size, lo, hi, its)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		if len(m.All) > 0 {
			return &allPostings{elems: ps}, nil
		}
		return &anyPostings{elems: ps}, nil
	}
	return nil, errors.New("postings of a match that admits everything")
}

// indexedSummaries is Summaries narrowed by q.Match, over the scan's key
// bounds lo and hi (in table s for ByTraceID, e otherwise).
func (db *DB) indexedSummaries(ctx context.Context, q store.SummaryQuery, lo, hi []byte, start, end float64, yield func(store.Hit, error) bool) {
	table, scanTable, size := byte(prefixByTrace), byte(prefixSummary), 16
	if q.Range != store.ByTraceID {
		table, scanTable, size = prefixByTime, prefixEvent, 8+16
	}
	// Each term has its own iterator. Read separately, a summarize batch
	// committing between them could move a trace's activity postings so
	// that an all-of walk finds the trace under neither time, or an any-of
	// walk under both.
	snap := db.pdb.NewSnapshot()
	defer func() { _ = snap.Close() }()
	var its []*pebble.Iterator
	defer func() {
		for _, it := range its {
			_ = it.Close()
		}
	}()
	root, err := openPostings(ctx, snap, q.Match, table, size, lo[1:], hi[1:], &its)
	if err != nil {
		yield(store.Hit{}, err)
		return
	}
	var target []byte
	for {
		if err := ctx.Err(); err != nil {
			yield(store.Hit{}, err)
			return
		}
		suf, ok := root.seekLT(target)
		if !ok {
			break
		}
		target = append(target[:0], suf...)
		var hit store.Hit
		if q.Range == store.ByTraceID {
			tid := traceFromKey(suf, 0)
			s, err := db.summary(tid)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				yield(store.Hit{}, err)
				return
			}
			hit = store.Hit{Summary: s, IndexTime: float64(tid.Epoch())}
		} else {
			s, err := db.summary(traceFromKey(suf, 8))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				yield(store.Hit{}, err)
				return
			}
			var ok bool
			if hit, ok = eventHit(s, suf[:8], q.Range, start, end); !ok {
				continue
			}
		}
		hit.Cursor = append([]byte{scanTable}, suf...)
		if !yield(hit, nil) {
			return
		}
	}
	for _, it := range its {
		if err := it.Error(); err != nil {
			yield(store.Hit{}, fmt.Errorf("iterate postings: %w", err))
			return
		}
	}
}

// migrateFormat1 builds the term index of a format-1 store, which has none,
// and records format 2. It runs at Open, before anything else reads or
// writes, in batches; a crash part-way leaves format 1, and the next Open
// starts over (setting a posting twice is harmless).
func (db *DB) migrateFormat1() error {
	lo := []byte{prefixSummary}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return fmt.Errorf("iterate summaries: %w", err)
	}
	defer it.Close()
	b := db.pdb.NewBatch()
	defer func() { _ = b.Close() }()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 17 {
			continue
		}
		tid := traceFromKey(k, 1)
		s, err := decodeSummary(tid, it.Value())
		if err != nil {
			db.log.Warn("summary does not decode; not indexing it", "trace_id", tid, "err", err)
			continue
		}
		if err := indexTerms(b, tid, nil, 0, &s, toMicros(lastActivity(s))); err != nil {
			return fmt.Errorf("index trace %s: %w", tid, err)
		}
		if n++; n%1000 == 0 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return fmt.Errorf("commit postings: %w", err)
			}
			_ = b.Close()
			b = db.pdb.NewBatch()
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("iterate summaries: %w", err)
	}
	if err := b.Set(metaFormatKey, []byte(strconv.Itoa(FormatVersion)), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("commit postings: %w", err)
	}
	db.log.Info("indexed the store's traces for format 2", "traces", n)
	return nil
}
