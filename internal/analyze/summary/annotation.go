package summary

import (
	"encoding/json"
	"maps"
	"slices"
)

// MaxAnnotationKeys is how many annotation keys a trace summary indexes;
// X-Ray indexes up to 50 per trace and stores the rest unsearchable
// (spec/xray.md §2.8). The first keys met win.
const MaxAnnotationKeys = 50

// annotationSet collects a trace's annotations: per key, its distinct values
// in the order first met, each with the nodes that recorded it.
type annotationSet struct {
	limit int
	keys  map[string]*annotationKey
}

type annotationKey struct {
	values []annotationEntry
	index  map[valueKey]int
}

type annotationEntry struct {
	value AnnotationValue
	nodes nodeSet
}

// valueKey makes an AnnotationValue comparable: 1 and "1" and true differ.
type valueKey struct {
	kind byte
	s    string
	n    float64
	b    bool
}

func newAnnotationSet(limit int) *annotationSet {
	return &annotationSet{limit: limit, keys: map[string]*annotationKey{}}
}

// add records value under key, attributed to node when it is not nil. A key
// beyond the limit is dropped; values of kept keys are always recorded.
func (s *annotationSet) add(key string, value AnnotationValue, node *ServiceID) {
	k, ok := s.keys[key]
	if !ok {
		if len(s.keys) >= s.limit {
			return
		}
		k = &annotationKey{index: map[valueKey]int{}}
		s.keys[key] = k
	}
	vk := keyOfValue(value)
	i, ok := k.index[vk]
	if !ok {
		i = len(k.values)
		k.index[vk] = i
		k.values = append(k.values, annotationEntry{value: value, nodes: nodeSet{}})
	}
	if node != nil {
		k.values[i].nodes.add(*node)
	}
}

func (s *annotationSet) result() map[string][]ValueWithServiceIDs {
	if len(s.keys) == 0 {
		return nil
	}
	out := make(map[string][]ValueWithServiceIDs, len(s.keys))
	for _, key := range slices.Sorted(maps.Keys(s.keys)) {
		k := s.keys[key]
		vs := make([]ValueWithServiceIDs, 0, len(k.values))
		for _, e := range k.values {
			vs = append(vs, ValueWithServiceIDs{AnnotationValue: e.value, ServiceIDs: e.nodes.sorted()})
		}
		out[key] = vs
	}
	return out
}

// annotationValue converts a decoded annotation value. Only strings, numbers
// and booleans are annotations (spec/xray.md §2.8); objects, arrays and null
// are not indexed.
func annotationValue(v any) (AnnotationValue, bool) {
	switch x := v.(type) {
	case string:
		return AnnotationValue{StringValue: &x}, true
	case bool:
		return AnnotationValue{BooleanValue: &x}, true
	case float64:
		return AnnotationValue{NumberValue: &x}, true
	case json.Number: // if a decoder ever keeps numbers verbatim
		f, err := x.Float64()
		if err != nil {
			return AnnotationValue{}, false
		}
		return AnnotationValue{NumberValue: &f}, true
	}
	return AnnotationValue{}, false
}

func keyOfValue(v AnnotationValue) valueKey {
	switch {
	case v.StringValue != nil:
		return valueKey{kind: 's', s: *v.StringValue}
	case v.NumberValue != nil:
		return valueKey{kind: 'n', n: *v.NumberValue}
	case v.BooleanValue != nil:
		return valueKey{kind: 'b', b: *v.BooleanValue}
	}
	return valueKey{}
}
