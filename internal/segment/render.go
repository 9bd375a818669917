package segment

import (
	"errors"
	"slices"
	"unicode/utf8"
)

// render returns d's JSON with the documents attached anywhere inside it
// nested under their parents, each rendered the same way. The bytes the
// client sent are kept as they are (key order, spacing, number spellings,
// escapes); attached documents are spliced into their parent's
// "subsegments" array, which is added before the parent's closing brace
// when it has none. Each document is rendered once.
func (r *renderer) render(d *Document) ([]byte, error) {
	r.rendered[d] = true
	if !r.parents[d] {
		return d.Raw, nil
	}
	objs, err := scanEntities(d.Raw)
	if err != nil {
		return nil, err
	}
	// The parent of a document is the first object with its id in d, in
	// the depth-first order Assemble indexed the entities in.
	type splice struct {
		at, end int    // bytes [at, end) of d.Raw are replaced
		kids    []byte // by these
	}
	var splices []splice
	used := map[*Entity]bool{}
	for _, o := range objs {
		id, ok := ParseID(o.id)
		if !ok {
			continue
		}
		i, ok := r.t.entity(id)
		if !ok {
			continue
		}
		p := r.t.nodes[i]
		if p.doc != d || used[p.ent] {
			continue
		}
		used[p.ent] = true
		var kids []byte
		for _, k := range r.children[p.ent] {
			if r.rendered[k] {
				continue
			}
			b, err := r.render(k)
			if err != nil {
				return nil, err
			}
			if len(kids) > 0 {
				kids = append(kids, ',')
			}
			kids = append(kids, b...)
		}
		if len(kids) == 0 {
			continue
		}
		switch {
		case o.subsEnd >= 0 && o.subsCount > 0: // append to the array
			splices = append(splices, splice{at: o.subsEnd, end: o.subsEnd, kids: append([]byte{','}, kids...)})
		case o.subsEnd >= 0: // an empty array
			splices = append(splices, splice{at: o.subsEnd, end: o.subsEnd, kids: kids})
		case o.subsStart >= 0: // "subsegments" holds something else: replace it
			splices = append(splices, splice{at: o.subsStart, end: o.subsStop, kids: append(append([]byte{'['}, kids...), ']')})
		default: // no "subsegments": add one
			b := append([]byte(`,"subsegments":[`), kids...)
			splices = append(splices, splice{at: o.close, end: o.close, kids: append(b, ']')})
		}
	}
	if len(splices) == 0 {
		return d.Raw, nil
	}
	slices.SortFunc(splices, func(a, b splice) int { return a.at - b.at })
	n := len(d.Raw)
	for _, s := range splices {
		n += len(s.kids) - (s.end - s.at)
	}
	out := make([]byte, 0, n)
	last := 0
	for _, s := range splices {
		out = append(out, d.Raw[last:s.at]...)
		out = append(out, s.kids...)
		last = s.end
	}
	return append(out, d.Raw[last:]...), nil
}

// entityObject is where an object that may be an entity sits in a
// document: the document itself, and every object element of a
// "subsegments" array inside one, recursively.
type entityObject struct {
	id          string // its "id" member, if a string (the last one, as encoding/json reads duplicates)
	open, close int    // offsets of its '{' and closing '}'
	// The last "subsegments" member: subsEnd is the offset of the array's
	// closing ']' and subsCount its element count, or subsEnd is -1 and
	// [subsStart, subsStop) the value when it is not an array (subsStart
	// -1 when there is no such member).
	subsEnd, subsCount  int
	subsStart, subsStop int
}

// scanEntities lists the entity objects of a document in depth-first
// pre-order, using the document decoder's scanner.
func scanEntities(raw []byte) ([]entityObject, error) {
	if !utf8.Valid(raw) {
		return nil, errors.New("document is not valid UTF-8")
	}
	var s scanner
	s.reset(raw)
	var objs []entityObject
	var object func()
	object = func() {
		me := len(objs)
		objs = append(objs, entityObject{open: s.pos, subsEnd: -1, subsStart: -1})
		s.enter()
		for i := 0; ; i++ {
			k, ok := s.key(i)
			if !ok {
				break
			}
			switch string(k) {
			case "id":
				if s.ws() == '"' {
					objs[me].id = string(s.str())
				} else {
					objs[me].id = ""
					s.skip()
				}
			case "subsegments":
				o := &objs[me]
				o.subsEnd, o.subsCount, o.subsStart = -1, 0, -1
				if s.ws() != '[' {
					o.subsStart = s.pos
					s.skip()
					objs[me].subsStop = s.pos
					continue
				}
				s.enter()
				n := 0
				for j := 0; s.elem(j); j++ {
					if s.ws() == '{' {
						object()
					} else {
						s.skip()
					}
					n++
				}
				objs[me].subsEnd, objs[me].subsCount = s.pos-1, n
			default:
				s.skip()
			}
		}
		objs[me].close = s.pos - 1
	}
	if s.ws() != '{' {
		return nil, errors.New("document is not a JSON object")
	}
	object()
	s.end()
	if s.err != nil {
		return nil, s.err
	}
	return objs, nil
}

// EntityJSON returns the JSON object of every entity of a document (the
// document itself and the subsegments nested in it, at any depth) by its
// canonical id, as subslices of raw. When ids repeat, the first in
// depth-first order wins.
func EntityJSON(raw []byte) (map[string][]byte, error) {
	objs, err := scanEntities(raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(objs))
	for _, o := range objs {
		if id, ok := ParseID(o.id); ok {
			if _, seen := out[id]; !seen {
				out[id] = raw[o.open : o.close+1]
			}
		}
	}
	return out, nil
}

// ObjectMembers calls fn with each member of the JSON object obj, in order:
// its key, unescaped, and its value as a subslice of obj. A key repeated
// is reported each time. It fails on anything but one valid object in
// valid UTF-8.
func ObjectMembers(obj []byte, fn func(key string, value []byte)) error {
	if !utf8.Valid(obj) {
		return errors.New("not valid UTF-8")
	}
	var s scanner
	s.reset(obj)
	if s.ws() != '{' {
		return errors.New("not a JSON object")
	}
	s.enter()
	for i := 0; ; i++ {
		k, ok := s.key(i)
		if !ok {
			break
		}
		key := string(k)
		s.ws()
		start := s.pos
		s.skip()
		if s.err != nil {
			break
		}
		fn(key, obj[start:s.pos])
	}
	s.end()
	if s.err != nil {
		return s.err
	}
	return nil
}
