package graph

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
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
	d := decoder{b: data[1:]}
	*g = Graph{}
	for range d.count() {
		k := d.key()
		n := g.node(k)
		flags := d.byte()
		n.active, n.root = flags&1 != 0, flags&2 != 0
		d.stats(&n.stats)
		d.stats(&n.rootStats)
		d.histogram(&n.duration)
		d.histogram(&n.rootDuration)
	}
	for range d.count() {
		from, to := d.key(), d.key()
		e := g.edge(from, to)
		d.stats(&e.stats)
		for range d.count() {
			e.addAlias(alias{name: d.string(), typ: d.string()})
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes after the graph", len(d.b))
	}
	if d.err != nil {
		*g = Graph{}
		return fmt.Errorf("graph encoding: %w", d.err)
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
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(s.start))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(s.end))
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

// decoder reads an encoded graph, keeping the first error; after one,
// every read returns zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("truncated or corrupt %s", what)
	}
	d.b = nil
}

func (d *decoder) uvarint(what string) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(what string) int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length, refusing one larger than the bytes left could
// hold, so a corrupt length cannot make the decoder allocate or loop for
// long.
func (d *decoder) count() int {
	v := d.uvarint("count")
	if v > uint64(len(d.b)) {
		d.fail("count")
		return 0
	}
	return int(v)
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("flags")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) string() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) key() NodeKey {
	return NodeKey{Name: d.string(), Type: d.string(), AccountID: d.string()}
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail("time")
		return 0
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *decoder) stats(s *stats) {
	for _, p := range []*int64{&s.ok, &s.errOther, &s.throttle, &s.fault, &s.total, &s.responseMicros} {
		*p = d.varint("statistics")
	}
	s.start, s.end = d.float(), d.float()
	d.histogram(&s.hist)
}

func (d *decoder) histogram(h *histogram) {
	h.coarse = d.byte() == 1
	n := d.count()
	if n == 0 {
		return
	}
	h.counts = make(map[int64]int64, n)
	for range n {
		ms := d.varint("histogram")
		h.counts[ms] += d.varint("histogram")
	}
}
