package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Trace is the assembled form of one trace's documents (spec/xray.md §2.14):
// every segment document with its embedded subsegments and the independent
// subsegments attached under their parents, plus the orphans whose parent
// never arrived.
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
	// kept documents, and the document holding it. Parent references
	// resolve through it, so each attached subsegment has exactly one
	// parent entity.
	entities map[string]entityRef
	// children maps a parent entity to the independent subsegments attached
	// to it, ordered by start time.
	children map[*Entity][]*Document
	// attached lists every attached document, ordered by start time.
	attached []*Document
	// parents holds the documents something is attached to.
	parents map[*Document]bool
}

type entityRef struct {
	ent *Entity
	doc *Document
}

// Assemble builds a trace from its documents. Several versions of a document
// may be given: a complete version wins over an in-progress one, and between
// two of the same kind the later one in docs wins. An independent subsegment
// that is also embedded in another document is dropped: the embedded copy is
// already in the output. docs are not modified: the trace holds copies of
// the documents whose entity trees are linked (attached subsegments appended
// to their parents' Subsegments); Raw is shared.
func Assemble(id TraceID, docs []Document) *Trace {
	latest := make(map[string]*Document, len(docs))
	var order []string
	for i := range docs {
		d := &docs[i]
		prev, ok := latest[d.ID]
		if !ok {
			order = append(order, d.ID)
			latest[d.ID] = d
			continue
		}
		if prev.Entity.Complete() && !d.Entity.Complete() {
			continue // an in-progress resend never replaces a completed document
		}
		latest[d.ID] = d
	}
	// Work on copies so that assembling the same documents twice gives the
	// same trace: linking appends to Subsegments.
	kept := make([]*Document, 0, len(order))
	for _, did := range order {
		c := *latest[did]
		c.Entity = cloneEntity(c.Entity)
		kept = append(kept, &c)
	}
	kept = dropEmbedded(kept)

	t := &Trace{
		ID:       id,
		entities: make(map[string]entityRef, len(kept)*4),
		children: map[*Entity][]*Document{},
		parents:  map[*Document]bool{},
	}
	for _, d := range kept {
		d.Entity.Walk(func(ent, _ *Entity) bool {
			if _, dup := t.entities[ent.ID]; !dup {
				t.entities[ent.ID] = entityRef{ent, d}
			}
			return true
		})
	}
	for _, d := range kept {
		if !d.Subsegment {
			t.Segments = append(t.Segments, d)
			continue
		}
		p, ok := t.entities[d.ParentID]
		if !ok || t.onCycle(d) {
			t.Orphans = append(t.Orphans, d)
			continue
		}
		t.children[p.ent] = append(t.children[p.ent], d)
		t.attached = append(t.attached, d)
		t.parents[p.doc] = true
	}
	// Attached subsegments follow a parent's embedded ones in start order,
	// whatever order the datagrams arrived in.
	for _, kids := range t.children {
		sortByStart(kids)
	}
	sortByStart(t.attached)
	// Link attached subsegments into their parents' entities for analysis.
	// The attachment graph is a forest (onCycle), so walks terminate.
	for _, d := range t.attached {
		p := t.entities[d.ParentID].ent
		p.Subsegments = append(p.Subsegments, d.Entity)
	}
	sortByStart(t.Segments)
	sortByStart(t.Orphans)
	return t
}

// cloneEntity copies e's tree of entities, sharing everything but the
// entities and their Subsegments slices.
func cloneEntity(e *Entity) *Entity {
	if e == nil {
		return nil
	}
	c := *e
	if e.Subsegments != nil {
		c.Subsegments = make([]*Entity, len(e.Subsegments))
		for i, s := range e.Subsegments {
			c.Subsegments[i] = cloneEntity(s)
		}
	}
	return &c
}

// dropEmbedded removes the independent subsegments whose id is embedded in
// another kept document. When documents embed each other, the earlier one
// in docs is kept.
func dropEmbedded(docs []*Document) []*Document {
	embedders := map[string][]*Document{} // entity id -> documents embedding it
	for _, d := range docs {
		d.Entity.Walk(func(ent, parent *Entity) bool {
			if parent != nil {
				embedders[ent.ID] = append(embedders[ent.ID], d)
			}
			return true
		})
	}
	const (
		unknown = iota
		visiting
		keep
		drop
	)
	state := make(map[*Document]int, len(docs))
	var decide func(d *Document) int
	decide = func(d *Document) int {
		switch state[d] {
		case visiting:
			return keep // an embedding cycle: the first document asked keeps
		case keep, drop:
			return state[d]
		}
		state[d] = visiting
		verdict := keep
		if d.Subsegment {
			for _, e := range embedders[d.ID] {
				if e != d && decide(e) == keep {
					verdict = drop
					break
				}
			}
		}
		state[d] = verdict
		return verdict
	}
	out := docs[:0]
	for _, d := range docs {
		if decide(d) == keep {
			out = append(out, d)
		}
	}
	return out
}

// onCycle reports whether following parents up from the subsegment document
// d leads back to d. Every document on a cycle is made an orphan, which
// breaks the cycle; documents hanging off a cycle attach normally.
func (t *Trace) onCycle(d *Document) bool {
	seen := map[*Document]bool{}
	for cur := d; cur.Subsegment; {
		p, ok := t.entities[cur.ParentID]
		if !ok {
			return false
		}
		if p.doc == d {
			return true
		}
		if seen[p.doc] {
			return false
		}
		seen[p.doc] = true
		cur = p.doc
	}
	return false
}

func sortByStart(ds []*Document) {
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].StartTime < ds[j].StartTime })
}

// Root returns the root segment: the one without parent_id, or whose parent
// is not in the trace, earliest first (§2.14 rule 5). When every segment's
// parent is in the trace (a parent_id cycle) it is the earliest segment. It
// is nil when the trace has no segment.
func (t *Trace) Root() *Document {
	for _, d := range t.Segments { // sorted by start time
		if _, ok := t.entities[d.ParentID]; d.ParentID == "" || !ok {
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
	out := make([]OutputDocument, 0, len(t.Segments)+len(t.Orphans))
	rendered := make(map[*Document]bool, len(t.attached))
	for _, list := range [][]*Document{t.Segments, t.Orphans} {
		for _, d := range list {
			b, err := t.render(d, rendered)
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
			if rendered[d] || !rendered[t.entities[d.ParentID].doc] {
				continue
			}
			b, err := t.render(d, rendered)
			if err != nil {
				return nil, fmt.Errorf("render document %s: %w", d.ID, err)
			}
			out = append(out, OutputDocument{ID: d.ID, JSON: b})
			progress = true
		}
	}
	return out, nil
}

func (t *Trace) render(d *Document, rendered map[*Document]bool) ([]byte, error) {
	rendered[d] = true
	if !t.parents[d] {
		return d.Raw, nil
	}
	m, err := t.tree(d, rendered)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// tree decodes d generically (numbers kept verbatim) and nests the documents
// attached anywhere inside it. Each document is rendered once.
func (t *Trace) tree(d *Document, rendered map[*Document]bool) (map[string]any, error) {
	rendered[d] = true
	dec := json.NewDecoder(bytes.NewReader(d.Raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	used := map[*Entity]bool{}
	var attach func(obj map[string]any) error
	attach = func(obj map[string]any) error {
		// The parent entity is the first entity with its id in d, in the
		// same depth-first order Assemble indexed them in.
		var kids []*Document
		idStr, _ := obj["id"].(string)
		if id, ok := ParseID(idStr); ok {
			if p, ok := t.entities[id]; ok && p.doc == d && !used[p.ent] {
				used[p.ent] = true
				kids = t.children[p.ent]
			}
		}
		subs, _ := obj["subsegments"].([]any)
		for _, s := range subs {
			if sm, ok := s.(map[string]any); ok {
				if err := attach(sm); err != nil {
					return err
				}
			}
		}
		if len(kids) == 0 {
			return nil
		}
		for _, k := range kids {
			if rendered[k] {
				continue
			}
			km, err := t.tree(k, rendered)
			if err != nil {
				return err
			}
			subs = append(subs, km)
		}
		obj["subsegments"] = subs
		return nil
	}
	if err := attach(m); err != nil {
		return nil, err
	}
	return m, nil
}
