package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/thawtrace/thaw/internal/analyze/graph"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
)

// rollupStore is what a store offers to keep per-minute service-graph
// rollups. It is optional: without it every graph is built from traces.
type rollupStore interface {
	GraphRollup(ctx context.Context, minute uint32) ([]byte, error)
	RollupGeneration(minute uint32) uint64
	PutGraphRollup(ctx context.Context, minute uint32, gen uint64, v []byte) (bool, error)
}

// graphFromRollups builds the graph of whole minutes [first, last) from
// stored rollups, building and storing the missing ones from the traces
// whose last activity falls in each minute. It reads at most
// MaxGraphTraces traces in all.
func (s *Service) graphFromRollups(ctx context.Context, rs rollupStore, first, last uint32) ([]graph.Service, error) {
	var g graph.Graph
	budget := s.cfg.MaxGraphTraces
	for m := first; m < last; m++ {
		mg, err := s.minuteGraph(ctx, rs, m, &budget)
		if err != nil {
			return nil, err
		}
		g.Merge(mg)
	}
	return g.Services(), nil
}

// WarmGraphRollups builds and stores the missing graph rollups of the
// minutes that ended within the last window and did not change since the
// previous call, so that graph queries find them ready. A minute still
// changing (a backfill, late documents) waits for a quiet interval rather
// than be rebuilt on every call. It returns how many it built. Stores
// without rollups have nothing to warm.
func (s *Service) WarmGraphRollups(ctx context.Context, window time.Duration) (int, error) {
	rs, ok := s.r.(rollupStore)
	if !ok {
		return 0, nil
	}
	s.warmMu.Lock()
	defer s.warmMu.Unlock()
	now := uint32(time.Now().Unix() / 60)
	first := now - uint32(window/time.Minute)
	if s.warmSeen == nil {
		s.warmSeen = map[uint32]uint64{}
	}
	for m := range s.warmSeen {
		if m < first {
			delete(s.warmSeen, m)
		}
	}
	built := 0
	for m := first; m < now; m++ {
		if _, err := rs.GraphRollup(ctx, m); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return built, fmt.Errorf("read graph rollup of minute %d: %w", m, err)
		}
		gen := rs.RollupGeneration(m)
		if seen, ok := s.warmSeen[m]; !ok || seen != gen {
			s.warmSeen[m] = gen
			continue
		}
		budget := s.cfg.MaxGraphTraces
		if _, err := s.minuteGraph(ctx, rs, m, &budget); err != nil {
			return built, err
		}
		built++
	}
	return built, nil
}

// minuteGraph returns the graph of the traces whose last activity falls in
// an epoch minute: its stored rollup, or else one built from the traces
// (taking them from *budget) and stored if the minute has ended. A rollup
// stored too early is harmless, since any change deletes it, but one of
// the current minute would be deleted by the next document.
func (s *Service) minuteGraph(ctx context.Context, rs rollupStore, m uint32, budget *int) (*graph.Graph, error) {
	v, err := rs.GraphRollup(ctx, m)
	if err == nil {
		var g graph.Graph
		if err := g.UnmarshalBinary(v); err == nil {
			return &g, nil
		}
		// A corrupt rollup is rebuilt from the traces below.
		s.log.Warn("rebuild corrupt graph rollup", "minute", m, "err", err)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("read graph rollup of minute %d: %w", m, err)
	}
	gen := rs.RollupGeneration(m)
	// Only the current minute is served from memory: once it has ended it
	// is built once more and stored.
	ended := int64(m) < time.Now().Unix()/60
	if !ended {
		if g, ok := s.cachedOpenMinute(m, gen); ok {
			return g, nil
		}
	}
	var g graph.Graph
	q := store.SummaryQuery{Start: time.Unix(int64(m)*60, 0), End: time.Unix(int64(m+1)*60, 0), Range: store.ByActivity}
	for hit, err := range s.r.Summaries(ctx, q) {
		if err != nil {
			return nil, fmt.Errorf("scan summaries: %w", err)
		}
		if *budget--; *budget < 0 {
			return nil, errTooManyTraces(s.cfg.MaxGraphTraces)
		}
		id, err := segment.ParseTraceID(hit.Summary.ID)
		if err != nil {
			continue
		}
		if err := s.addTrace(ctx, &g, id); err != nil {
			return nil, err
		}
	}
	b, err := g.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode graph rollup: %w", err)
	}
	if ended {
		if _, err := rs.PutGraphRollup(ctx, m, gen, b); err != nil {
			return nil, err
		}
		return &g, nil
	}
	s.openMu.Lock()
	s.open = openMinute{minute: m, gen: gen, graph: b}
	s.openMu.Unlock()
	return &g, nil
}

// openMinute is the graph of the current minute, which is not stored as a
// rollup (its next document would delete it), kept in memory while its
// rollup generation says nothing in it changed.
type openMinute struct {
	minute uint32
	gen    uint64
	graph  []byte // graph.Graph.MarshalBinary
}

// cachedOpenMinute returns the current minute's graph if nothing in it
// changed since it was built.
func (s *Service) cachedOpenMinute(m uint32, gen uint64) (*graph.Graph, bool) {
	s.openMu.Lock()
	o := s.open
	s.openMu.Unlock()
	if o.graph == nil || o.minute != m || o.gen != gen {
		return nil, false
	}
	var g graph.Graph
	if err := g.UnmarshalBinary(o.graph); err != nil {
		return nil, false
	}
	return &g, true
}
