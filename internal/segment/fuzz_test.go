package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bodies to Decode, then assembles what it
// accepts. Neither may panic or hang; what they return must be valid JSON.
// Crashers found are kept in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	paths, err := filepath.Glob("testdata/samples/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if filepath.Ext(p) == ".txt" {
			_, body, _ := bytes.Cut(data, []byte("\n"))
			f.Add(body)
			continue
		}
		f.Add(data)
		if filepath.Ext(p) == ".json" {
			for _, sb := range sampleBodies(f, filepath.Base(p), data) {
				f.Add(sb.body)
			}
		}
	}
	f.Add([]byte(`[{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"1111111111111111","parent_id":"2222222222222222","name":"x","start_time":1,"end_time":2},` +
		`{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"2222222222222222","parent_id":"1111111111111111","name":"y","start_time":1,"end_time":2,` +
		`"subsegments":[{"id":"1111111111111111","name":"x","start_time":1,"end_time":2}]}]`))

	f.Fuzz(func(t *testing.T, body []byte) {
		docs, errs := Decode(body, 0)
		for _, d := range docs {
			if !json.Valid(d.Raw) {
				t.Fatalf("Decode(%q): accepted document %s has invalid Raw %q", body, d.ID, d.Raw)
			}
			if d.Entity == nil {
				t.Fatalf("Decode(%q): accepted document %s has no Entity", body, d.ID)
			}
			if id, ok := ParseID(d.ID); !ok || id != d.ID {
				t.Fatalf("Decode(%q): accepted document id %q is not 16 lower-case hex digits", body, d.ID)
			}
			if tid, err := ParseTraceID(string(d.TraceID)); err != nil || tid != d.TraceID {
				t.Fatalf("Decode(%q): accepted document trace id %q is not canonical", body, d.TraceID)
			}
		}
		for _, e := range errs {
			if !slices.Contains(Codes, e.Code) {
				t.Fatalf("Decode(%q): error code %q is not in Codes", body, e.Code)
			}
		}
		if len(docs) == 0 {
			return
		}
		tr := Assemble(docs[0].TraceID, docs)
		_ = tr.Root()
		out, err := tr.Documents()
		if err != nil {
			t.Fatalf("Decode(%q), Assemble, Documents: %v", body, err)
		}
		seen := map[string]bool{}
		for _, od := range out {
			if !json.Valid(od.JSON) {
				t.Fatalf("Decode(%q), Assemble, Documents: document %s is invalid JSON %q", body, od.ID, od.JSON)
			}
			if seen[od.ID] {
				t.Fatalf("Decode(%q), Assemble, Documents: document %s returned twice", body, od.ID)
			}
			seen[od.ID] = true
		}
	})
}

// FuzzAssemble builds documents from a small id space, so that duplicates,
// in-progress versions, embedded copies, missing parents and parent_id
// cycles are common, and checks Assemble's invariants: no panic or hang,
// output documents are valid, decode again, and nest exactly what the
// linked entity trees hold.
func FuzzAssemble(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{1, 1, 0, 1, 2, 1, 1, 2, 1, 0})
	f.Add([]byte{9, 200, 13, 77, 5, 1, 0, 3, 3, 3, 3, 250, 2, 2, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return int(b)
		}
		id := func(n int) string { return fmt.Sprintf("%016x", n%6+1) }
		var bodies []string
		for len(data) > 0 && len(bodies) < 40 {
			op := next()
			fields := ""
			if op&1 == 1 {
				fields = fmt.Sprintf(`"type":"subsegment","parent_id":%q`, id(next()))
			} else if op&2 == 2 {
				fields = fmt.Sprintf(`"parent_id":%q`, id(next()))
			}
			if n := op >> 5; n > 0 {
				var subs []string
				for i := range n % 4 {
					child := fmt.Sprintf(`{"id":%q,"name":"e%d","start_time":%d,"end_time":200`, id(next()), i, 100+next())
					if next()&1 == 1 {
						child += fmt.Sprintf(`,"subsegments":[{"id":%q,"name":"g","start_time":150,"end_time":200}]`, id(next()))
					}
					subs = append(subs, child+"}")
				}
				if fields != "" {
					fields += ","
				}
				fields += `"subsegments":[` + strings.Join(subs, ",") + `]`
			}
			end := 200.0
			if op&4 == 4 {
				end = 0 // in progress
			}
			bodies = append(bodies, doc(id(next()), fmt.Sprintf("d%d", len(bodies)), float64(100+next()), end, fields))
		}
		var docs []Document
		for _, b := range bodies {
			ds, errs := Decode([]byte(b), 0)
			if len(errs) != 0 {
				t.Fatalf("Decode(%s): %v", b, errs[0])
			}
			docs = append(docs, ds...)
		}
		check := func() []string {
			tr := Assemble(asmTrace, docs)
			if r := tr.Root(); (r == nil) != (len(tr.Segments) == 0) {
				t.Fatalf("Assemble(%q): Root() = %v with %d segments", bodies, r, len(tr.Segments))
			}
			var fromEntities []string
			for _, list := range [][]*Document{tr.Segments, tr.Orphans} {
				for _, d := range list {
					fromEntities = append(fromEntities, entityOutline(d.Entity))
				}
			}
			out, err := tr.Documents()
			if err != nil {
				t.Fatalf("Assemble(%q).Documents(): %v", bodies, err)
			}
			if diff := sameDocuments(tr); diff != "" {
				t.Fatalf("Assemble(%q): Documents() and the oracle differ: %s", bodies, diff)
			}
			var fromJSON []string
			for _, od := range out {
				var m map[string]any
				if err := json.Unmarshal(od.JSON, &m); err != nil {
					t.Fatalf("Assemble(%q).Documents(): %v\n%s", bodies, err, od.JSON)
				}
				if _, errs := Decode(od.JSON, 1<<20); len(errs) != 0 {
					t.Fatalf("Assemble(%q).Documents(): %s does not decode: %v", bodies, od.JSON, errs[0])
				}
				fromJSON = append(fromJSON, outline(m))
			}
			if !slices.Equal(fromEntities, fromJSON) {
				t.Fatalf("Assemble(%q): entity trees %q; Documents() %q", bodies, fromEntities, fromJSON)
			}
			return fromJSON
		}
		first := check()
		if again := check(); !slices.Equal(first, again) {
			t.Fatalf("Assemble(%q) twice: %q, then %q", bodies, first, again)
		}
	})
}
