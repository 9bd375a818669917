package query_test

import (
	"fmt"
	"testing"

	"github.com/thawtrace/thaw/internal/query"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// BenchmarkBatchGetTracesLarge reads one trace of a segment and 5,000
// subsegments, sent as independent documents (50 groups of 99 HTTP calls),
// from the embedded store. "store" is the store read alone, the baseline
// the whole answer (nesting, inferred segments) is measured against:
//
//	go test -run '^$' -bench BatchGetTracesLarge ./internal/query/
func BenchmarkBatchGetTracesLarge(b *testing.B) {
	db := openEmbedded(b)
	const tid = "1-5f187253-6a106696d56b1f4ef9eba2ed"
	raw := []string{fmt.Sprintf(`{"trace_id":%q,"id":"a000000000000001","name":"big","start_time":100,"end_time":103}`, tid)}
	n := 2
	for g := range 50 {
		gid := fmt.Sprintf("%016x", n)
		n++
		raw = append(raw, fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":"group-%d","type":"subsegment","parent_id":"a000000000000001","start_time":%d,"end_time":%d}`, tid, gid, g, 100+g/20, 101+g/20))
		for c := range 99 {
			raw = append(raw, fmt.Sprintf(`{"trace_id":%q,"id":"%016x","name":"api.example.com","type":"subsegment","parent_id":%q,"namespace":"remote","start_time":%d.%03d,"end_time":%d.%03d,"http":{"request":{"method":"GET","url":"https://api.example.com/items/%d"},"response":{"status":200}}}`,
				tid, n, gid, 100+g/20, c, 100+g/20, c+1, c))
			n++
		}
	}
	docs := docsOf(b, raw...)
	if err := db.WriteDocuments(b.Context(), docs); err != nil {
		b.Fatal(err)
	}
	s := query.New(query.DefaultConfig(), db, nil, nil)
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.TraceDocuments(b.Context(), segment.TraceID(tid)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("BatchGetTraces", func(b *testing.B) {
		for b.Loop() {
			out, err := s.BatchGetTraces(b.Context(), xrayapi.BatchGetTracesInput{TraceIDs: []string{tid}})
			if err != nil || len(out.Traces) != 1 || len(out.Traces[0].Segments) != 1+4950 {
				b.Fatalf("BatchGetTraces = %d traces, %v; want the trace and its 4,950 inferred segments", len(out.Traces), err)
			}
		}
	})
}
