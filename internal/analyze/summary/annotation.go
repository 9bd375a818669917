package summary

import (
	"cmp"
	"encoding/json"
	"slices"
)

// MaxAnnotationKeys is how many annotation keys a trace summary indexes;
// X-Ray indexes up to 50 per trace and stores the rest unsearchable
// (spec/xray.md §2.8). The first keys met win.
const MaxAnnotationKeys = 50

// annotationSet collects a trace's annotations: per key, its distinct values
// in the order first met, each with the nodes that recorded it.
type annotationSet struct {
	limit  int
	keys   indexedSet[string]
	values indexedSet[keyedValue] // every kept key's values
	nodes  indexedSet[valueNode]  // which node recorded which value
}

// keyedValue is a value of the key keys.keys[key].
type keyedValue struct {
	key   int
	value valueKey
}

// valueNode says that the node with index node (see computer.nodes)
// recorded values.keys[value].
type valueNode struct{ value, node int }

// valueKey is an annotation value in comparable form: 1 and "1" and true
// differ.
type valueKey struct {
	kind byte // 's', 'n' or 'b'
	s    string
	n    float64
	b    bool
}

// add records value under key, attributed to the node with index node when
// it is not negative. A key beyond the limit is dropped; values of kept keys
// are always recorded.
func (s *annotationSet) add(key string, value valueKey, node int) {
	k, ok := s.keys.find(key)
	if !ok {
		if len(s.keys.keys) >= s.limit {
			return
		}
		k = s.keys.insert(key)
	}
	v := s.values.add(keyedValue{key: k, value: value})
	if node >= 0 {
		s.nodes.add(valueNode{value: v, node: node})
	}
}

// result returns the annotations for a summary. sorted are the trace's
// nodes in output order and rank[i] is the position there of the node with
// index i (see computer.rankNodes). The ServiceIDs come from ids.
func (s *annotationSet) result(sorted []nodeKey, rank []int, ids *idArena) map[string][]ValueWithServiceIDs {
	keys, values := s.keys.keys, s.values.keys
	if len(keys) == 0 {
		return nil
	}
	// Each value's nodes in output order: by value, then rank.
	refs := make([]valueNode, len(s.nodes.keys))
	for i, r := range s.nodes.keys {
		refs[i] = valueNode{value: r.value, node: rank[r.node]}
	}
	slices.SortFunc(refs, func(a, b valueNode) int {
		return cmp.Or(cmp.Compare(a.value, b.value), cmp.Compare(a.node, b.node))
	})

	// Lay each key's values out in one slice, key after key, each key's in
	// the order first met; next[k] is where key k's next value goes.
	next := make([]int, len(keys))
	for _, v := range values {
		next[v.key]++
	}
	offset := 0
	for k, n := range next {
		next[k] = offset
		offset += n
	}
	all := make([]ValueWithServiceIDs, len(values))
	boxes := make([]valueBox, len(values))
	r := 0
	for i, v := range values {
		for ; r < len(refs) && refs[r].value == i; r++ {
			ids.push(sorted[refs[r].node])
		}
		all[next[v.key]] = ValueWithServiceIDs{AnnotationValue: boxes[i].value(v.value), ServiceIDs: ids.done()}
		next[v.key]++
	}

	out := make(map[string][]ValueWithServiceIDs, len(keys))
	start := 0
	for k, key := range keys {
		end := next[k]
		out[key] = all[start:end:end]
		start = end
	}
	return out
}

// annotationValue converts a decoded annotation value. Only strings, numbers
// and booleans are annotations (spec/xray.md §2.8); objects, arrays and null
// are not indexed.
func annotationValue(v any) (AnnotationValue, bool) {
	k, ok := valueKeyOf(v)
	if !ok {
		return AnnotationValue{}, false
	}
	return new(valueBox).value(k), true
}

// valueKeyOf is annotationValue in comparable form, which does not allocate.
func valueKeyOf(v any) (valueKey, bool) {
	switch x := v.(type) {
	case string:
		return valueKey{kind: 's', s: x}, true
	case bool:
		return valueKey{kind: 'b', b: x}, true
	case float64:
		return valueKey{kind: 'n', n: x}, true
	case json.Number: // if a decoder ever keeps numbers verbatim
		f, err := x.Float64()
		if err != nil {
			return valueKey{}, false
		}
		return valueKey{kind: 'n', n: f}, true
	}
	return valueKey{}, false
}

// valueBox holds what one AnnotationValue points to, so that a summary's
// values can share one allocation.
type valueBox struct {
	s string
	n float64
	b bool
}

// value returns k as an AnnotationValue pointing into b.
func (b *valueBox) value(k valueKey) AnnotationValue {
	switch k.kind {
	case 's':
		b.s = k.s
		return AnnotationValue{StringValue: &b.s}
	case 'n':
		b.n = k.n
		return AnnotationValue{NumberValue: &b.n}
	case 'b':
		b.b = k.b
		return AnnotationValue{BooleanValue: &b.b}
	}
	return AnnotationValue{}
}
