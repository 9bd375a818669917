package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The renderer Documents used before it spliced bytes: decode each parent
// document generically, nest the attached documents, encode again. It is
// the oracle of TestRenderMatchesOracle and FuzzAssemble: both must give
// the same JSON values.

func (r *renderer) renderTree(d *Document) ([]byte, error) {
	r.rendered[d] = true
	if !r.parents[d] {
		return d.Raw, nil
	}
	m, err := r.tree(d)
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
func (r *renderer) tree(d *Document) (map[string]any, error) {
	r.rendered[d] = true
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
			if i, ok := r.t.entity(id); ok {
				if p := r.t.nodes[i]; p.doc == d && !used[p.ent] {
					used[p.ent] = true
					kids = r.children[p.ent]
				}
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
			if r.rendered[k] {
				continue
			}
			km, err := r.tree(k)
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

// oracleDocuments is Documents with renderTree.
func oracleDocuments(t *Trace) ([]OutputDocument, error) {
	r := newRenderer(t)
	return r.documents(r.renderTree)
}

// sameDocuments reports how Documents and the oracle differ, as JSON
// values, or "" when they agree.
func sameDocuments(t *Trace) string {
	got, err := t.Documents()
	if err != nil {
		return fmt.Sprintf("Documents: %v", err)
	}
	want, err := oracleDocuments(t)
	if err != nil {
		return fmt.Sprintf("oracle: %v", err)
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d documents; the oracle %d", len(got), len(want))
	}
	value := func(b []byte) any {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return err.Error()
		}
		return v
	}
	for i := range got {
		if got[i].ID != want[i].ID || !reflect.DeepEqual(value(got[i].JSON), value(want[i].JSON)) {
			return fmt.Sprintf("document %d: %s %s; the oracle %s %s", i, got[i].ID, got[i].JSON, want[i].ID, want[i].JSON)
		}
	}
	return ""
}

// TestRenderMatchesOracle assembles every sample, and all of them as one
// trace, and compares Documents with the oracle.
func TestRenderMatchesOracle(t *testing.T) {
	docs := sampleDocuments(t)
	byTrace := map[TraceID][]Document{}
	for _, d := range docs {
		byTrace[d.TraceID] = append(byTrace[d.TraceID], d)
	}
	if len(byTrace) == 0 {
		t.Fatal("no sample documents")
	}
	for tid, ds := range byTrace {
		if diff := sameDocuments(Assemble(tid, ds)); diff != "" {
			t.Errorf("trace %s: %s", tid, diff)
		}
	}
}

// sampleDocuments decodes every document of testdata/samples that decodes.
func sampleDocuments(t *testing.T) []Document {
	t.Helper()
	paths, err := filepath.Glob("testdata/samples/*")
	if err != nil {
		t.Fatal(err)
	}
	var docs []Document
	for _, p := range paths {
		if filepath.Ext(p) == ".md" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range sampleBodies(t, filepath.Base(p), data) {
			ds, _ := Decode(b.body, 0)
			docs = append(docs, ds...)
		}
	}
	return docs
}
