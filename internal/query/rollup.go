package query

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
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

// rollupSettle is how old a minute must be before its rollup is stored:
// traces still receiving documents would make it stale at once.
const rollupSettle = 2 * time.Minute

// graphFromRollups builds the graph of whole minutes [first, last) from
// stored rollups, building and storing the missing ones from the traces
// whose last activity falls in each minute.
func (s *Service) graphFromRollups(ctx context.Context, rs rollupStore, first, last uint32) ([]graph.Service, error) {
	settled := uint32(time.Now().Add(-rollupSettle).Unix() / 60)
	lists := make([][]graph.Service, 0, last-first)
	n := 0
	for m := first; m < last; m++ {
		v, err := rs.GraphRollup(ctx, m)
		if err == nil {
			var services []graph.Service
			if err := json.Unmarshal(v, &services); err != nil {
				return nil, fmt.Errorf("decode graph rollup of minute %d: %w", m, err)
			}
			lists = append(lists, services)
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("read graph rollup of minute %d: %w", m, err)
		}
		gen := rs.RollupGeneration(m)
		var g graph.Graph
		q := store.SummaryQuery{Start: time.Unix(int64(m)*60, 0), End: time.Unix(int64(m+1)*60, 0), Range: store.ByActivity}
		for hit, err := range s.r.Summaries(ctx, q) {
			if err != nil {
				return nil, fmt.Errorf("scan summaries: %w", err)
			}
			if n++; n > s.cfg.MaxGraphTraces {
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
		services := g.Services()
		if m < settled {
			b, err := json.Marshal(services)
			if err != nil {
				return nil, fmt.Errorf("encode graph rollup: %w", err)
			}
			if _, err := rs.PutGraphRollup(ctx, m, gen, b); err != nil {
				return nil, err
			}
		}
		lists = append(lists, services)
	}
	return mergeServices(lists), nil
}

type nodeKey struct{ name, typ, account string }

func keyOf(s graph.Service) nodeKey { return nodeKey{s.Name, s.Type, s.AccountID} }

// mergeServices adds up service graphs: nodes by identity, edges by their
// callee, statistics summed, histograms merged, times widened.
func mergeServices(lists [][]graph.Service) []graph.Service {
	nodes := map[nodeKey]*graph.Service{}
	edges := map[nodeKey]map[nodeKey]*graph.Edge{}
	for _, list := range lists {
		byRef := make(map[int]nodeKey, len(list))
		for _, s := range list {
			byRef[s.ReferenceID] = keyOf(s)
		}
		for _, s := range list {
			k := keyOf(s)
			n := nodes[k]
			if n == nil {
				c := s
				c.Edges = nil
				c.SummaryStatistics = nil
				c.DurationHistogram, c.ResponseTimeHistogram = nil, nil
				n = &c
				nodes[k] = n
				edges[k] = map[nodeKey]*graph.Edge{}
			}
			n.Root = n.Root || s.Root
			if s.State == graph.StateActive {
				n.State = graph.StateActive
			}
			n.StartTime, n.EndTime = minTime(n.StartTime, s.StartTime), math.Max(n.EndTime, s.EndTime)
			if s.SummaryStatistics != nil {
				if n.SummaryStatistics == nil {
					n.SummaryStatistics = &graph.Statistics{}
				}
				addStatistics(n.SummaryStatistics, *s.SummaryStatistics)
			}
			n.DurationHistogram = mergeHistograms(n.DurationHistogram, s.DurationHistogram)
			n.ResponseTimeHistogram = mergeHistograms(n.ResponseTimeHistogram, s.ResponseTimeHistogram)
			for _, e := range s.Edges {
				callee := byRef[e.ReferenceID]
				me := edges[k][callee]
				if me == nil {
					c := e
					c.SummaryStatistics = graph.Statistics{}
					c.ResponseTimeHistogram, c.Aliases = nil, nil
					me = &c
					edges[k][callee] = me
				}
				me.StartTime, me.EndTime = minTime(me.StartTime, e.StartTime), math.Max(me.EndTime, e.EndTime)
				addStatistics(&me.SummaryStatistics, e.SummaryStatistics)
				me.ResponseTimeHistogram = mergeHistograms(me.ResponseTimeHistogram, e.ResponseTimeHistogram)
				for _, a := range e.Aliases {
					if !slices.ContainsFunc(me.Aliases, func(b graph.Alias) bool { return b.Name == a.Name && b.Type == a.Type }) {
						me.Aliases = append(me.Aliases, a)
					}
				}
			}
		}
	}
	keys := make([]nodeKey, 0, len(nodes))
	for k := range nodes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b nodeKey) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.typ, b.typ), cmp.Compare(a.account, b.account))
	})
	ref := make(map[nodeKey]int, len(keys))
	for i, k := range keys {
		ref[k] = i
	}
	out := make([]graph.Service, 0, len(keys))
	for i, k := range keys {
		n := *nodes[k]
		n.ReferenceID = i
		n.Edges = []graph.Edge{}
		for callee, e := range edges[k] {
			c := *e
			c.ReferenceID = ref[callee]
			if c.Aliases == nil {
				c.Aliases = []graph.Alias{}
			}
			slices.SortFunc(c.Aliases, func(a, b graph.Alias) int { return cmp.Compare(a.Name, b.Name) })
			n.Edges = append(n.Edges, c)
		}
		slices.SortFunc(n.Edges, func(a, b graph.Edge) int { return cmp.Compare(a.ReferenceID, b.ReferenceID) })
		out = append(out, n)
	}
	return out
}

func minTime(a, b float64) float64 {
	if a == 0 {
		return b
	}
	if b == 0 {
		return a
	}
	return math.Min(a, b)
}

func addStatistics(dst *graph.Statistics, s graph.Statistics) {
	dst.OkCount += s.OkCount
	dst.TotalCount += s.TotalCount
	dst.TotalResponseTime = math.Round((dst.TotalResponseTime+s.TotalResponseTime)*1e6) / 1e6
	dst.ErrorStatistics.ThrottleCount += s.ErrorStatistics.ThrottleCount
	dst.ErrorStatistics.OtherCount += s.ErrorStatistics.OtherCount
	dst.ErrorStatistics.TotalCount += s.ErrorStatistics.TotalCount
	dst.FaultStatistics.OtherCount += s.FaultStatistics.OtherCount
	dst.FaultStatistics.TotalCount += s.FaultStatistics.TotalCount
}

func mergeHistograms(a, b []graph.HistogramEntry) []graph.HistogramEntry {
	if len(b) == 0 {
		return a
	}
	counts := make(map[float64]int64, len(a)+len(b))
	for _, e := range a {
		counts[e.Value] += e.Count
	}
	for _, e := range b {
		counts[e.Value] += e.Count
	}
	out := make([]graph.HistogramEntry, 0, len(counts))
	for v, c := range counts {
		out = append(out, graph.HistogramEntry{Value: v, Count: c})
	}
	slices.SortFunc(out, func(x, y graph.HistogramEntry) int { return cmp.Compare(x.Value, y.Value) })
	return out
}
