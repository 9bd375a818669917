package query

import (
	"context"
	"math"
	"slices"

	"github.com/thawtrace/thaw/internal/analyze/graph"
	"github.com/thawtrace/thaw/internal/filter"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// GetTimeSeriesServiceStatistics answers a node's or an edge's statistics
// per period (§4.5.2), from the traces with activity in the range, each
// counted in the period of its last activity.
func (s *Service) GetTimeSeriesServiceStatistics(ctx context.Context, in xrayapi.GetTimeSeriesServiceStatisticsInput) (*xrayapi.GetTimeSeriesServiceStatisticsOutput, error) {
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
		return nil, xrayapi.InvalidRequest("NextToken does not belong to this query; thaw answers every period in one page")
	}
	period := 60
	if in.Period != nil {
		period = *in.Period
	}
	if period <= 0 || period%60 != 0 {
		return nil, xrayapi.InvalidRequest("Period %d must be a positive multiple of 60 seconds", period)
	}
	if in.EntitySelectorExpression == "" {
		return nil, xrayapi.InvalidRequest("EntitySelectorExpression is required: service(\"name\"), id(name: \"...\", type: \"...\") or edge(\"a\", \"b\")")
	}
	sel, err := filter.ParseEntitySelector(in.EntitySelectorExpression)
	if err != nil {
		return nil, xrayapi.InvalidRequest("EntitySelectorExpression: %v", err)
	}

	buckets := map[int64]*graph.Graph{}
	err = s.eachTrace(ctx, start, end, groupFilter, func(hit store.Hit, t *segment.Trace) {
		b := int64(math.Floor(hit.MatchedEventTime/float64(period))) * int64(period)
		g := buckets[b]
		if g == nil {
			g = &graph.Graph{}
			buckets[b] = g
		}
		g.AddTrace(t)
	})
	if err != nil {
		return nil, err
	}

	out := &xrayapi.GetTimeSeriesServiceStatisticsOutput{TimeSeriesServiceStatistics: []xrayapi.TimeSeriesServiceStatistics{}}
	times := make([]int64, 0, len(buckets))
	for b := range buckets {
		times = append(times, b)
	}
	slices.Sort(times)
	for _, b := range times {
		services, err := wireServices(buckets[b].Services())
		if err != nil {
			return nil, err
		}
		point, ok := selectStatistics(sel, services)
		if !ok {
			continue
		}
		point.Timestamp = float64(b)
		out.TimeSeriesServiceStatistics = append(out.TimeSeriesServiceStatistics, point)
	}
	return out, nil
}

// selectStatistics picks the selected node's or edge's statistics out of a
// graph.
func selectStatistics(sel filter.Expr, services []xrayapi.Service) (xrayapi.TimeSeriesServiceStatistics, bool) {
	var p xrayapi.TimeSeriesServiceStatistics
	switch x := sel.(type) {
	case *filter.ServiceFunc:
		for _, s := range services {
			if s.Type != "client" && matchRef(x.Ref, s) && s.SummaryStatistics != nil {
				p.ServiceSummaryStatistics = s.SummaryStatistics
				p.ResponseTimeHistogram = s.ResponseTimeHistogram
				return p, true
			}
		}
	case *filter.EdgeFunc:
		byRef := make(map[int]xrayapi.Service, len(services))
		for _, s := range services {
			byRef[s.ReferenceID] = s
		}
		for _, s := range services {
			if !matchRef(x.Src, s) {
				continue
			}
			for _, e := range s.Edges {
				if matchRef(x.Dst, byRef[e.ReferenceID]) && e.SummaryStatistics != nil {
					p.EdgeSummaryStatistics = e.SummaryStatistics
					p.ResponseTimeHistogram = e.ResponseTimeHistogram
					return p, true
				}
			}
		}
	}
	return p, false
}

// matchRef reports whether a graph node is the one a selector names: by
// name, or by every property id() gives.
func matchRef(ref *filter.EntityRef, s xrayapi.Service) bool {
	if ref == nil {
		return false
	}
	if ref.ID == nil {
		return s.Name == ref.Name
	}
	for _, a := range ref.ID.Args {
		var v string
		switch a.Key {
		case "name":
			v = s.Name
		case "type":
			v = s.Type
		case "account.id":
			v = s.AccountID
		}
		if v != a.Value {
			return false
		}
	}
	return true
}
