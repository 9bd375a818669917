package segment

import (
	"cmp"
	"fmt"
	"slices"
)

// Trace is the assembled form of one trace's documents (spec/xray.md §2.14):
// every segment document with its embedded subsegments and the independent
// subsegments attached under their parents, plus the orphans whose parent
// never arrived.
//
// Its documents are copies of the ones given to Assemble. An entity with
// something attached at or below it is a copy too; every other entity is
// shared with the input documents. Neither the trace's entities nor the
// input's may be modified while both are in use.
type Trace struct {
	ID TraceID
	// Segments are the segment documents, ordered by start time. Their
	// entities have attached subsegments appended to Subsegments.
	Segments []*Document
	// Orphans are independent subsegments whose parent is not in the trace
	// (or that are their own ancestor through a parent_id cycle), ordered by
	// start time, with their own attached children.
	Orphans []*Document

	// entities maps an entity id to the first entity with that id in the
	// kept documents, as an index into nodes. Parent references resolve
	// through it (see entity), so each attached subsegment has exactly one
	// parent entity. It is nil for a trace of at most smallIndex entities,
	// whose nodes are scanned instead.
	entities map[string]int32
	// nodes holds every entity of the kept documents, depth first, parents
	// before children, document after document.
	nodes []entityNode
	// attached lists every attached document, ordered by start time.
	attached []*Document
}

// entityNode is one entity of a trace, with where it sits.
type entityNode struct {
	ent *Entity
	doc *Document
	// docIdx is doc's position among the kept documents; up is the node of
	// the enclosing entity (-1 for the document's own); end is the node
	// after the entity's subtree, so its first child is the next node and
	// each child's end is the next child.
	docIdx, up, end int32
	// attach counts the subsegment documents attached to the entity; dirty
	// says it or an entity below it has some, so it needs a copy.
	attach int32
	dirty  bool
}

// docState is what Assemble works out about each kept document.
type docState struct {
	root int32 // the node of the document's own entity
	// parent is the node an independent subsegment attaches to, -1 when
	// the document is a segment or its parent is not in the trace.
	parent int32
	// mark is the cycle check's: 0 before it reaches the document, k+1
	// once reached from document k, -1 when the document is on a cycle.
	mark int32
}

// smallIndex is the number of ids up to which Assemble finds an id by
// scanning: a map costs more to build than the scans it saves.
const smallIndex = 32

// Assemble builds a trace from its documents. Several versions of a document
// may be given: a complete version wins over an in-progress one, and between
// two of the same kind the later one in docs wins. An independent subsegment
// that is also embedded in another document is dropped: the embedded copy is
// already in the output. docs are not modified: the trace holds copies of
// the documents, and copies of the entities it links attached subsegments
// into (appending them to Subsegments); Raw and the other entities are
// shared.
func Assemble(id TraceID, docs []Document) *Trace {
	kept, byID := latestVersions(docs)
	t := &Trace{ID: id}
	t.index(kept)
	if drop := dropEmbedded(kept, byID, t.nodes); drop != nil {
		n := 0
		for i := range kept {
			if !drop[i] {
				kept[n] = kept[i]
				n++
			}
		}
		kept = kept[:n]
		t.index(kept)
	}
	if len(t.nodes) > smallIndex {
		// One map operation per entity: walking backwards, the first
		// entity with an id is the last one stored.
		t.entities = make(map[string]int32, len(t.nodes))
		for i := len(t.nodes) - 1; i >= 0; i-- {
			t.entities[t.nodes[i].ent.ID] = int32(i)
		}
	}

	st := make([]docState, len(kept))
	for i := range t.nodes {
		if t.nodes[i].up < 0 {
			st[t.nodes[i].docIdx] = docState{root: int32(i), parent: -1}
		}
	}
	for i := range kept {
		if d := &kept[i]; d.Subsegment {
			if p, ok := t.entity(d.ParentID); ok {
				st[i].parent = p
			}
		}
	}
	t.markCycles(st)

	var nSeg, nOrphan int
	for i := range kept {
		switch {
		case !kept[i].Subsegment:
			nSeg++
		case st[i].parent < 0 || st[i].mark < 0:
			nOrphan++
		}
	}
	// The three lists share one array.
	lists := make([]*Document, 0, len(kept))
	t.Segments = lists[0:0:nSeg]
	t.Orphans = lists[nSeg : nSeg : nSeg+nOrphan]
	t.attached = lists[nSeg+nOrphan : nSeg+nOrphan : len(kept)]
	for i := range kept {
		switch d := &kept[i]; {
		case !d.Subsegment:
			t.Segments = append(t.Segments, d)
		case st[i].parent < 0 || st[i].mark < 0:
			t.Orphans = append(t.Orphans, d)
		default:
			t.attached = append(t.attached, d)
		}
	}
	t.Segments = sortByStart(t.Segments)
	t.Orphans = sortByStart(t.Orphans)
	t.attached = sortByStart(t.attached)

	// Attached subsegments follow a parent's embedded ones in start order,
	// whatever order the datagrams arrived in. The entities they are
	// linked into, and those above them, are copied first.
	t.copyLinked(kept, st)
	for _, d := range t.attached {
		p, _ := t.entity(d.ParentID)
		pe := t.nodes[p].ent
		pe.Subsegments = append(pe.Subsegments, d.Entity)
	}
	return t
}

// entity returns the node of the first entity with the given id.
func (t *Trace) entity(id string) (int32, bool) {
	if t.entities != nil {
		i, ok := t.entities[id]
		return i, ok
	}
	for i := range t.nodes {
		if t.nodes[i].ent.ID == id {
			return int32(i), true
		}
	}
	return -1, false
}

// latestVersions returns a copy of the version of each document that
// Assemble keeps, in the order of each document's first version. For more
// than smallIndex documents it also returns their positions by id.
func latestVersions(docs []Document) ([]Document, map[string]int32) {
	var byID map[string]int32
	if len(docs) > smallIndex {
		byID = make(map[string]int32, len(docs))
	}
	kept := make([]Document, 0, len(docs))
	for i := range docs {
		d := &docs[i]
		j, ok := findDoc(kept, byID, d.ID)
		switch {
		case !ok:
			if byID != nil {
				byID[d.ID] = int32(len(kept))
			}
			kept = append(kept, *d)
		case kept[j].Entity.Complete() && !d.Entity.Complete():
			// an in-progress resend never replaces a completed document
		default:
			kept[j] = *d
		}
	}
	return kept, byID
}

// findDoc returns the position of the document with the given id in docs,
// through byID when it is not nil.
func findDoc(docs []Document, byID map[string]int32, id string) (int32, bool) {
	if byID != nil {
		j, ok := byID[id]
		return j, ok
	}
	for j := range docs {
		if docs[j].ID == id {
			return int32(j), true
		}
	}
	return -1, false
}

// index lists the entities of docs in t.nodes.
func (t *Trace) index(docs []Document) {
	n := 0
	for i := range docs {
		n += countEntities(docs[i].Entity)
	}
	t.nodes = slices.Grow(t.nodes[:0], n)
	for i := range docs {
		t.indexEntity(docs[i].Entity, &docs[i], int32(i), -1)
	}
}

func countEntities(e *Entity) int {
	n := 1
	for _, s := range e.Subsegments {
		n += countEntities(s)
	}
	return n
}

func (t *Trace) indexEntity(e *Entity, d *Document, docIdx, up int32) {
	n := int32(len(t.nodes))
	t.nodes = append(t.nodes, entityNode{ent: e, doc: d, docIdx: docIdx, up: up})
	for _, s := range e.Subsegments {
		t.indexEntity(s, d, docIdx, n)
	}
	t.nodes[n].end = int32(len(t.nodes))
}

// dropEmbedded returns which independent subsegments in docs to drop
// because their id is embedded in another kept document, or nil when there
// is none. When documents embed each other, the earlier one in docs is
// kept. byID is latestVersions', nodes the entities of docs.
func dropEmbedded(docs []Document, byID map[string]int32, nodes []entityNode) []bool {
	var embedders map[int32][]int32 // document -> documents embedding its id
	for _, n := range nodes {
		if n.up < 0 {
			continue
		}
		if j, ok := findDoc(docs, byID, n.ent.ID); ok && j != n.docIdx && docs[j].Subsegment {
			if embedders == nil {
				embedders = map[int32][]int32{}
			}
			embedders[j] = append(embedders[j], n.docIdx)
		}
	}
	if embedders == nil {
		return nil
	}
	const (
		unknown = iota
		visiting
		keep
		drop
	)
	state := make([]uint8, len(docs))
	var decide func(d int32) uint8
	decide = func(d int32) uint8 {
		switch state[d] {
		case visiting:
			return keep // an embedding cycle: the first document asked keeps
		case keep, drop:
			return state[d]
		}
		state[d] = visiting
		verdict := uint8(keep)
		for _, e := range embedders[d] {
			if decide(e) == keep {
				verdict = drop
				break
			}
		}
		state[d] = verdict
		return verdict
	}
	dropped := make([]bool, len(docs))
	for i := range docs {
		dropped[i] = decide(int32(i)) == drop
	}
	return dropped
}

// markCycles sets mark to -1 for every subsegment document from which
// following parents up leads back to itself. Every document on a cycle is made
// an orphan, which breaks the cycle; documents hanging off a cycle attach
// normally. Each document is visited once: a walk stops at a document an
// earlier walk reached.
func (t *Trace) markCycles(st []docState) {
	up := func(k int32) int32 { // the document k attaches to, or -1
		if p := st[k].parent; p >= 0 {
			return t.nodes[p].docIdx
		}
		return -1
	}
	for i := range st {
		stamp := int32(i) + 1
		k := int32(i)
		for k >= 0 && st[k].mark == 0 {
			st[k].mark = stamp
			k = up(k)
		}
		if k >= 0 && st[k].mark == stamp { // back on this walk's path: a cycle
			for c := k; st[c].mark != -1; c = up(c) {
				st[c].mark = -1
			}
		}
	}
}

// copyLinked gives copies to the entities attached subsegments are linked
// into and to those above them, with room in Subsegments for the
// attachments, and points each kept document at its entity's copy. Other
// entities stay shared with the input.
func (t *Trace) copyLinked(kept []Document, st []docState) {
	var nCopies, nSubs int
	for _, d := range t.attached {
		p, _ := t.entity(d.ParentID)
		t.nodes[p].attach++
		nSubs++
		for k := p; k >= 0 && !t.nodes[k].dirty; k = t.nodes[k].up {
			t.nodes[k].dirty = true
			nCopies++
			nSubs += len(t.nodes[k].ent.Subsegments)
		}
	}
	if nCopies == 0 {
		return
	}
	c := copier{nodes: t.nodes, ents: make([]Entity, nCopies), subs: make([]*Entity, nSubs)}
	for i := range kept {
		if r := st[i].root; t.nodes[r].dirty {
			c.copy(r)
			kept[i].Entity = t.nodes[r].ent
		}
	}
}

// copier copies dirty entities into preallocated arrays.
type copier struct {
	nodes []entityNode
	ents  []Entity
	subs  []*Entity
}

// copy replaces node i's entity, which is dirty, by a copy whose dirty
// children are copies too.
func (c *copier) copy(i int32) {
	n := &c.nodes[i]
	e := &c.ents[0]
	c.ents = c.ents[1:]
	*e = *n.ent
	l := len(e.Subsegments)
	subs := c.subs[: l : l+int(n.attach)]
	c.subs = c.subs[l+int(n.attach):]
	for k, child := 0, i+1; k < l; k, child = k+1, c.nodes[child].end {
		if c.nodes[child].dirty {
			c.copy(child)
		}
		subs[k] = c.nodes[child].ent
	}
	e.Subsegments = subs
	n.ent = e
}

// sortByStart sorts ds by start time, keeping the order of equal ones. It
// returns nil for an empty list.
func sortByStart(ds []*Document) []*Document {
	if len(ds) == 0 {
		return nil
	}
	slices.SortStableFunc(ds, func(a, b *Document) int { return cmp.Compare(a.StartTime, b.StartTime) })
	return ds
}

// Root returns the root segment: the one without parent_id, or whose parent
// is not in the trace, earliest first (§2.14 rule 5). When every segment's
// parent is in the trace (a parent_id cycle) it is the earliest segment. It
// is nil when the trace has no segment.
func (t *Trace) Root() *Document {
	for _, d := range t.Segments { // sorted by start time
		if _, ok := t.entity(d.ParentID); d.ParentID == "" || !ok {
			return d
		}
	}
	if len(t.Segments) > 0 {
		return t.Segments[0]
	}
	return nil
}

// OutputDocument is one document of the read API's answer: a segment or an
// orphan with everything attached to it nested.
type OutputDocument struct {
	ID   string
	JSON []byte
}

// Documents returns one document per segment and per orphan, each with its
// attached subsegments nested under their parents and every field the
// client sent kept. A document with nothing attached is returned as sent.
func (t *Trace) Documents() ([]OutputDocument, error) {
	r := newRenderer(t)
	return r.documents(r.render)
}

// documents renders t's segments and orphans, then what could not be
// nested, with render.
func (r *renderer) documents(render func(*Document) ([]byte, error)) ([]OutputDocument, error) {
	t := r.t
	out := make([]OutputDocument, 0, len(t.Segments)+len(t.Orphans))
	for _, list := range [][]*Document{t.Segments, t.Orphans} {
		for _, d := range list {
			b, err := render(d)
			if err != nil {
				return nil, fmt.Errorf("render document %s: %w", d.ID, err)
			}
			out = append(out, OutputDocument{ID: d.ID, JSON: b})
		}
	}
	// An attached document whose parent could not be found in the parent
	// document's JSON (its id key spelled "ID", say: encoding/json matches
	// keys case-insensitively) is returned on its own rather than lost,
	// with what is attached to it. Parents go first, so that each document
	// is returned once.
	for progress := true; progress; {
		progress = false
		for _, d := range t.attached {
			i, _ := t.entity(d.ParentID)
			if r.rendered[d] || !r.rendered[t.nodes[i].doc] {
				continue
			}
			b, err := render(d)
			if err != nil {
				return nil, fmt.Errorf("render document %s: %w", d.ID, err)
			}
			out = append(out, OutputDocument{ID: d.ID, JSON: b})
			progress = true
		}
	}
	return out, nil
}

// renderer renders a trace's documents with what is attached to them.
type renderer struct {
	t *Trace
	// rendered holds the documents rendered so far.
	rendered map[*Document]bool
	// children maps a parent entity to the independent subsegments attached
	// to it, ordered by start time.
	children map[*Entity][]*Document
	// parents holds the documents something is attached to.
	parents map[*Document]bool
}

// newRenderer indexes what is attached to each of t's entities.
func newRenderer(t *Trace) *renderer {
	r := &renderer{
		t:        t,
		rendered: make(map[*Document]bool, len(t.attached)),
		children: make(map[*Entity][]*Document, len(t.attached)),
		parents:  make(map[*Document]bool, len(t.attached)),
	}
	for _, d := range t.attached { // ordered by start time
		i, _ := t.entity(d.ParentID)
		p := t.nodes[i]
		r.children[p.ent] = append(r.children[p.ent], d)
		r.parents[p.doc] = true
	}
	return r
}
