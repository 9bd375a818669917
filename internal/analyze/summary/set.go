package summary

import "slices"

// The sets here hold what one summary collects. A trace has a handful of
// nodes, users and annotation values, so slices searched linearly are much
// cheaper than maps, which Compute would otherwise allocate by the dozen for
// every trace written.

// linearMax is how many keys an indexedSet searches linearly before it
// builds a map: nothing bounds what a large trace holds.
const linearMax = 16

// indexedSet holds distinct keys in the order they were first inserted; a
// key's index is its position in keys.
type indexedSet[K comparable] struct {
	keys  []K
	index map[K]int // nil while len(keys) <= linearMax
}

// find returns the index of k, if it is in the set.
func (s *indexedSet[K]) find(k K) (int, bool) {
	if s.index != nil {
		i, ok := s.index[k]
		return i, ok
	}
	for i := range s.keys {
		if s.keys[i] == k {
			return i, true
		}
	}
	return 0, false
}

// insert adds k, which must not be in the set, and returns its index.
func (s *indexedSet[K]) insert(k K) int {
	if s.keys == nil {
		s.keys = make([]K, 0, 8) // rather than growing by 1, 2, 4, 8
	}
	i := len(s.keys)
	s.keys = append(s.keys, k)
	switch {
	case s.index != nil:
		s.index[k] = i
	case len(s.keys) > linearMax:
		s.index = make(map[K]int, 2*len(s.keys))
		for j, k := range s.keys {
			s.index[k] = j
		}
	}
	return i
}

// add adds k if it is not in the set yet, and returns its index.
func (s *indexedSet[K]) add(k K) int {
	if i, ok := s.find(k); ok {
		return i
	}
	return s.insert(k)
}

// stringSet is a sorted set of non-empty strings; nil when empty.
type stringSet []string

// add adds v unless it is empty.
func (s *stringSet) add(v string) {
	if v == "" {
		return
	}
	if i, found := slices.BinarySearch(*s, v); !found {
		*s = slices.Insert(*s, i, v)
	}
}

// idArena hands out the ServiceIDs of one summary, and their Names, from
// one backing array each instead of two allocations per node. The lists it
// returns do not overlap and have their capacity capped, so that callers may
// not alias one another.
type idArena struct {
	ids   []ServiceID
	names []string
	start int // where the list being built begins in ids
}

// newIDArena returns an arena sized for n ServiceIDs; it grows past that if
// need be.
func newIDArena(n int) idArena {
	return idArena{ids: make([]ServiceID, 0, n), names: make([]string, 0, n)}
}

// push appends k's ServiceID to the list being built.
func (a *idArena) push(k nodeKey) {
	a.names = append(a.names, k.name)
	n := len(a.names)
	a.ids = append(a.ids, ServiceID{Name: k.name, Names: a.names[n-1 : n : n], AccountID: k.account, Type: k.typ})
}

// done returns the list pushed since the previous done, nil if empty.
func (a *idArena) done() []ServiceID {
	if a.start == len(a.ids) {
		return nil
	}
	list := a.ids[a.start:len(a.ids):len(a.ids)]
	a.start = len(a.ids)
	return list
}
