// Package storetest is the conformance suite of the store contract: every
// backend runs Run with a constructor and passes it. It also generates
// realistic trace documents (GenTrace) for tests and benchmarks.
//
// It imports store, segment and analyze/summary; never a backend.
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
)

// Backend is a store under test: the whole contract plus Flush.
type Backend interface {
	store.Store
	// Flush makes the summaries of everything written before it current,
	// so that the suite need not wait for the backend's summary delay.
	Flush(ctx context.Context) error
}

// Run runs the conformance suite, one subtest per part of the contract, in
// parallel. open returns a new, empty store for each subtest; Run closes it
// when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"WriteThenRead", testWriteThenRead},
		{"NotFoundVsEmpty", testNotFoundVsEmpty},
		{"CompleteVersionReplaces", testCompleteVersionReplaces},
		{"ByTraceIDRange", testByTraceIDRange},
		{"NewestFirst", testNewestFirst},
		{"Pagination", testPagination},
		{"ByEventAndByService", testByEventAndByService},
		{"Revision", testRevision},
		{"LaterDocumentUpdatesSummary", testLaterDocumentUpdatesSummary},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Closed", testClosed},
		{"CloseWhileBusy", testCloseWhileBusy},
		{"ContextCanceled", testContextCanceled},
		{"Match", testMatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// base is the suite's clock origin; times in the tests are seconds after it.
var base = time.Date(2024, 5, 24, 14, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return base.Add(time.Duration(sec * float64(time.Second))) }

// epoch is base+sec in epoch seconds, as documents and summaries carry it.
func epoch(sec float64) float64 { return float64(base.Unix()) + sec }

// traceID returns the trace id with epoch base+sec and random part n, so
// that ids with equal sec sort by n.
func traceID(sec int64, n uint64) segment.TraceID {
	return segment.TraceID(fmt.Sprintf("1-%08x-%024x", base.Unix()+sec, n))
}

// segJSON is a segment document starting and ending sec seconds after base;
// end 0 makes it in progress. extra holds more fields, each followed by a
// comma.
func segJSON(tid segment.TraceID, id, parent string, start, end float64, extra string) string {
	b := `{"id":"` + id + `","name":"svc-` + id[12:] + `","trace_id":"` + string(tid) + `",`
	if parent != "" {
		b += `"parent_id":"` + parent + `",`
	}
	b += extra + `"start_time":` + strconv.FormatFloat(epoch(start), 'f', -1, 64)
	if end == 0 {
		return b + `,"in_progress":true}`
	}
	return b + `,"end_time":` + strconv.FormatFloat(epoch(end), 'f', -1, 64) + `}`
}

func decode(t testing.TB, body string) segment.Document {
	t.Helper()
	ds, errs := segment.Decode([]byte(body), 0)
	if len(errs) > 0 || len(ds) != 1 {
		t.Fatalf("Decode(%s): %d documents, errors %v; want one document", body, len(ds), errs)
	}
	return ds[0]
}

func write(t testing.TB, s Backend, docs ...segment.Document) {
	t.Helper()
	if err := s.WriteDocuments(t.Context(), docs); err != nil {
		t.Fatalf("WriteDocuments(%d documents of %s): %v", len(docs), docs[0].TraceID, err)
	}
}

func flush(t testing.TB, s Backend) {
	t.Helper()
	if err := s.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func summaries(t testing.TB, s Backend, q store.SummaryQuery) []store.Hit {
	t.Helper()
	var hits []store.Hit
	for h, err := range s.Summaries(t.Context(), q) {
		if err != nil {
			t.Fatalf("Summaries(%s): %v", queryString(q), err)
		}
		hits = append(hits, h)
	}
	return hits
}

func queryString(q store.SummaryQuery) string {
	kind := map[store.RangeType]string{store.ByTraceID: "ByTraceID", store.ByEvent: "ByEvent", store.ByService: "ByService"}[q.Range]
	return fmt.Sprintf("%s [base%+gs, base%+gs) after %x", kind, q.Start.Sub(base).Seconds(), q.End.Sub(base).Seconds(), q.After)
}

func hitIDs(hits []store.Hit) []string {
	var ids []string
	for _, h := range hits {
		ids = append(ids, h.Summary.ID)
	}
	return ids
}

// version is what TraceDocuments must preserve of a stored document.
type version struct {
	ID         string
	InProgress bool
	Raw        string
}

func versions(docs []segment.Document) []version {
	vs := make([]version, len(docs))
	for i, d := range docs {
		vs[i] = version{d.ID, d.InProgress, string(d.Raw)}
	}
	return vs
}

// keyOrder sorts versions as TraceDocuments returns them: by id, the
// in-progress version before the complete one.
func keyOrder(vs []version) {
	slices.SortFunc(vs, func(a, b version) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), -boolCompare(a.InProgress, b.InProgress))
	})
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func testWriteThenRead(t *testing.T, s Backend) {
	rng := rand.New(rand.NewPCG(1, 1))
	tid := traceID(0, 0x10)
	docs := GenTraceWithID(rng, tid, at(0))
	// The function segment was first sent in progress, as the X-Ray SDK
	// does for a long invocation; both versions are kept.
	fn := docs[2]
	inProgress := decode(t, segJSON(tid, fn.ID, fn.ParentID, fn.StartTime-epoch(0), 0, ""))
	// A neighbour in key order, which must not leak into the trace.
	next := GenTraceWithID(rng, traceID(0, 0x11), at(0))

	write(t, s, inProgress)
	write(t, s, next...)
	rev := slices.Clone(docs)
	slices.Reverse(rev) // arrival order must not matter
	write(t, s, rev...)
	want := versions(append([]segment.Document{inProgress}, docs...))
	keyOrder(want)
	// The store keeps its own copy: changing the written documents changes
	// nothing stored.
	for i := range docs {
		clear(docs[i].Raw)
	}

	got, err := s.TraceDocuments(t.Context(), tid)
	if err != nil {
		t.Fatalf("TraceDocuments(%s): %v", tid, err)
	}
	if diff := gocmp.Diff(want, versions(got)); diff != "" {
		t.Errorf("TraceDocuments(%s) versions (-want +got):\n%s", tid, diff)
	}
	for _, d := range got {
		if d.TraceID != tid || d.Entity == nil || d.Entity.ID != d.ID {
			t.Errorf("TraceDocuments(%s): document %s has trace id %s, entity %v; want trace id %s and its parsed entity", tid, d.ID, d.TraceID, d.Entity, tid)
		}
	}

	// The caller owns the result.
	for i := range got {
		clear(got[i].Raw)
	}
	again, err := s.TraceDocuments(t.Context(), tid)
	if err != nil {
		t.Fatalf("TraceDocuments(%s) again: %v", tid, err)
	}
	if diff := gocmp.Diff(want, versions(again)); diff != "" {
		t.Errorf("TraceDocuments(%s) after changing the first result (-want +got):\n%s", tid, diff)
	}

	flush(t, s)
	sum, err := s.Summary(t.Context(), tid)
	if err != nil {
		t.Fatalf("Summary(%s): %v", tid, err)
	}
	if sum.ID != string(tid) || sum.StartTime != epoch(0) || !sum.HasDuration || sum.EntryPoint == nil || sum.EntryPoint.Type != "AWS::ApiGateway::Stage" {
		t.Errorf("Summary(%s) = id %s, start %v, has duration %v, entry point %+v; want id %s, start %v, a duration and the API Gateway stage as entry point",
			tid, sum.ID, sum.StartTime, sum.HasDuration, sum.EntryPoint, tid, epoch(0))
	}
}

func testNotFoundVsEmpty(t *testing.T, s Backend) {
	tid := traceID(0, 1)
	for _, q := range []store.SummaryQuery{
		{Start: at(-3600), End: at(3600), Range: store.ByTraceID},
		{Start: at(-3600), End: at(3600), Range: store.ByEvent},
	} {
		if hits := summaries(t, s, q); len(hits) != 0 {
			t.Errorf("Summaries(%s) on an empty store = %v; want none", queryString(q), hitIDs(hits))
		}
	}
	if _, err := s.TraceDocuments(t.Context(), tid); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TraceDocuments(%s) on an empty store: error %v; want store.ErrNotFound", tid, err)
	}

	write(t, s, decode(t, segJSON(tid, "00000000000000a1", "", 0, 1, "")))
	flush(t, s)
	other := traceID(0, 2)
	if docs, err := s.TraceDocuments(t.Context(), other); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TraceDocuments(%s), a trace never written: %d documents, error %v; want store.ErrNotFound", other, len(docs), err)
	}
	if _, err := s.Summary(t.Context(), other); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Summary(%s), a trace never written: error %v; want store.ErrNotFound", other, err)
	}
	for _, q := range []store.SummaryQuery{
		{Start: at(1), End: at(3600), Range: store.ByTraceID},      // after it
		{Start: at(-3600), End: at(0), Range: store.ByTraceID},     // before it
		{Start: at(10), End: at(0), Range: store.ByTraceID},        // end before start
		{Start: at(0), End: at(0), Range: store.ByTraceID},         // empty
		{Start: at(0.5), End: at(0.75), Range: store.ByEvent},      // between its start and end
		{Start: at(1.5), End: at(3600), Range: store.ByService},    // after its end
		{Start: at(0), End: at(0), Range: store.ByEvent},           // empty
		{Start: at(-3600), End: at(-1800), Range: store.ByEvent},   // before it
		{Start: at(-3600), End: at(-1800), Range: store.ByService}, // before it
	} {
		if hits := summaries(t, s, q); len(hits) != 0 {
			t.Errorf("Summaries(%s) = %v; want none (the only trace has id epoch base and one segment at base+0s..base+1s)", queryString(q), hitIDs(hits))
		}
	}
}

func testCompleteVersionReplaces(t *testing.T, s Backend) {
	tid := traceID(0, 1)
	const id = "00000000000000a1"
	first := decode(t, segJSON(tid, id, "", 0, 1, `"http":{"response":{"status":500}},`))
	second := decode(t, segJSON(tid, id, "", 0, 2, `"http":{"response":{"status":200}},`))
	resend := decode(t, segJSON(tid, id, "", 0, 0, ""))

	write(t, s, first)
	write(t, s, second)
	got, err := s.TraceDocuments(t.Context(), tid)
	if err != nil {
		t.Fatalf("TraceDocuments(%s): %v", tid, err)
	}
	if diff := gocmp.Diff(versions([]segment.Document{second}), versions(got)); diff != "" {
		t.Errorf("TraceDocuments(%s) after a complete document was sent twice (-want +got):\n%s", tid, diff)
	}

	// An in-progress resend after completion is kept apart and does not
	// hide the complete version, neither in TraceDocuments nor in the
	// summary.
	write(t, s, resend)
	got, err = s.TraceDocuments(t.Context(), tid)
	if err != nil {
		t.Fatalf("TraceDocuments(%s): %v", tid, err)
	}
	if diff := gocmp.Diff(versions([]segment.Document{resend, second}), versions(got)); diff != "" {
		t.Errorf("TraceDocuments(%s) after an in-progress resend (-want +got):\n%s", tid, diff)
	}
	flush(t, s)
	sum, err := s.Summary(t.Context(), tid)
	if err != nil {
		t.Fatalf("Summary(%s): %v", tid, err)
	}
	if !sum.HasResponse || sum.ResponseTime != 2 || sum.HasFault {
		t.Errorf("Summary(%s) = response time %v (has %v), fault %v; want 2 s from the second complete version, no fault",
			tid, sum.ResponseTime, sum.HasResponse, sum.HasFault)
	}
}

// writeSeconds writes one trace per element of secs, with trace-id epoch
// base+sec and one segment from sec+0.25 to sec+0.5, and returns their ids.
func writeSeconds(t *testing.T, s Backend, secs ...int64) []segment.TraceID {
	t.Helper()
	ids := make([]segment.TraceID, len(secs))
	docs := make([]segment.Document, len(secs))
	for i, sec := range secs {
		ids[i] = traceID(sec, uint64(i+1))
		docs[i] = decode(t, segJSON(ids[i], fmt.Sprintf("%016x", i+1), "", float64(sec)+0.25, float64(sec)+0.5, ""))
	}
	write(t, s, docs...)
	flush(t, s)
	return ids
}

func testByTraceIDRange(t *testing.T, s Backend) {
	secs := []int64{0, 1, 1, 2, 59, 60, 61}
	ids := writeSeconds(t, s, secs...)
	for _, tc := range []struct {
		start, end float64
		want       []int // indexes into secs
	}{
		{0, 60, []int{0, 1, 2, 3, 4}},
		{1, 60, []int{1, 2, 3, 4}},
		{0.5, 60.5, []int{1, 2, 3, 4, 5}}, // a fractional start excludes its own second
		{60, 61, []int{5}},
		{61, 62, []int{6}},
		{-10, 0, nil},
		{62, 3600, nil},
		{-3600, 3600, []int{0, 1, 2, 3, 4, 5, 6}},
	} {
		q := store.SummaryQuery{Start: at(tc.start), End: at(tc.end), Range: store.ByTraceID}
		hits := summaries(t, s, q)
		var want []string
		for _, i := range tc.want {
			want = append(want, string(ids[i]))
		}
		got := hitIDs(hits)
		slices.Sort(want)
		slices.Sort(got)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("Summaries(%s) trace ids (-want +got):\n%s", queryString(q), diff)
		}
		for _, h := range hits {
			id := segment.TraceID(h.Summary.ID)
			if h.IndexTime != float64(id.Epoch()) {
				t.Errorf("Summaries(%s): hit %s has IndexTime %v; want its trace-id epoch %d", queryString(q), id, h.IndexTime, id.Epoch())
			}
			if h.MatchedEventTime != 0 {
				t.Errorf("Summaries(%s): hit %s has MatchedEventTime %v; want 0 for ByTraceID", queryString(q), id, h.MatchedEventTime)
			}
			if len(h.Cursor) == 0 {
				t.Errorf("Summaries(%s): hit %s has no cursor", queryString(q), id)
			}
		}
	}
}

func testNewestFirst(t *testing.T, s Backend) {
	rng := rand.New(rand.NewPCG(2, 2))
	var all []segment.Document
	for _, sec := range rng.Perm(40) { // written in random order
		all = append(all, GenTrace(rng, at(float64(sec*7)))...)
	}
	write(t, s, all...)
	flush(t, s)
	for _, q := range []store.SummaryQuery{
		{Start: at(0), End: at(300), Range: store.ByTraceID},
		{Start: at(0), End: at(300), Range: store.ByEvent},
		{Start: at(0), End: at(300), Range: store.ByService},
	} {
		hits := summaries(t, s, q)
		if len(hits) != 40 {
			t.Errorf("Summaries(%s) = %d hits; want 40", queryString(q), len(hits))
		}
		for i := 1; i < len(hits); i++ {
			if hits[i].IndexTime > hits[i-1].IndexTime {
				t.Errorf("Summaries(%s): hit %d (%s) has IndexTime %v after %v; want newest first",
					queryString(q), i, hits[i].Summary.ID, hits[i].IndexTime, hits[i-1].IndexTime)
			}
		}
		if q.Range != store.ByTraceID {
			continue
		}
		for i := 1; i < len(hits); i++ {
			if hits[i].Summary.StartTime > hits[i-1].Summary.StartTime {
				t.Errorf("Summaries(%s): trace %s starting at %v comes after one starting at %v; want newest first",
					queryString(q), hits[i].Summary.ID, hits[i].Summary.StartTime, hits[i-1].Summary.StartTime)
			}
		}
	}
}

func testPagination(t *testing.T, s Backend) {
	rng := rand.New(rand.NewPCG(3, 3))
	want := map[string]bool{}
	var all []segment.Document
	for range 23 {
		docs := GenTrace(rng, at(float64(rng.IntN(40)))) // several traces per second
		want[string(docs[0].TraceID)] = true
		all = append(all, docs...)
	}
	write(t, s, all...)
	flush(t, s)

	const pageSize = 5
	for _, r := range []store.RangeType{store.ByTraceID, store.ByEvent, store.ByService} {
		q := store.SummaryQuery{Start: at(0), End: at(60), Range: r}
		seen := map[string]int{}
		pages, last := 0, 0.0
		for {
			n := 0
			for h, err := range s.Summaries(t.Context(), q) {
				if err != nil {
					t.Fatalf("Summaries(%s): %v", queryString(q), err)
				}
				if pages > 0 && n == 0 && h.IndexTime > last {
					t.Errorf("Summaries(%s): page %d starts at IndexTime %v, after the previous page ended at %v", queryString(q), pages, h.IndexTime, last)
				}
				seen[h.Summary.ID]++
				n++
				last = h.IndexTime
				q.After = h.Cursor
				if n == pageSize {
					break
				}
			}
			pages++
			if n < pageSize || pages > 10 {
				break
			}
		}
		for id := range want {
			if seen[id] != 1 {
				t.Errorf("paging %s in pages of %d: trace %s seen %d times; want once", queryString(store.SummaryQuery{Start: at(0), End: at(60), Range: r}), pageSize, id, seen[id])
			}
		}
		if len(seen) != len(want) {
			t.Errorf("paging %s: saw %d traces; want %d", queryString(store.SummaryQuery{Start: at(0), End: at(60), Range: r}), len(seen), len(want))
		}
	}
}

func testByEventAndByService(t *testing.T, s Backend) {
	// a: a root segment from 100 to 110 calling a segment from 102 to 104.
	// b: one long segment from 0 to 600, ordered by its end, found by its start.
	// c: a root still in progress since 200, whose callee ran from 201 to 203.
	// Each trace-id epoch is a few seconds before the trace starts.
	a, b, c := traceID(98, 0xa), traceID(-2, 0xb), traceID(199, 0xc)
	write(t, s,
		decode(t, segJSON(a, "00000000000000a1", "", 100, 110, "")),
		decode(t, segJSON(a, "00000000000000a2", "00000000000000a1", 102, 104, "")),
		decode(t, segJSON(b, "00000000000000b1", "", 0, 600, "")),
		decode(t, segJSON(c, "00000000000000c1", "", 200, 0, "")),
		decode(t, segJSON(c, "00000000000000c2", "00000000000000c1", 201, 203, "")),
	)
	flush(t, s)

	type match struct {
		ID   segment.TraceID
		Time float64 // MatchedEventTime, seconds after base
	}
	for _, tc := range []struct {
		r          store.RangeType
		start, end float64
		want       []match
	}{
		{store.ByEvent, 103, 105, []match{{a, 104}}},
		{store.ByEvent, 105, 109, nil}, // a is active, but nothing starts or ends
		{store.ByEvent, 100, 101, []match{{a, 100}}},
		{store.ByEvent, 104, 104.5, []match{{a, 104}}},
		{store.ByEvent, 103, 104, nil}, // end is exclusive
		{store.ByEvent, 0, 1, []match{{b, 0}}},
		{store.ByEvent, 200, 201, []match{{c, 200}}}, // an in-progress segment's start
		{store.ByEvent, 99, 700, []match{{b, 600}, {c, 203}, {a, 110}}},
		{store.ByService, 100, 103, nil}, // starts do not count
		{store.ByService, 103, 111, []match{{a, 110}}},
		{store.ByService, 200, 202, nil},
		{store.ByService, 590, 610, []match{{b, 600}}},
		{store.ByService, -100, 1000, []match{{b, 600}, {c, 203}, {a, 110}}},
	} {
		q := store.SummaryQuery{Start: at(tc.start), End: at(tc.end), Range: tc.r}
		var got []match
		for _, h := range summaries(t, s, q) {
			got = append(got, match{segment.TraceID(h.Summary.ID), h.MatchedEventTime - epoch(0)})
		}
		sortMatches := func(ms []match) {
			slices.SortFunc(ms, func(x, y match) int { return cmp.Compare(x.ID, y.ID) })
		}
		sortMatches(got)
		sortMatches(tc.want)
		if diff := gocmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Summaries(%s) (trace, matched event time after base) (-want +got):\n%s", queryString(q), diff)
		}
	}
	// The trace-id range is independent of the event times.
	q := store.SummaryQuery{Start: at(-2), End: at(-1), Range: store.ByTraceID}
	if got := hitIDs(summaries(t, s, q)); !slices.Equal(got, []string{string(b)}) {
		t.Errorf("Summaries(%s) = %v; want [%s]", queryString(q), got, b)
	}
}

func revision(t *testing.T, s Backend, tid segment.TraceID) int {
	t.Helper()
	sum, err := s.Summary(t.Context(), tid)
	if err != nil {
		t.Fatalf("Summary(%s): %v", tid, err)
	}
	return sum.Revision
}

func testRevision(t *testing.T, s Backend) {
	docs := GenTrace(rand.New(rand.NewPCG(4, 4)), at(0))
	tid := docs[0].TraceID
	steps := []struct {
		writes [][]segment.Document // WriteDocuments calls before one Flush
		want   int
	}{
		{[][]segment.Document{docs[:1]}, 1},
		{[][]segment.Document{docs[1:3]}, 3},
		{[][]segment.Document{docs[3:], docs[:1]}, 5}, // a resend counts too
	}
	for i, step := range steps {
		for _, w := range step.writes {
			write(t, s, w...)
		}
		flush(t, s)
		if got := revision(t, s, tid); got != step.want {
			t.Errorf("step %d: Revision = %d; want %d, one per document written", i, got, step.want)
		}
	}
}

func testLaterDocumentUpdatesSummary(t *testing.T, s Backend) {
	docs := GenTrace(rand.New(rand.NewPCG(5, 5)), at(0))
	tid, root := docs[0].TraceID, docs[0]
	write(t, s, docs[1:]...) // everything but the API Gateway segment
	flush(t, s)
	before, err := s.Summary(t.Context(), tid)
	if err != nil {
		t.Fatalf("Summary(%s) before the root arrived: %v", tid, err)
	}
	if before.EntryPoint == nil || before.EntryPoint.Type != "AWS::Lambda" || before.StartTime != docs[1].StartTime {
		t.Errorf("Summary(%s) before the root arrived: entry point %+v, start %v; want the AWS::Lambda segment, %v", tid, before.EntryPoint, before.StartTime, docs[1].StartTime)
	}

	write(t, s, root)
	flush(t, s)
	after, err := s.Summary(t.Context(), tid)
	if err != nil {
		t.Fatalf("Summary(%s): %v", tid, err)
	}
	if after.EntryPoint == nil || after.EntryPoint.Type != "AWS::ApiGateway::Stage" || after.StartTime != root.StartTime ||
		after.HTTP == nil || after.HTTP.HTTPURL == "" || after.Revision != 4 {
		t.Errorf("Summary(%s) after the root arrived: entry point %+v, start %v, http %+v, revision %d; want the API Gateway stage, %v, its URL, revision 4",
			tid, after.EntryPoint, after.StartTime, after.HTTP, after.Revision, root.StartTime)
	}
	// Every index serves the new summary, once.
	for _, r := range []store.RangeType{store.ByTraceID, store.ByEvent, store.ByService} {
		q := store.SummaryQuery{Start: at(-60), End: at(60), Range: r}
		hits := summaries(t, s, q)
		if len(hits) != 1 {
			t.Errorf("Summaries(%s) = %v; want the trace once", queryString(q), hitIDs(hits))
			continue
		}
		if diff := gocmp.Diff(after, hits[0].Summary); diff != "" {
			t.Errorf("Summaries(%s) summary differs from Summary(%s) (-Summary +Summaries):\n%s", queryString(q), tid, diff)
		}
	}
	// The root ends last, so ByService finds the trace by the root's end.
	q := store.SummaryQuery{Start: time.Unix(0, int64(root.EndTime*1e9)).Add(-time.Millisecond / 2), End: at(60), Range: store.ByService}
	if hits := summaries(t, s, q); len(hits) != 1 || hits[0].MatchedEventTime != root.EndTime {
		t.Errorf("Summaries(%s): %d hits; want one matched at the root's end %v", queryString(q), len(hits), root.EndTime)
	}
}

func testConcurrentWriters(t *testing.T, s Backend) {
	const writers, tracesEach = 4, 10
	shared := traceID(0, 0x5a)
	common := decode(t, segJSON(shared, "00000000000000ff", "", 0, 5, ""))
	ids := make([][]segment.TraceID, writers)
	var wg sync.WaitGroup
	for w := range writers {
		rng := rand.New(rand.NewPCG(6, uint64(w)))
		var traces [][]segment.Document
		for i := range tracesEach {
			docs := GenTrace(rng, at(float64(i)))
			traces = append(traces, docs)
			ids[w] = append(ids[w], docs[0].TraceID)
		}
		own := decode(t, segJSON(shared, fmt.Sprintf("%016x", w+1), "00000000000000ff", 1, 2, ""))
		wg.Go(func() {
			ctx := t.Context()
			// Each trace in two calls, interleaved with the shared trace.
			for _, docs := range traces {
				if err := s.WriteDocuments(ctx, docs[:2]); err != nil {
					t.Errorf("writer %d: WriteDocuments: %v", w, err)
					return
				}
			}
			if err := s.WriteDocuments(ctx, []segment.Document{own, common}); err != nil {
				t.Errorf("writer %d: WriteDocuments(shared trace): %v", w, err)
				return
			}
			for _, docs := range traces {
				if err := s.WriteDocuments(ctx, docs[2:]); err != nil {
					t.Errorf("writer %d: WriteDocuments: %v", w, err)
					return
				}
			}
		})
	}
	// Summaries are made current while the writers write.
	wg.Go(func() {
		for range 5 {
			if err := s.Flush(t.Context()); err != nil {
				t.Errorf("Flush during writes: %v", err)
				return
			}
		}
	})
	wg.Wait()
	if t.Failed() {
		return
	}
	flush(t, s)

	for w := range writers {
		for _, tid := range ids[w] {
			docs, err := s.TraceDocuments(t.Context(), tid)
			if err != nil || len(docs) != 4 {
				t.Errorf("TraceDocuments(%s) of writer %d: %d documents, error %v; want 4", tid, w, len(docs), err)
			}
			if got := revision(t, s, tid); got != 4 {
				t.Errorf("Summary(%s) of writer %d: Revision %d; want 4", tid, w, got)
			}
		}
	}
	docs, err := s.TraceDocuments(t.Context(), shared)
	if err != nil || len(docs) != writers+1 {
		t.Errorf("TraceDocuments(%s), written by every writer: %d documents, error %v; want %d", shared, len(docs), err, writers+1)
	}
	if got := revision(t, s, shared); got != 2*writers {
		t.Errorf("Summary(%s), written by every writer: Revision %d; want %d", shared, got, 2*writers)
	}
	q := store.SummaryQuery{Start: at(-60), End: at(60), Range: store.ByTraceID}
	seen := map[string]int{}
	for _, h := range summaries(t, s, q) {
		seen[h.Summary.ID]++
	}
	if len(seen) != writers*tracesEach+1 {
		t.Errorf("Summaries(%s) = %d traces; want %d", queryString(q), len(seen), writers*tracesEach+1)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("Summaries(%s): trace %s seen %d times; want once", queryString(q), id, n)
		}
	}
}

func testClosed(t *testing.T, s Backend) {
	docs := GenTrace(rand.New(rand.NewPCG(7, 7)), at(0))
	tid := docs[0].TraceID
	write(t, s, docs...)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v; want nil", err)
	}
	ctx := t.Context()
	if err := s.WriteDocuments(ctx, docs); !errors.Is(err, store.ErrClosed) {
		t.Errorf("WriteDocuments after Close: %v; want store.ErrClosed", err)
	}
	if _, err := s.TraceDocuments(ctx, tid); !errors.Is(err, store.ErrClosed) {
		t.Errorf("TraceDocuments after Close: %v; want store.ErrClosed", err)
	}
	if _, err := s.Summary(ctx, tid); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Summary after Close: %v; want store.ErrClosed", err)
	}
	if err := s.Flush(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Flush after Close: %v; want store.ErrClosed", err)
	}
	var errs []error
	for _, err := range s.Summaries(ctx, store.SummaryQuery{Start: at(-60), End: at(60)}) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], store.ErrClosed) {
		t.Errorf("Summaries after Close yielded errors %v; want one store.ErrClosed", errs)
	}
}

// testCloseWhileBusy closes the store under readers and writers: every call
// returns normally or with store.ErrClosed, and none crashes.
func testCloseWhileBusy(t *testing.T, s Backend) {
	rng := rand.New(rand.NewPCG(8, 8))
	var traces [][]segment.Document
	for i := range 50 {
		traces = append(traces, GenTrace(rng, at(float64(i))))
	}
	write(t, s, traces[0]...)
	ok := func(err error) bool {
		return err == nil || errors.Is(err, store.ErrClosed) || errors.Is(err, store.ErrNotFound)
	}
	started := make(chan struct{}, 3)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			err := s.WriteDocuments(t.Context(), traces[i%len(traces)])
			if i == 0 {
				started <- struct{}{}
			}
			if !ok(err) {
				t.Errorf("WriteDocuments while closing: %v", err)
			}
			if err != nil {
				return
			}
		}
	})
	wg.Go(func() {
		for i := 0; ; i++ {
			tid := traces[i%len(traces)][0].TraceID
			_, err := s.TraceDocuments(t.Context(), tid)
			if err == nil {
				_, err = s.Summary(t.Context(), tid)
			}
			if i == 0 {
				started <- struct{}{}
			}
			if !ok(err) {
				t.Errorf("reading %s while closing: %v", tid, err)
			}
			if errors.Is(err, store.ErrClosed) {
				return
			}
		}
	})
	wg.Go(func() {
		for i := 0; ; i++ {
			var last error
			for _, err := range s.Summaries(t.Context(), store.SummaryQuery{Start: at(-60), End: at(60), Range: store.RangeType(i % 3)}) {
				last = err
			}
			if i == 0 {
				started <- struct{}{}
			}
			if !ok(last) {
				t.Errorf("Summaries while closing: %v", last)
			}
			if last != nil {
				return
			}
		}
	})
	for range 3 {
		<-started
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close under load: %v", err)
	}
	wg.Wait()
}

func testContextCanceled(t *testing.T, s Backend) {
	rng := rand.New(rand.NewPCG(9, 9))
	var all []segment.Document
	for i := range 3 {
		all = append(all, GenTrace(rng, at(float64(i)))...)
	}
	write(t, s, all...)
	flush(t, s)
	tid := all[0].TraceID

	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	lost := GenTrace(rng, at(10))
	if err := s.WriteDocuments(canceled, lost); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteDocuments with a canceled context: %v; want context.Canceled", err)
	}
	if _, err := s.TraceDocuments(t.Context(), lost[0].TraceID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TraceDocuments(%s), written with a canceled context: %v; want store.ErrNotFound", lost[0].TraceID, err)
	}
	if _, err := s.TraceDocuments(canceled, tid); !errors.Is(err, context.Canceled) {
		t.Errorf("TraceDocuments with a canceled context: %v; want context.Canceled", err)
	}
	if _, err := s.Summary(canceled, tid); !errors.Is(err, context.Canceled) {
		t.Errorf("Summary with a canceled context: %v; want context.Canceled", err)
	}
	if err := s.Flush(canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush with a canceled context: %v; want context.Canceled", err)
	}
	q := store.SummaryQuery{Start: at(-60), End: at(60)}
	var got []string
	var errs []error
	for h, err := range s.Summaries(canceled, q) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, h.Summary.ID)
	}
	if len(got) > 0 || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("Summaries with a canceled context yielded hits %v and errors %v; want only context.Canceled", got, errs)
	}

	// Canceled mid-scan: no hit after the cancellation, and the sequence
	// ends with the context's error.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var hits int
	var last error
	for h, err := range s.Summaries(ctx, q) {
		if err != nil {
			last = err
			continue
		}
		hits++
		if hits > 1 {
			t.Errorf("Summaries yielded %s after its context was canceled", h.Summary.ID)
		}
		cancel()
	}
	if hits != 1 || !errors.Is(last, context.Canceled) {
		t.Errorf("Summaries canceled after the first hit: %d hits, last error %v; want 1 hit, then context.Canceled", hits, last)
	}
}

// matchTraces writes traces whose summaries have a mix of index terms: typed
// annotation values, users, flags, statuses and slow responses, some on a
// second segment that arrives after the first summary.
func matchTraces(t *testing.T, s Backend) {
	rng := rand.New(rand.NewPCG(9, 9))
	var late []segment.Document
	var docs []segment.Document
	for i := range 60 {
		tid := traceID(int64(i%20), uint64(i))
		start := float64(i%20) + rng.Float64()
		dur := []float64{0.01, 0.2, 0.7, 1.5, 6}[rng.IntN(5)]
		extra := fmt.Sprintf(`"user":"u%d","annotations":{"k":%q,"n":%d,"flag":%t},`,
			rng.IntN(4), []string{"a", "b", "c"}[rng.IntN(3)], rng.IntN(3)-1, rng.IntN(2) == 0)
		switch rng.IntN(4) {
		case 0:
			extra += `"fault":true,"http":{"response":{"status":500}},`
		case 1:
			extra += `"error":true,"http":{"response":{"status":404}},`
		case 2:
			extra += `"http":{"response":{"status":200}},`
		}
		root := fmt.Sprintf("%016x", 0x100+i)
		docs = append(docs, decode(t, segJSON(tid, root, "", start, start+dur, extra)))
		if i%3 == 0 {
			// A callee reported later, with its own annotation value, which
			// also moves the trace's last activity.
			late = append(late, decode(t, segJSON(tid, fmt.Sprintf("%016x", 0x200+i), root, start+dur, start+dur+30, `"annotations":{"k":"late"},`)))
		}
	}
	write(t, s, docs...)
	flush(t, s)
	write(t, s, late...)
	flush(t, s)
}

func testMatch(t *testing.T, s Backend) {
	matchTraces(t, s)
	term := store.MatchTerm
	matches := map[string]store.Match{
		"k=a":              term(store.AnnotationStringTerm("k", "a")),
		"k=late":           term(store.AnnotationStringTerm("k", "late")),
		"n=0":              term(store.AnnotationNumberTerm("k", 0)),
		"n=-0":             term(store.AnnotationNumberTerm("n", math.Copysign(0, -1))),
		"flag":             term(store.AnnotationBoolTerm("flag", true)),
		"user u2":          term(store.UserTerm("u2")),
		"fault":            term(store.FlagTerm("fault")),
		"status 404":       term(mustTerm(store.StatusTerm(404))),
		"rt>=1":            term(mustTerm(store.AtLeastTerm("responsetime", 1))),
		"nobody":           term(store.UserTerm("nobody")),
		"fault and u1":     store.MatchAll(term(store.FlagTerm("fault")), term(store.UserTerm("u1"))),
		"k=b or error":     store.MatchAny(term(store.AnnotationStringTerm("k", "b")), term(store.FlagTerm("error"))),
		"(u0 or u3) and k": store.MatchAll(store.MatchAny(term(store.UserTerm("u0")), term(store.UserTerm("u3"))), term(store.AnnotationStringTerm("k", "late")), term(store.AnnotationBoolTerm("flag", false))),
	}
	for _, r := range []store.RangeType{store.ByTraceID, store.ByEvent, store.ByService, store.ByActivity} {
		base := store.SummaryQuery{Start: at(-5), End: at(12), Range: r}
		all := summaries(t, s, base)
		for name, m := range matches {
			var want []store.Hit
			for _, h := range all {
				if m.Admits(store.Terms(&h.Summary)) {
					want = append(want, h)
				}
			}
			q := base
			q.Match = m
			got := admitted(m, summaries(t, s, q))
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("Summaries(%s) narrowed to %s: admitted hits differ from the full scan's (-want +got):\n%s", queryString(q), name, diff)
			}
			// Pages of two, resumed by cursor, give the same hits.
			var paged []store.Hit
			for range 100 {
				n := 0
				for h, err := range s.Summaries(t.Context(), q) {
					if err != nil {
						t.Fatalf("Summaries(%s): %v", queryString(q), err)
					}
					paged = append(paged, h)
					q.After = h.Cursor
					if n++; n == 2 {
						break
					}
				}
				if n < 2 {
					break
				}
			}
			if diff := gocmp.Diff(want, admitted(m, paged)); diff != "" {
				t.Errorf("Summaries(%s) narrowed to %s, in pages of 2: admitted hits differ from the full scan's (-want +got):\n%s", queryString(base), name, diff)
			}
		}
	}
}

func admitted(m store.Match, hits []store.Hit) []store.Hit {
	var out []store.Hit
	for _, h := range hits {
		if m.Admits(store.Terms(&h.Summary)) {
			out = append(out, h)
		}
	}
	return out
}

func mustTerm(t store.Term, ok bool) store.Term {
	if !ok {
		panic("no such term")
	}
	return t
}
