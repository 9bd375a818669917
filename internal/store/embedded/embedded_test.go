package embedded

import (
	"bytes"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	gocmp "github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testConfig is a small store in dir that keeps everything (retention would
// delete the suite's fixed 2024 timestamps).
func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Dir = dir
	cfg.SummaryInterval = 5 * time.Millisecond
	cfg.Retention = 0
	cfg.CacheSize = 8 << 20
	cfg.MemTableSize = 4 << 20
	return cfg
}

func open(t testing.TB, cfg Config) *DB {
	t.Helper()
	db, err := Open(cfg, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", cfg.Dir, err)
	}
	return db
}

// crash ends db as a crash would after its last acknowledged write: Pebble is
// closed (its synced WAL is all that reaches the next Open) without the
// summarizer pass and the memtable flush that Close does.
func (db *DB) crash(t testing.TB) {
	t.Helper()
	db.closeMu.Do(func() {
		db.mu.Lock()
		db.closed = true
		db.mu.Unlock()
		close(db.stop)
		db.wg.Wait()
		db.ops.Wait()
		db.closeErr = db.pdb.Close()
	})
	if db.closeErr != nil {
		t.Fatalf("close pebble: %v", db.closeErr)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend {
		db := open(t, testConfig(t.TempDir()))
		db.Start() // the background summarizer runs alongside Flush
		return db
	})
}

func genTraces(rng *rand.Rand, n int, start time.Time) ([]segment.TraceID, []segment.Document) {
	var ids []segment.TraceID
	var docs []segment.Document
	for i := range n {
		ds := storetest.GenTrace(rng, start.Add(time.Duration(i)*time.Second))
		ids = append(ids, ds[0].TraceID)
		docs = append(docs, ds...)
	}
	return ids, docs
}

var t0 = time.Date(2024, 5, 24, 14, 0, 0, 0, time.UTC)

func TestReopenKeepsEverything(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	db := open(t, cfg)
	ids, docs := genTraces(rand.New(rand.NewPCG(1, 1)), 20, t0)
	if err := db.WriteDocuments(t.Context(), docs); err != nil {
		t.Fatalf("WriteDocuments: %v", err)
	}
	// No Flush: Close summarizes what is pending.
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = open(t, cfg) // not started: nothing is summarized after reopening
	defer db.Close()
	for i, tid := range ids {
		got, err := db.TraceDocuments(t.Context(), tid)
		if err != nil {
			t.Fatalf("TraceDocuments(%s) after reopening: %v", tid, err)
		}
		var want, have []string
		for _, d := range docs[4*i : 4*i+4] {
			want = append(want, string(d.Raw))
		}
		for _, d := range got {
			have = append(have, string(d.Raw))
		}
		if diff := gocmp.Diff(sorted(want), sorted(have)); diff != "" {
			t.Errorf("TraceDocuments(%s) after reopening (-want +got):\n%s", tid, diff)
		}
		if s, err := db.Summary(t.Context(), tid); err != nil || s.Revision != 4 {
			t.Errorf("Summary(%s) after reopening: revision %d, error %v; want revision 4", tid, s.Revision, err)
		}
	}
	n := 0
	for _, err := range db.Summaries(t.Context(), store.SummaryQuery{Start: t0, End: t0.Add(time.Minute)}) {
		if err != nil {
			t.Fatalf("Summaries after reopening: %v", err)
		}
		n++
	}
	if n != len(ids) {
		t.Errorf("Summaries after reopening: %d hits; want %d", n, len(ids))
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// countKeys counts the keys with prefix p.
func countKeys(t testing.TB, db *DB, p byte) int {
	t.Helper()
	lo := []byte{p}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		t.Fatalf("iterate %q: %v", p, err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		t.Fatalf("iterate %q: %v", p, err)
	}
	return n
}

func TestDirtyMarkersSurviveCrash(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	db := open(t, cfg)
	ids, docs := genTraces(rand.New(rand.NewPCG(2, 2)), 5, t0)
	for i := range ids { // one write per trace and document: 20 markers
		for _, d := range docs[4*i : 4*i+4] {
			if err := db.WriteDocuments(t.Context(), []segment.Document{d}); err != nil {
				t.Fatalf("WriteDocuments: %v", err)
			}
		}
	}
	db.crash(t)

	db = open(t, cfg)
	defer db.Close()
	if n := countKeys(t, db, prefixDirty); n != 20 {
		t.Errorf("after the crash: %d dirty markers; want 20, one per write", n)
	}
	for _, tid := range ids {
		if _, err := db.Summary(t.Context(), tid); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Summary(%s) after the crash, before the summarizer ran: %v; want store.ErrNotFound", tid, err)
		}
	}
	db.Start()
	if err := db.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	for _, tid := range ids {
		if s, err := db.Summary(t.Context(), tid); err != nil || s.Revision != 4 {
			t.Errorf("Summary(%s) after the crash and a summarizer pass: revision %d, error %v; want revision 4", tid, s.Revision, err)
		}
	}
	if n := countKeys(t, db, prefixDirty); n != 0 {
		t.Errorf("after Flush: %d dirty markers; want none", n)
	}
	if n := countKeys(t, db, prefixEvent); n != len(ids) {
		t.Errorf("after Flush: %d event-index entries; want %d, one per trace", n, len(ids))
	}
}

// TestCloseSummarizesBacklog writes more traces than one summarizer pass
// takes and checks that Close summarizes them all.
func TestCloseSummarizesBacklog(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	db := open(t, cfg)
	const n = maxTracesPerPass + 10
	docs := make([]segment.Document, n)
	for i := range docs {
		tid := segment.TraceIDFromBytes([16]byte{0x66, 0x50, 0xa1, 0xb2, 15: byte(i), 14: byte(i >> 8)})
		body := `{"id":"00000000000000a1","name":"svc","trace_id":"` + string(tid) + `","start_time":1716560306.5,"end_time":1716560307}`
		ds, errs := segment.Decode([]byte(body), 0)
		if len(errs) > 0 {
			t.Fatalf("Decode(%s): %v", body, errs)
		}
		docs[i] = ds[0]
	}
	if err := db.WriteDocuments(t.Context(), docs); err != nil {
		t.Fatalf("WriteDocuments: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db = open(t, cfg)
	defer db.Close()
	if got := countKeys(t, db, prefixSummary); got != n {
		t.Errorf("after Close and reopening: %d summaries; want %d", got, n)
	}
	if got := countKeys(t, db, prefixDirty); got != 0 {
		t.Errorf("after Close and reopening: %d dirty markers; want none", got)
	}
}

func TestFormatVersion(t *testing.T) {
	t.Parallel()
	t.Run("written at creation", func(t *testing.T) {
		db := open(t, testConfig(t.TempDir()))
		defer db.Close()
		v, closer, err := db.pdb.Get(metaFormatKey)
		if err != nil {
			t.Fatalf("get %q: %v", metaFormatKey, err)
		}
		defer closer.Close()
		if string(v) != "2" {
			t.Errorf("format version %q; want %q", v, "2")
		}
	})
	for _, tc := range []struct{ stored, wantErr string }{
		{"1", ""},
		{"2", ""},
		{"3", `has store format "3"; this thaw reads formats 1..2`},
		{"0", `has store format "0"`},
		{"one", `has store format "one"`},
	} {
		t.Run("stored "+tc.stored, func(t *testing.T) {
			dir := t.TempDir()
			pdb, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{slog.New(slog.DiscardHandler)}})
			if err != nil {
				t.Fatalf("pebble.Open: %v", err)
			}
			if err := pdb.Set(metaFormatKey, []byte(tc.stored), pebble.Sync); err != nil {
				t.Fatalf("set format: %v", err)
			}
			if err := pdb.Close(); err != nil {
				t.Fatalf("close pebble: %v", err)
			}
			db, err := Open(testConfig(dir), nil)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Open of format %s: %v", tc.stored, err)
				}
				if err := db.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				return
			}
			if err == nil {
				db.Close()
				t.Fatalf("Open of format %s succeeded; want an error containing %q", tc.stored, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), dir) {
				t.Errorf("Open of format %s: error %q; want it to name the directory and contain %q", tc.stored, err, tc.wantErr)
			}
		})
	}
}

func TestRetention(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	cfg := testConfig(t.TempDir())
	cfg.Retention = 24 * time.Hour
	db := open(t, cfg) // not started: retention runs only when called
	defer db.Close()

	rng := rand.New(rand.NewPCG(3, 3))
	// Retention goes by when the server last wrote a trace, never by the
	// producer's trace id or timestamps: an imported trace from 2017, or
	// one whose id came from a random W3C id, is as fresh as its write.
	type tr struct {
		name    string
		started time.Time     // the trace's own timestamps and id epoch
		written time.Duration // how long before now the server wrote it
		kept    bool
	}
	traces := []tr{
		{"written 48 h ago", now.Add(-48 * time.Hour), 48 * time.Hour, false},
		{"written just past the cutoff", now.Add(-25 * time.Hour), 24*time.Hour + time.Second, false},
		{"written at the cutoff second", now.Add(-24 * time.Hour), 24 * time.Hour, true},
		{"written an hour ago", now.Add(-time.Hour), time.Hour, true},
		{"from 2017, imported a minute ago", time.Date(2017, 7, 8, 0, 23, 31, 0, time.UTC), time.Minute, true},
		{"from the future, written a minute ago", now.Add(365 * 24 * time.Hour), time.Minute, true},
	}
	ids := make([]segment.TraceID, len(traces))
	for i, tc := range traces {
		docs := storetest.GenTrace(rng, tc.started)
		ids[i] = docs[0].TraceID
		db.now = func() time.Time { return now.Add(-tc.written) }
		if err := db.WriteDocuments(t.Context(), docs); err != nil {
			t.Fatalf("WriteDocuments: %v", err)
		}
		if err := db.Flush(t.Context()); err != nil {
			t.Fatalf("Flush: %v", err)
		}
	}
	// A late document of an otherwise expired trace, not yet summarized:
	// it is an acknowledged write, so it refreshes its trace.
	db.now = func() time.Time { return now }
	lateDocs, err := db.TraceDocuments(t.Context(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := db.WriteDocuments(t.Context(), lateDocs[:1]); err != nil {
		t.Fatalf("WriteDocuments: %v", err)
	}
	traces[0].kept = true
	// A graph rollup that counted an expiring trace must go with it.
	expiring, err := db.Summary(t.Context(), ids[1])
	if err != nil {
		t.Fatal(err)
	}
	rollupMinute := minuteOf(toMicros(lastActivity(expiring)))
	if ok, err := db.PutGraphRollup(t.Context(), rollupMinute, db.RollupGeneration(rollupMinute), []byte("[]")); !ok || err != nil {
		t.Fatalf("PutGraphRollup = %v, %v; want stored", ok, err)
	}

	if err := db.applyRetention(now); err != nil {
		t.Fatalf("applyRetention(%v): %v", now, err)
	}
	if _, err := db.GraphRollup(t.Context(), rollupMinute); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("graph rollup of an expired trace's minute: err = %v, want store.ErrNotFound", err)
	}
	if err := db.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}

	want := 0
	for i, tc := range traces {
		docs, derr := db.TraceDocuments(t.Context(), ids[i])
		_, serr := db.Summary(t.Context(), ids[i])
		if tc.kept {
			want++
			if derr != nil || serr != nil || len(docs) == 0 {
				t.Errorf("trace %s (%s), within retention of %v: %d documents, errors %v, %v; want it kept", tc.name, ids[i], cfg.Retention, len(docs), derr, serr)
			}
		}
		if !tc.kept && (!errors.Is(derr, store.ErrNotFound) || !errors.Is(serr, store.ErrNotFound)) {
			t.Errorf("trace %s (%s), past retention of %v: errors %v, %v; want store.ErrNotFound for documents and summary", tc.name, ids[i], cfg.Retention, derr, serr)
		}
	}
	q := store.SummaryQuery{Start: now.Add(-100 * time.Hour), End: now.Add(time.Hour), Range: store.ByEvent}
	var got []string
	for h, err := range db.Summaries(t.Context(), q) {
		if err != nil {
			t.Fatalf("Summaries: %v", err)
		}
		got = append(got, h.Summary.ID)
	}
	if len(got) != 3 { // the kept traces whose events fall in that window
		t.Errorf("Summaries(ByEvent) after retention = %v; want the 3 kept traces with events in range", got)
	}
	postings := 0 // each term of a kept trace, once per posting table
	for i, tc := range traces {
		if s, err := db.Summary(t.Context(), ids[i]); tc.kept && err == nil {
			postings += len(store.Terms(&s))
		}
	}
	if postings == 0 {
		t.Fatal("the kept traces have no index terms; the posting check below would prove nothing")
	}
	for p, wantKeys := range map[byte]int{prefixSummary: want, prefixEvent: want, prefixWritten: want, prefixDirty: 0, prefixByTrace: postings, prefixByTime: postings} {
		if got := countKeys(t, db, p); got != wantKeys {
			t.Errorf("after retention: %d keys with prefix %q; want %d", got, p, wantKeys)
		}
	}
}

// TestSummariesCursorOutsideRange: a cursor at or below the start of the
// range means the scan is done; one above its end changes nothing.
func TestSummariesCursorOutsideRange(t *testing.T) {
	t.Parallel()
	db := open(t, testConfig(t.TempDir()))
	defer db.Close()
	_, docs := genTraces(rand.New(rand.NewPCG(4, 4)), 3, t0)
	if err := db.WriteDocuments(t.Context(), docs); err != nil {
		t.Fatalf("WriteDocuments: %v", err)
	}
	if err := db.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	q := store.SummaryQuery{Start: t0, End: t0.Add(time.Minute)}
	for _, tc := range []struct {
		name  string
		after []byte
		want  int
	}{
		{"none", nil, 3},
		{"below the range", epochBound(uint32(t0.Unix()) - 1), 0},
		{"at the range start", epochBound(uint32(t0.Unix())), 0},
		{"above the range", epochBound(uint32(t0.Unix()) + 3600), 3},
	} {
		q.After = tc.after
		n := 0
		for _, err := range db.Summaries(t.Context(), q) {
			if err != nil {
				t.Fatalf("Summaries: %v", err)
			}
			n++
		}
		if n != tc.want {
			t.Errorf("Summaries after a cursor %s (%x): %d hits; want %d", tc.name, tc.after, n, tc.want)
		}
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	tid := segment.TraceID("1-6650a1b2-5f3e2d1c0b9a887766554433")
	for _, tc := range []struct {
		name      string
		got, want []byte
	}{
		{"docKey complete", docKey(nil, tid, "a1b2c3d4e5f60001", true),
			hexBytes(t, "64 6650a1b2 5f3e2d1c0b9a887766554433 a1b2c3d4e5f60001 01")},
		{"docKey in progress", docKey(nil, tid, "a1b2c3d4e5f60001", false),
			hexBytes(t, "64 6650a1b2 5f3e2d1c0b9a887766554433 a1b2c3d4e5f60001 00")},
		{"dirtyKey", dirtyKey(tid, 0x0102030405060708),
			hexBytes(t, "78 6650a1b2 5f3e2d1c0b9a887766554433 0102030405060708")},
		{"summaryKey", summaryKey(tid), hexBytes(t, "73 6650a1b2 5f3e2d1c0b9a887766554433")},
		{"eventKey", eventKey(1716560306950000, tid),
			hexBytes(t, "65 00061933d754cf70 6650a1b2 5f3e2d1c0b9a887766554433")},
		{"epochBound", epochBound(0x6650a1b2), hexBytes(t, "73 6650a1b2")},
		{"microsBound", microsBound(1716560306950000), hexBytes(t, "65 00061933d754cf70")},
		{"prefixEnd", prefixEnd([]byte{'d', 0x01, 0xff, 0xff}), []byte{'d', 0x02}},
		{"metaFormatKey", metaFormatKey, []byte("mformat")},
	} {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s = %x; want %x", tc.name, tc.got, tc.want)
		}
	}
	if got := toMicros(1716560306.950000); got != 1716560306950000 {
		t.Errorf("toMicros(1716560306.95) = %d; want 1716560306950000", got)
	}
}

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("hexBytes(%q): %v", s, err)
	}
	return b
}

// TestSummarizerWaitsForTracesToSettle checks that the background pass leaves
// a trace alone while documents keep arriving, but not for longer than
// summaryMaxDelay, and that Flush does not wait.
func TestSummarizerWaitsForTracesToSettle(t *testing.T) {
	t.Parallel()
	db := open(t, testConfig(t.TempDir()))
	defer db.Close()
	clock := t0
	db.now = func() time.Time { return clock }
	ids, docs := genTraces(rand.New(rand.NewPCG(3, 3)), 1, t0)
	id := ids[0]
	write := func(d segment.Document) {
		t.Helper()
		if err := db.WriteDocuments(t.Context(), []segment.Document{d}); err != nil {
			t.Fatal(err)
		}
	}
	summarized := func() bool {
		t.Helper()
		_, err := db.Summary(t.Context(), id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	pass := func() {
		t.Helper()
		if err := db.summarizeDirty(false); err != nil {
			t.Fatal(err)
		}
	}

	// Documents every 200 ms: each pass sees a trace that is still busy,
	// until the first write is summaryMaxDelay old.
	for i, step := 0, 0; step < 6; step++ {
		write(docs[i%len(docs)])
		i++
		clock = clock.Add(200 * time.Millisecond)
		pass()
		if got, want := summarized(), clock.Sub(t0) >= summaryMaxDelay; got != want {
			t.Fatalf("after %s of writes every 200 ms: summarized = %v, want %v", clock.Sub(t0), got, want)
		}
	}

	// A later write waits out the settle time, or a Flush.
	write(docs[0])
	pass()
	if rev := mustSummary(t, db, id).Revision; rev != 5 {
		t.Errorf("revision after a pass within the settle time = %d, want 5 (the last two writes still pending)", rev)
	}
	clock = clock.Add(summarySettle)
	pass()
	if rev := mustSummary(t, db, id).Revision; rev != 7 {
		t.Errorf("revision after the settle time = %d, want 7", rev)
	}
	write(docs[1])
	if err := db.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rev := mustSummary(t, db, id).Revision; rev != 8 {
		t.Errorf("revision after Flush = %d, want 8", rev)
	}
}

func mustSummary(t *testing.T, db *DB, id segment.TraceID) summary.Summary {
	t.Helper()
	s, err := db.Summary(t.Context(), id)
	if err != nil {
		t.Fatalf("Summary(%s): %v", id, err)
	}
	return s
}

// TestSummariesFromCacheMatchTheStore checks when the summarizer may use the
// documents it kept in memory and that what it computes from them is what it
// would compute from the store.
func TestSummariesFromCacheMatchTheStore(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	db := open(t, cfg)
	ids, docs := genTraces(rand.New(rand.NewPCG(5, 5)), 3, t0)
	byTrace := map[segment.TraceID][]segment.Document{}
	for _, d := range docs {
		byTrace[d.TraceID] = append(byTrace[d.TraceID], d)
	}
	write := func(ds ...segment.Document) {
		t.Helper()
		if err := db.WriteDocuments(t.Context(), ds); err != nil {
			t.Fatal(err)
		}
	}
	flush := func() {
		t.Helper()
		if err := db.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	fromStore := func(id segment.TraceID) summary.Summary {
		t.Helper()
		ds, err := db.TraceDocuments(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return summary.Compute(segment.Assemble(id, ds), mustSummary(t, db, id).Revision)
	}
	check := func(step string, wantHits, wantMisses int) {
		t.Helper()
		if hits, misses, held := db.pending.stats(); hits != wantHits || misses != wantMisses || held != 0 {
			t.Errorf("%s: cache hits, misses, bytes held = %d, %d, %d; want %d, %d, 0", step, hits, misses, held, wantHits, wantMisses)
		}
		for _, id := range ids {
			if diff := gocmp.Diff(fromStore(id), mustSummary(t, db, id), microseconds); diff != "" {
				t.Errorf("%s: trace %s summary differs from one computed from the store (-store +stored):\n%s", step, id, diff)
			}
		}
	}

	// New traces, their documents in two writes: summarized from memory.
	for _, id := range ids {
		ds := byTrace[id]
		write(ds[:2]...)
		write(ds[2:]...)
	}
	flush()
	check("new traces", 3, 0)

	// A late document for a summarized trace: the cache does not know the
	// earlier documents, so the store is read.
	write(byTrace[ids[0]][0])
	flush()
	check("late document", 3, 1)

	// Markers left by a crash: after Open the store is the only source.
	write(byTrace[ids[1]][1])
	db.crash(t)
	db = open(t, cfg)
	defer db.Close()
	write(byTrace[ids[1]][2])
	flush()
	check("after a crash", 0, 1)
}

// TestMigrateFormat1 opens a store of format 1, which has no term index: Open
// builds the index from the summaries and records format 2, so narrowed
// searches find the traces written before the upgrade.
func TestMigrateFormat1(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := open(t, testConfig(dir))
	rng := rand.New(rand.NewPCG(7, 7))
	start := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := range 40 {
		if err := db.WriteDocuments(t.Context(), storetest.GenTrace(rng, start.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatalf("WriteDocuments: %v", err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Make it what format 1 wrote: no postings.
	pdb, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatalf("pebble.Open: %v", err)
	}
	for _, p := range []byte{prefixByTrace, prefixByTime} {
		if err := pdb.DeleteRange([]byte{p}, []byte{p + 1}, pebble.Sync); err != nil {
			t.Fatalf("delete postings: %v", err)
		}
	}
	if err := errors.Join(pdb.Set(metaFormatKey, []byte("1"), pebble.Sync), pdb.Close()); err != nil {
		t.Fatalf("set format 1: %v", err)
	}

	db = open(t, testConfig(dir))
	defer db.Close()
	v, closer, err := db.pdb.Get(metaFormatKey)
	if err != nil {
		t.Fatalf("get format: %v", err)
	}
	if string(v) != "2" {
		t.Errorf("format after migration %q; want \"2\"", v)
	}
	closer.Close()
	if countKeys(t, db, prefixByTrace) == 0 || countKeys(t, db, prefixByTrace) != countKeys(t, db, prefixByTime) {
		t.Errorf("after migration: %d postings by trace, %d by time; want equal, non-zero counts", countKeys(t, db, prefixByTrace), countKeys(t, db, prefixByTime))
	}
	for _, r := range []store.RangeType{store.ByTraceID, store.ByEvent} {
		q := store.SummaryQuery{Start: start.Add(-time.Minute), End: start.Add(time.Hour), Range: r}
		var all []store.Hit
		for h, err := range db.Summaries(t.Context(), q) {
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, h)
		}
		terms := store.Terms(&all[0].Summary)
		if len(terms) == 0 {
			t.Fatalf("trace %s has no terms to search by", all[0].Summary.ID)
		}
		q.Match = store.MatchTerm(terms[len(terms)-1])
		var want, got []string
		for _, h := range all {
			if q.Match.Admits(store.Terms(&h.Summary)) {
				want = append(want, h.Summary.ID)
			}
		}
		for h, err := range db.Summaries(t.Context(), q) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, h.Summary.ID)
		}
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("range %d narrowed to %q after migration: %v; want %v", r, terms[len(terms)-1], got, want)
		}
	}
}
