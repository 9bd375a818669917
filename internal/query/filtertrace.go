package query

import (
	"context"
	"errors"
	"fmt"

	"github.com/thawtrace/thaw/internal/analyze/graph"
	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/filter"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// GroupLookup finds a group by name or ARN; the groups service satisfies it.
type GroupLookup interface {
	Lookup(key string) (xrayapi.Group, bool)
}

// groupResolver resolves group.name and group.arn in filter expressions.
type groupResolver struct{ groups GroupLookup }

// ResolveGroup implements filter.GroupResolver.
func (g groupResolver) ResolveGroup(name, arn string) (filter.Expr, string, error) {
	if g.groups == nil {
		return nil, "", filter.ErrNoGroups
	}
	key := name
	if key == "" {
		key = arn
	}
	grp, ok := g.groups.Lookup(key)
	if !ok {
		return nil, "", fmt.Errorf("group %q not found", key)
	}
	if grp.FilterExpression == "" {
		return nil, grp.GroupARN, nil
	}
	e, err := filter.Parse(grp.FilterExpression)
	if err != nil {
		return nil, "", fmt.Errorf("group %s: %w", grp.GroupName, err)
	}
	return e, grp.GroupARN, nil
}

// summaryTrace is what a filter expression sees of a trace: its summary,
// and the trace's own service graph, built from its documents only when the
// expression asks for services' or edges' values.
type summaryTrace struct {
	ctx context.Context
	s   *summary.Summary
	r   store.Reader

	built    bool
	err      error
	services []filter.Service
	edges    []filter.Edge
}

var _ filter.Trace = (*summaryTrace)(nil)

func boolField(b bool) []filter.Value { return []filter.Value{filter.BoolValue(b)} }

// Field implements filter.Scope for trace-level keywords.
func (t *summaryTrace) Field(name string) []filter.Value {
	s := t.s
	switch name {
	case "ok":
		if s.EntryPoint == nil {
			return nil
		}
		return boolField(!s.HasFault && !s.HasError)
	case "error":
		return boolField(s.HasError)
	case "fault":
		return boolField(s.HasFault)
	case "throttle":
		return boolField(s.HasThrottle)
	case "partial":
		return boolField(s.IsPartial)
	case "responsetime":
		if s.HasResponse {
			return []filter.Value{filter.NumberValue(s.ResponseTime)}
		}
	case "duration":
		if s.HasDuration {
			return []filter.Value{filter.NumberValue(s.Duration)}
		}
	case "http.status":
		if s.HTTP != nil && s.HTTP.HTTPStatus != 0 {
			return []filter.Value{filter.NumberValue(float64(s.HTTP.HTTPStatus))}
		}
	case "http.url", "http.method", "http.useragent", "http.clientip":
		if s.HTTP != nil {
			v := map[string]string{"http.url": s.HTTP.HTTPURL, "http.method": s.HTTP.HTTPMethod,
				"http.useragent": s.HTTP.UserAgent, "http.clientip": s.HTTP.ClientIP}[name]
			if v != "" {
				return []filter.Value{filter.StringValue(v)}
			}
		}
	case "user":
		var out []filter.Value
		for _, u := range s.Users {
			out = append(out, filter.StringValue(u.UserName))
		}
		return out
	case "name", "type", "account.id":
		var out []filter.Value
		for _, id := range s.ServiceIDs {
			v := map[string]string{"name": id.Name, "type": id.Type, "account.id": id.AccountID}[name]
			if v != "" {
				out = append(out, filter.StringValue(v))
			}
		}
		return out
	case "message":
		var out []filter.Value
		for _, list := range [][]summary.RootCause{s.FaultRootCauses, s.ErrorRootCauses} {
			for _, rc := range list {
				for _, svc := range rc.Services {
					for _, e := range svc.EntityPath {
						for _, x := range e.Exceptions {
							if x.Message != "" {
								out = append(out, filter.StringValue(x.Message))
							}
						}
					}
				}
			}
		}
		return out
	case "availabilityzone":
		return stringValues(s.AvailabilityZones)
	case "instance.id":
		return stringValues(s.InstanceIDs)
	case "resource.arn":
		return stringValues(s.ResourceARNs)
	}
	return nil
}

func stringValues(ss []string) []filter.Value {
	out := make([]filter.Value, 0, len(ss))
	for _, v := range ss {
		out = append(out, filter.StringValue(v))
	}
	return out
}

// Annotation implements filter.Trace.
func (t *summaryTrace) Annotation(key string) []filter.Value {
	var out []filter.Value
	for _, v := range t.s.Annotations[key] {
		switch a := v.AnnotationValue; {
		case a.NumberValue != nil:
			out = append(out, filter.NumberValue(*a.NumberValue))
		case a.BooleanValue != nil:
			out = append(out, filter.BoolValue(*a.BooleanValue))
		case a.StringValue != nil:
			out = append(out, filter.StringValue(*a.StringValue))
		}
	}
	return out
}

// RootCauses implements filter.Trace; the two types have the same fields.
func (t *summaryTrace) RootCauses(kind string) []filter.RootCause {
	var in []summary.RootCause
	switch kind {
	case "fault":
		in = t.s.FaultRootCauses
	case "error":
		in = t.s.ErrorRootCauses
	case "responsetime":
		in = t.s.ResponseTimeRootCauses
	}
	out := make([]filter.RootCause, 0, len(in))
	for _, rc := range in {
		frc := filter.RootCause{ClientImpacting: rc.ClientImpacting}
		for _, svc := range rc.Services {
			fs := filter.RootCauseService{Name: svc.Name, Names: svc.Names, Type: svc.Type, AccountID: svc.AccountID, Inferred: svc.Inferred}
			for _, e := range svc.EntityPath {
				fe := filter.RootCauseEntity{Name: e.Name, Coverage: e.Coverage, Remote: e.Remote}
				for _, x := range e.Exceptions {
					fe.Exceptions = append(fe.Exceptions, filter.RootCauseException{Name: x.Name, Message: x.Message})
				}
				fs.EntityPath = append(fs.EntityPath, fe)
			}
			frc.Services = append(frc.Services, fs)
		}
		out = append(out, frc)
	}
	return out
}

// Services implements filter.Trace from the trace's own service graph.
func (t *summaryTrace) Services() []filter.Service {
	t.build()
	return t.services
}

// Edges implements filter.Trace from the trace's own service graph.
func (t *summaryTrace) Edges() []filter.Edge {
	t.build()
	return t.edges
}

func (t *summaryTrace) build() {
	if t.built {
		return
	}
	t.built = true
	id, err := segment.ParseTraceID(t.s.ID)
	if err != nil {
		t.err = err
		return
	}
	docs, err := t.r.TraceDocuments(t.ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			t.err = err
		}
		return
	}
	var g graph.Graph
	g.AddTrace(segment.Assemble(id, docs))
	services := g.Services()
	byRef := make(map[int]graph.Service, len(services))
	for _, s := range services {
		byRef[s.ReferenceID] = s
	}
	for _, s := range services {
		if s.Type == graph.TypeClient {
			continue
		}
		t.services = append(t.services, filter.Service{ID: nodeID(s), Fields: statsScope(s.SummaryStatistics, s.ResponseTimeHistogram, s.Root)})
		for _, e := range s.Edges {
			st := e.SummaryStatistics
			t.edges = append(t.edges, filter.Edge{Src: nodeID(s), Dst: nodeID(byRef[e.ReferenceID]), Fields: statsScope(&st, e.ResponseTimeHistogram, false)})
		}
	}
}

func nodeID(s graph.Service) filter.NodeID {
	return filter.NodeID{Name: s.Name, Names: s.Names, Type: s.Type, AccountID: s.AccountID}
}

// statsScope exposes a node's or edge's statistics as the fields its {}
// block may test.
func statsScope(st *graph.Statistics, hist []graph.HistogramEntry, root bool) filter.Scope {
	m := filter.MapScope{}
	if st != nil && st.TotalCount > 0 {
		m["ok"] = boolField(st.OkCount > 0)
		m["error"] = boolField(st.ErrorStatistics.OtherCount > 0)
		m["throttle"] = boolField(st.ErrorStatistics.ThrottleCount > 0)
		m["fault"] = boolField(st.FaultStatistics.TotalCount > 0)
	}
	for _, h := range hist {
		m["responsetime"] = append(m["responsetime"], filter.NumberValue(h.Value))
	}
	m["root"] = boolField(root)
	return m
}
