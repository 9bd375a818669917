package embedded

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/thawtrace/thaw/internal/loadgen"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store/storetest"
)

// benchConfig is the default store in dir, keeping everything.
func benchConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Dir = dir
	cfg.Retention = 0
	return cfg
}

// genDocuments returns at least n documents of generated traces, one trace
// starting every 10 ms from t0, and the traces' ids.
func genDocuments(rng *rand.Rand, n int) ([]segment.Document, []segment.TraceID) {
	var docs []segment.Document
	var ids []segment.TraceID
	for len(docs) < n {
		ds := storetest.GenTrace(rng, t0.Add(time.Duration(len(ids))*10*time.Millisecond))
		docs = append(docs, ds...)
		ids = append(ids, ds[0].TraceID)
	}
	return docs, ids
}

// BenchmarkWriteDocuments writes batches of 100 generated documents (about
// 700 bytes each), each batch committed with a synced WAL as ingest does.
// The summarizer is not started: this measures the write path alone.
func BenchmarkWriteDocuments(b *testing.B) {
	db := open(b, benchConfig(b.TempDir()))
	defer db.Close()
	const batchSize, ring = 100, 32
	docs, _ := genDocuments(rand.New(rand.NewPCG(1, 1)), batchSize*ring)
	batches := make([][]segment.Document, ring)
	var size int
	for i := range batches {
		batches[i] = docs[i*batchSize : (i+1)*batchSize]
		for _, d := range batches[i] {
			size += len(d.Raw)
		}
	}
	b.SetBytes(int64(size / ring))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := db.WriteDocuments(b.Context(), batches[n%ring]); err != nil {
			b.Fatalf("WriteDocuments: %v", err)
		}
		n++
	}
	b.ReportMetric(float64(n*batchSize)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkTraceDocuments reads random traces (4 documents each) from a store
// of 100,000 documents, flushed to SSTables as after a restart.
func BenchmarkTraceDocuments(b *testing.B) {
	db := open(b, benchConfig(b.TempDir()))
	defer db.Close()
	docs, ids := genDocuments(rand.New(rand.NewPCG(2, 2)), 100_000)
	for len(docs) > 0 {
		n := min(len(docs), 1000)
		if err := db.WriteDocuments(b.Context(), docs[:n]); err != nil {
			b.Fatalf("WriteDocuments: %v", err)
		}
		docs = docs[n:]
	}
	if err := db.pdb.Flush(); err != nil {
		b.Fatalf("flush memtable: %v", err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	b.ReportAllocs()
	for b.Loop() {
		tid := ids[rng.IntN(len(ids))]
		got, err := db.TraceDocuments(b.Context(), tid)
		if err != nil || len(got) != 4 {
			b.Fatalf("TraceDocuments(%s): %d documents, error %v; want 4", tid, len(got), err)
		}
	}
}

// BenchmarkSummarize measures the summarizer: reading back, assembling and
// summarizing generated 6–7-document traces that were written beforehand.
// One op is one trace.
func BenchmarkSummarize(b *testing.B) {
	db := open(b, benchConfig(b.TempDir()))
	defer db.Close()
	g := loadgen.New(1)
	ctx := b.Context()
	b.ReportAllocs()
	const perRound = 500
	for b.Loop() {
		b.StopTimer()
		for range perRound {
			tr := g.Trace(time.Now())
			var docs []segment.Document
			for _, raw := range tr.Docs {
				ds, errs := segment.Decode(raw, 0)
				if len(errs) > 0 {
					b.Fatal(errs[0])
				}
				docs = append(docs, ds...)
			}
			if err := db.WriteDocuments(ctx, docs); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := db.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*perRound), "µs/trace")
}
