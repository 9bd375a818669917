package query_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/analyze/graph"
	"github.com/thawtrace/thaw/internal/query"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/store/embedded"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// openEmbedded opens a real embedded store in a temporary directory.
func openEmbedded(t testing.TB) *embedded.DB {
	t.Helper()
	cfg := embedded.DefaultConfig()
	cfg.Dir = t.TempDir()
	db, err := embedded.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// plainReader hides the embedded store's rollup methods, so the query
// layer builds every graph from traces.
type plainReader struct{ store.Reader }

// TestGetServiceGraphRollups checks that graphs answered from per-minute
// rollups in the real embedded store equal graphs built from the traces,
// before and after the rollups are stored, and that a late document makes
// its minute's rollup stale.
func TestGetServiceGraphRollups(t *testing.T) {
	t.Parallel()
	db := openEmbedded(t)
	ctx := t.Context()

	const minute0 = 28_333_333 // epoch minute of the first traces (2023)
	t0 := float64(minute0 * 60)
	doc := func(n int, at float64, sub string) segment.Document {
		id := fmt.Sprintf("1-%08x-%024x", int(t0), n)
		d := docsOf(t, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"fn","start_time":%f,"end_time":%f,%s
			"subsegments":[{"id":"%016x","name":%q,"namespace":"aws","start_time":%f,"end_time":%f}]}`,
			id, n<<8|1, at, at+0.5, map[bool]string{true: `"fault":true,`}[n%4 == 0],
			n<<8|2, sub, at+0.1, at+0.3))
		return d[0]
	}
	var docs []segment.Document
	for n := range 9 { // three minutes, three traces each
		docs = append(docs, doc(n, t0+float64(n/3*60+n%3*10+5), "DynamoDB"))
	}
	if err := db.WriteDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	rolled := query.New(query.DefaultConfig(), db, nil, nil)
	plain := query.New(query.DefaultConfig(), plainReader{db}, nil, nil)
	in := xrayapi.GetServiceGraphInput{StartTime: ptr(xrayapi.Time(t0)), EndTime: ptr(xrayapi.Time(t0 + 180))}
	same := func(when string) *xrayapi.GetServiceGraphOutput {
		t.Helper()
		want, err := plain.GetServiceGraph(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rolled.GetServiceGraph(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: graph from rollups differs from graph from traces (-traces +rollups):\n%s", when, diff)
		}
		return got
	}

	same("rollups built")
	for m := uint32(minute0); m < minute0+3; m++ {
		if _, err := db.GraphRollup(ctx, m); err != nil {
			t.Errorf("rollup of minute %d after the first query: %v, want stored", m, err)
		}
	}
	same("rollups read")

	// A late subsegment document of trace 1 (minute 0) calls S3: the
	// minute's rollup must go, and the next graph must show the call.
	late := docsOf(t, fmt.Sprintf(`{"trace_id":"1-%08x-%024x","id":"%016x","parent_id":"%016x","type":"subsegment","name":"S3","namespace":"aws","start_time":%f,"end_time":%f}`,
		int(t0), 1, 1<<8|3, 1<<8|1, t0+15.3, t0+15.4))
	if err := db.WriteDocuments(ctx, late); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GraphRollup(ctx, minute0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rollup of minute 0 after a late document: err = %v, want ErrNotFound", err)
	}
	if _, err := db.GraphRollup(ctx, minute0+1); err != nil {
		t.Errorf("rollup of minute 1 after a late document elsewhere: %v, want kept", err)
	}
	out := same("after a late document")
	var s3 bool
	for _, svc := range out.Services {
		s3 = s3 || svc.Name == "S3"
	}
	if !s3 {
		t.Errorf("services after the late S3 call = %+v, want an S3 node", out.Services)
	}
}

// TestWarmGraphRollups checks that warming builds the rollups of the ended,
// quiet minutes in its window, once, and leaves the current minute alone.
func TestWarmGraphRollups(t *testing.T) {
	t.Parallel()
	db := openEmbedded(t)
	ctx := t.Context()

	now := time.Now()
	at := float64(now.Add(-3*time.Minute).Unix()/60*60 + 20) // inside an ended minute
	docs := docsOf(t, fmt.Sprintf(`{"trace_id":"1-%08x-%024x","id":"a000000000000001","name":"fn","start_time":%f,"end_time":%f}`, int(at), 1, at, at+0.5))
	if err := db.WriteDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s := query.New(query.DefaultConfig(), db, nil, nil)
	// The first call only notes each minute's state: a minute is built
	// once it stayed unchanged from one call to the next.
	if n, err := s.WarmGraphRollups(ctx, 10*time.Minute); err != nil || n != 0 {
		t.Fatalf("first WarmGraphRollups = %d, %v; want nothing built yet", n, err)
	}
	// A second trace in the same minute: that minute is not quiet yet.
	docs = docsOf(t, fmt.Sprintf(`{"trace_id":"1-%08x-%024x","id":"a000000000000002","name":"fn","start_time":%f,"end_time":%f}`, int(at), 2, at+1, at+1.5))
	if err := db.WriteDocuments(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := s.WarmGraphRollups(ctx, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if n < 8 { // 9 quiet ended minutes, 8 if the minute turned meanwhile
		t.Errorf("WarmGraphRollups built %d rollups, want the 9 quiet ended minutes of the window", n)
	}
	if _, err := db.GraphRollup(ctx, uint32(at/60)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rollup of a minute that changed since the last warming: err = %v, want store.ErrNotFound", err)
	}
	if n, err := s.WarmGraphRollups(ctx, 10*time.Minute); err != nil || n < 1 {
		t.Errorf("third WarmGraphRollups = %d, %v; want the now quiet minute built", n, err)
	}
	v, err := db.GraphRollup(ctx, uint32(at/60))
	if err != nil {
		t.Fatalf("rollup of the trace's minute: %v", err)
	}
	var g graph.Graph
	if err := g.UnmarshalBinary(v); err != nil {
		t.Fatal(err)
	}
	if ss := g.Services(); !slices.ContainsFunc(ss, func(s graph.Service) bool {
		return s.Name == "fn" && s.State == graph.StateActive && s.SummaryStatistics.TotalCount == 2
	}) {
		t.Errorf("rollup of the traces' minute = %+v, want the fn node counting both traces", ss)
	}
	if _, err := db.GraphRollup(ctx, uint32(time.Now().Unix()/60)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rollup of the current minute: err = %v, want store.ErrNotFound (it has not ended)", err)
	}
	if n, err := s.WarmGraphRollups(ctx, 10*time.Minute); err != nil || n > 1 {
		t.Errorf("last WarmGraphRollups = %d, %v; want nothing left to build (1 if the minute turned)", n, err)
	}
}

// TestOpenMinuteGraph checks the current minute, which has no stored rollup
// and is kept in memory between calls, never answers a stale graph: a
// document written into it shows in the next graph.
func TestOpenMinuteGraph(t *testing.T) {
	t.Parallel()
	db := openEmbedded(t)
	ctx := t.Context()
	now := float64(time.Now().Unix())
	id := fmt.Sprintf("1-%08x-%024x", int(now), 7)
	write := func(name string, n int) {
		t.Helper()
		d := docsOf(t, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"fn","start_time":%f,"end_time":%f,
			"subsegments":[{"id":"%016x","name":%q,"namespace":"aws","start_time":%f,"end_time":%f}]}`,
			id, n<<8|1, now-0.5, now-0.1, n<<8|2, name, now-0.4, now-0.2))
		if err := db.WriteDocuments(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := db.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rolled := query.New(query.DefaultConfig(), db, nil, nil)
	in := xrayapi.GetServiceGraphInput{StartTime: ptr(xrayapi.Time(now - 30)), EndTime: ptr(xrayapi.Time(now + 1))}
	names := func() []string {
		t.Helper()
		out, err := rolled.GetServiceGraph(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, s := range out.Services {
			ns = append(ns, s.Name)
		}
		slices.Sort(ns)
		return ns
	}
	write("DynamoDB", 1)
	first := names()
	if again := names(); !slices.Equal(first, again) || !slices.Contains(first, "DynamoDB") {
		t.Fatalf("graph of the current minute: %v, then %v; want the same, with DynamoDB", first, again)
	}
	write("S3", 2) // a second segment of the same trace, calling S3
	if got := names(); !slices.Contains(got, "S3") {
		t.Errorf("graph of the current minute after a new document calling S3: %v; want S3 in it", got)
	}
}
