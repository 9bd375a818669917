package filter

import (
	"encoding/json"
	"fmt"
)

// MapTrace is an in-memory Trace built from maps, for tests and for callers
// that materialise a trace's fields up front. It decodes from JSON:
//
//	{"fields": {"ok": true, "responsetime": 1.5, "user": ["alice", "bob"]},
//	 "annotations": {"age": 30},
//	 "services": [{"name": "api", "type": "AWS::EC2::Instance", "fields": {"fault": true}}],
//	 "edges": [{"src": {"name": "api"}, "dst": {"name": "db"}, "fields": {"responsetime": 0.2}}],
//	 "rootcauses": {"fault": [{"Services": [...]}]}}
type MapTrace struct {
	Fields      MapScope               `json:"fields,omitempty"`
	Annotations map[string]Values      `json:"annotations,omitempty"`
	Nodes       []MapService           `json:"services,omitempty"`
	Links       []MapEdge              `json:"edges,omitempty"`
	Causes      map[string][]RootCause `json:"rootcauses,omitempty"`
}

// MapScope is a Scope backed by a map from keyword to values.
type MapScope map[string]Values

// Field implements Scope.
func (m MapScope) Field(name string) []Value { return m[name] }

// MapService is a graph node of a MapTrace.
type MapService struct {
	NodeID
	Fields MapScope `json:"fields,omitempty"`
}

// MapEdge is a graph edge of a MapTrace.
type MapEdge struct {
	Src    NodeID   `json:"src"`
	Dst    NodeID   `json:"dst"`
	Fields MapScope `json:"fields,omitempty"`
}

// Field implements Trace.
func (m *MapTrace) Field(name string) []Value { return m.Fields[name] }

// Annotation implements Trace.
func (m *MapTrace) Annotation(key string) []Value { return m.Annotations[key] }

// Services implements Trace.
func (m *MapTrace) Services() []Service {
	out := make([]Service, len(m.Nodes))
	for i, n := range m.Nodes {
		out[i] = Service{ID: n.NodeID, Fields: n.Fields}
	}
	return out
}

// Edges implements Trace.
func (m *MapTrace) Edges() []Edge {
	out := make([]Edge, len(m.Links))
	for i, e := range m.Links {
		out[i] = Edge{Src: e.Src, Dst: e.Dst, Fields: e.Fields}
	}
	return out
}

// RootCauses implements Trace.
func (m *MapTrace) RootCauses(kind string) []RootCause { return m.Causes[kind] }

// Values is a list of values that decodes from a JSON scalar or array of
// strings, numbers and booleans.
type Values []Value

// UnmarshalJSON implements json.Unmarshaler.
func (vs *Values) UnmarshalJSON(b []byte) error {
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	list, ok := raw.([]any)
	if !ok {
		list = []any{raw}
	}
	out := make(Values, 0, len(list))
	for _, r := range list {
		switch r := r.(type) {
		case string:
			out = append(out, StringValue(r))
		case float64:
			out = append(out, NumberValue(r))
		case bool:
			out = append(out, BoolValue(r))
		default:
			return fmt.Errorf("filter: value %v is not a string, number or boolean", r)
		}
	}
	*vs = out
	return nil
}

// MarshalJSON implements json.Marshaler; a single value encodes as a scalar.
func (vs Values) MarshalJSON() ([]byte, error) {
	list := make([]any, len(vs))
	for i, v := range vs {
		switch v.Type {
		case StringType:
			list[i] = v.Str
		case NumberType:
			list[i] = v.Num
		case BoolType:
			list[i] = v.Bool
		default:
			return nil, fmt.Errorf("filter: value of invalid type %d", v.Type)
		}
	}
	if len(list) == 1 {
		return json.Marshal(list[0])
	}
	return json.Marshal(list)
}
