package query

import (
	"context"
	"testing"
	"time"

	"github.com/thawtrace/thaw/internal/analyze/graph"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/store/embedded"
)

// putRecorder is a rollup store with no rollups that records what is put.
type putRecorder struct{ put []uint32 }

func (p *putRecorder) GraphRollup(context.Context, uint32) ([]byte, error) {
	return nil, store.ErrNotFound
}
func (p *putRecorder) RollupGeneration(uint32) uint64 { return 3 }
func (p *putRecorder) PutGraphRollup(_ context.Context, m uint32, _ uint64, _ []byte) (bool, error) {
	p.put = append(p.put, m)
	return true, nil
}

// TestEndedMinuteLeavesTheCache checks that a minute kept in memory while
// it was current is stored as a rollup once it has ended, rather than
// served from memory for ever.
func TestEndedMinuteLeavesTheCache(t *testing.T) {
	cfg := embedded.DefaultConfig()
	cfg.Dir = t.TempDir()
	db, err := embedded.Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := New(DefaultConfig(), db, nil, nil)
	past := uint32(time.Now().Unix()/60 - 2)
	b, err := (&graph.Graph{}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	s.open = openMinute{minute: past, gen: 3, graph: b} // cached while it was current
	rs := &putRecorder{}
	budget := 100
	if _, err := s.minuteGraph(t.Context(), rs, past, &budget); err != nil {
		t.Fatal(err)
	}
	if len(rs.put) != 1 || rs.put[0] != past {
		t.Errorf("rollups stored for an ended minute that was cached: %v; want [%d]", rs.put, past)
	}
}
