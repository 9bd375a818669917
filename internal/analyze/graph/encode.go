package graph

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/thawtrace/thaw/internal/bytesreader"
)

// encodingVersion leads every encoded Graph.
const encodingVersion = 1

// MarshalBinary encodes g exactly, so that a store can keep a graph per
// time bucket and merge the decoded buckets of a query window. The
// encoding is deterministic: equal graphs encode to equal bytes.
func (g *Graph) MarshalBinary() ([]byte, error) {
	b := []byte{encodingVersion}
	nodeKeys := slices.SortedFunc(maps.Keys(g.nodes), compareKeys)
	b = binary.AppendUvarint(b, uint64(len(nodeKeys)))
	for _, k := range nodeKeys {
		n := g.nodes[k]
		b = appendKey(b, k)
		var flags byte
		if n.active {
			flags |= 1
		}
		if n.root {
			flags |= 2
		}
		b = append(b, flags)
		b = appendStats(b, &n.stats)
		b = appendStats(b, &n.rootStats)
		b = appendHistogram(b, &n.duration)
		b = appendHistogram(b, &n.rootDuration)
	}
	edgeKeys := slices.SortedFunc(maps.Keys(g.edges), func(a, b edgeKey) int {
		return cmp.Or(compareKeys(a.from, b.from), compareKeys(a.to, b.to))
	})
	b = binary.AppendUvarint(b, uint64(len(edgeKeys)))
	for _, k := range edgeKeys {
		e := g.edges[k]
		b = appendKey(appendKey(b, k.from), k.to)
		b = appendStats(b, &e.stats)
		as := slices.SortedFunc(maps.Keys(e.aliases), func(x, y alias) int {
			return cmp.Or(cmp.Compare(x.name, y.name), cmp.Compare(x.typ, y.typ))
		})
		b = binary.AppendUvarint(b, uint64(len(as)))
		for _, a := range as {
			b = appendString(appendString(b, a.name), a.typ)
		}
	}
	return b, nil
}

// UnmarshalBinary replaces g with the graph MarshalBinary encoded in data.
func (g *Graph) UnmarshalBinary(data []byte) error {
	if len(data) == 0 || data[0] != encodingVersion {
		return errors.New("graph encoding: unknown version")
	}
	d := decoder{bytesreader.New(data[1:])}
	*g = Graph{}
	for range d.Count() {
		k := d.key()
		n := g.node(k)
		flags := d.Byte()
		n.active, n.root = flags&1 != 0, flags&2 != 0
		d.stats(&n.stats)
		d.stats(&n.rootStats)
		d.histogram(&n.duration)
		d.histogram(&n.rootDuration)
	}
	for range d.Count() {
		from, to := d.key(), d.key()
		e := g.edge(from, to)
		d.stats(&e.stats)
		for range d.Count() {
			e.addAlias(alias{name: d.String(), typ: d.String()})
		}
	}
	if err := d.Finish(); err != nil {
		*g = Graph{}
		return fmt.Errorf("graph encoding: %w", err)
	}
	return nil
}

func compareKeys(a, b NodeKey) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Type, b.Type), cmp.Compare(a.AccountID, b.AccountID))
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendKey(b []byte, k NodeKey) []byte {
	return appendString(appendString(appendString(b, k.Name), k.Type), k.AccountID)
}

func appendStats(b []byte, s *stats) []byte {
	for _, v := range []int64{s.ok, s.errOther, s.throttle, s.fault, s.total, s.responseMicros} {
		b = binary.AppendVarint(b, v)
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.start))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.end))
	return appendHistogram(b, &s.hist)
}

func appendHistogram(b []byte, h *histogram) []byte {
	if h.coarse {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	keys := slices.Sorted(maps.Keys(h.counts))
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, ms := range keys {
		b = binary.AppendVarint(binary.AppendVarint(b, ms), h.counts[ms])
	}
	return b
}

// decoder reads an encoded graph.
type decoder struct{ *bytesreader.Reader }

func (d decoder) key() NodeKey {
	return NodeKey{Name: d.String(), Type: d.String(), AccountID: d.String()}
}

func (d decoder) stats(s *stats) {
	for _, p := range []*int64{&s.ok, &s.errOther, &s.throttle, &s.fault, &s.total, &s.responseMicros} {
		*p = d.Varint()
	}
	s.start, s.end = d.Float64(), d.Float64()
	d.histogram(&s.hist)
}

func (d decoder) histogram(h *histogram) {
	h.coarse = d.Byte() == 1
	n := d.Count()
	if n == 0 {
		return
	}
	h.counts = make(map[int64]int64, n)
	for range n {
		ms := d.Varint()
		h.counts[ms] += d.Varint()
	}
}
