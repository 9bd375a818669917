package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/thawtrace/thaw/internal/analyze/graph"
	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/filter"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// GetTraceGraph answers the service graph of the given traces (§4.4.5).
func (s *Service) GetTraceGraph(ctx context.Context, in xrayapi.GetTraceGraphInput) (*xrayapi.GetTraceGraphOutput, error) {
	if in.NextToken != "" {
		return nil, xrayapi.InvalidRequest("NextToken is currently not supported")
	}
	if len(in.TraceIDs) == 0 {
		return nil, xrayapi.InvalidRequest("TraceIds is required and must hold at least one trace id")
	}
	if len(in.TraceIDs) > s.cfg.MaxBatchTraces {
		return nil, xrayapi.InvalidRequest("Exceeding maximum query size: %d", s.cfg.MaxBatchTraces)
	}
	var g graph.Graph
	for _, raw := range in.TraceIDs {
		id, err := segment.ParseTraceID(raw)
		if err != nil {
			return nil, xrayapi.InvalidRequest("TraceIds: %q is not a trace id", raw)
		}
		if err := s.addTrace(ctx, &g, id); err != nil {
			return nil, err
		}
	}
	services, err := wireServices(g.Services())
	if err != nil {
		return nil, err
	}
	return &xrayapi.GetTraceGraphOutput{Services: services}, nil
}

// GetServiceGraph answers the service graph of the traces with activity in
// a time range (§4.5.1), built from those traces. It reads every trace in
// the range, so it refuses ranges holding more than MaxGraphTraces rather
// than answer a partial graph.
func (s *Service) GetServiceGraph(ctx context.Context, in xrayapi.GetServiceGraphInput) (*xrayapi.GetServiceGraphOutput, error) {
	if in.StartTime == nil || in.EndTime == nil {
		return nil, xrayapi.InvalidRequest("StartTime and EndTime are required")
	}
	start, end := float64(*in.StartTime), float64(*in.EndTime)
	if err := s.checkWindow(start, end); err != nil {
		return nil, err
	}
	groupFilter, err := s.groupFilter(in.GroupName, in.GroupARN)
	if err != nil {
		return nil, err
	}
	if in.NextToken != "" {
		return nil, xrayapi.InvalidRequest("NextToken does not belong to this query; thaw answers the whole graph in one page")
	}
	// Whole minutes come from per-minute rollups where the store keeps
	// them (built once from the traces whose last activity falls in the
	// minute); a group's graph is built from its traces.
	if rs, ok := s.r.(rollupStore); ok && groupFilter == nil {
		first, last := uint32(math.Floor(start/60)), uint32(math.Ceil(end/60))
		rolled, err := s.graphFromRollups(ctx, rs, first, last)
		if err != nil {
			return nil, err
		}
		services, err := wireServices(rolled)
		if err != nil {
			return nil, err
		}
		return &xrayapi.GetServiceGraphOutput{StartTime: float64(first) * 60, EndTime: float64(last) * 60, Services: services}, nil
	}
	var g graph.Graph
	err = s.eachTrace(ctx, start, end, groupFilter, func(_ store.Hit, t *segment.Trace) { g.AddTrace(t) })
	if err != nil {
		return nil, err
	}
	services, err := wireServices(g.Services())
	if err != nil {
		return nil, err
	}
	return &xrayapi.GetServiceGraphOutput{StartTime: start, EndTime: end, Services: services}, nil
}

// eachTrace calls fn with every trace that has activity in [start, end)
// and belongs to the group with filter groupFilter (nil: every trace),
// assembled. Graph queries read every trace of their range, so it refuses
// ranges holding more than MaxGraphTraces rather than answer in part.
func (s *Service) eachTrace(ctx context.Context, start, end float64, groupFilter filter.Expr, fn func(store.Hit, *segment.Trace)) error {
	n := 0
	q := store.SummaryQuery{Start: toTime(start), End: toTime(end), Range: store.ByEvent}
	if groupFilter != nil {
		q.Match = s.plan(groupFilter) // a selective group reads only its traces
	}
	for hit, err := range s.r.Summaries(ctx, q) {
		if err != nil {
			return fmt.Errorf("scan summaries: %w", err)
		}
		if n++; n > s.cfg.MaxGraphTraces {
			return errTooManyTraces(s.cfg.MaxGraphTraces)
		}
		id, err := segment.ParseTraceID(hit.Summary.ID)
		if err != nil {
			continue
		}
		if ok, err := s.inGroup(ctx, groupFilter, &hit.Summary); err != nil || !ok {
			if err != nil {
				return err
			}
			continue
		}
		docs, err := s.r.TraceDocuments(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read trace %s: %w", id, err)
		}
		fn(hit, segment.Assemble(id, docs))
	}
	return nil
}

// groupFilter returns the filter of the group a graph query names: nil
// (every trace) for none or the Default group.
func (s *Service) groupFilter(name, arn string) (filter.Expr, error) {
	if (name == "" || name == "Default") && arn == "" {
		return nil, nil
	}
	e, _, err := s.eval.Groups.ResolveGroup(name, arn)
	if err != nil {
		return nil, xrayapi.InvalidRequest("group %q: %v", name+arn, err)
	}
	return e, nil
}

// inGroup reports whether a trace belongs to a group with filter e.
func (s *Service) inGroup(ctx context.Context, e filter.Expr, sum *summary.Summary) (bool, error) {
	if e == nil {
		return true, nil
	}
	t := &summaryTrace{ctx: ctx, s: sum, r: s.r}
	ok, err := s.eval.Eval(e, t)
	if t.err != nil {
		return false, fmt.Errorf("read trace %s for the group filter: %w", sum.ID, t.err)
	}
	if err != nil {
		return false, xrayapi.InvalidRequest("group filter: %v", err)
	}
	return ok, nil
}

func (s *Service) addTrace(ctx context.Context, g *graph.Graph, id segment.TraceID) error {
	docs, err := s.r.TraceDocuments(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read trace %s: %w", id, err)
	}
	g.AddTrace(segment.Assemble(id, docs))
	return nil
}

// wireServices converts graph services to the API's: the two types have
// the same JSON shape by design (graph's is what a backend aggregates,
// xrayapi's what the API declares).
func wireServices(services []graph.Service) ([]xrayapi.Service, error) {
	b, err := json.Marshal(services)
	if err != nil {
		return nil, fmt.Errorf("encode service graph: %w", err)
	}
	out := []xrayapi.Service{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode service graph: %w", err)
	}
	return out, nil
}

func errTooManyTraces(limit int) error {
	return xrayapi.InvalidRequest("the range holds more than %d traces without a stored rollup, more than thaw aggregates on demand; narrow the range", limit)
}
