package graph

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/segment"
)

// goldenSamples are the traces in testdata/ with a golden graph beside
// them, <name>.graph.golden.json.
var goldenSamples = []string{
	"awsdocs-batch-get-traces-response-lambda.json",
	"handwritten-apigateway-lambda-cold.json",
	"iatk-lambda-cold-start-with-links-trace.json",
	"iatk-stepfunctions-express-trace.json",
}

func TestGolden(t *testing.T) {
	update := os.Getenv("UPDATE_GOLDEN") != ""
	for _, name := range goldenSamples {
		t.Run(name, func(t *testing.T) {
			var g Graph
			g.AddTrace(loadSample(t, name))
			ss := g.Services()
			checkReferences(t, ss)
			b, err := json.MarshalIndent(ss, "", "  ")
			if err != nil {
				t.Fatalf("marshal services: %v", err)
			}
			got := string(b) + "\n"
			path := filepath.Join("testdata", strings.TrimSuffix(name, ".json")+".graph.golden.json")
			if update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("graph of %s differs from %s (-want +got):\n%s", name, path, diff)
			}
		})
	}
}

// loadSample assembles the trace in a file of testdata/: a BatchGetTraces
// response (Traces[0].Segments[].Document strings), a trace with a
// Segments array of documents, or one document.
func loadSample(t testing.TB, name string) *segment.Trace {
	t.Helper()
	return buildTrace(t, sampleBodies(t, name)...)
}

func sampleBodies(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var shape struct {
		Traces []struct {
			Segments []struct{ Document string }
		}
		Segments []json.RawMessage
	}
	if err := json.Unmarshal(b, &shape); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var bodies []string
	switch {
	case len(shape.Traces) > 0:
		for _, s := range shape.Traces[0].Segments {
			bodies = append(bodies, s.Document)
		}
	case len(shape.Segments) > 0:
		for _, s := range shape.Segments {
			bodies = append(bodies, string(bytes.TrimSpace(s)))
		}
	default:
		bodies = []string{string(b)}
	}
	return bodies
}

func buildTrace(t testing.TB, bodies ...string) *segment.Trace {
	t.Helper()
	var docs []segment.Document
	for _, b := range bodies {
		got, errs := segment.Decode([]byte(b), 1<<20)
		if len(errs) > 0 {
			t.Fatalf("decode %s: %v", b, errs[0])
		}
		docs = append(docs, got...)
	}
	if len(docs) == 0 {
		t.Fatal("no documents")
	}
	return segment.Assemble(docs[0].TraceID, docs)
}

// checkReferences checks that ReferenceIDs are unique and that every edge
// leads to a service of the response.
func checkReferences(t *testing.T, ss []Service) {
	t.Helper()
	for i, s := range ss {
		if s.ReferenceID != i {
			t.Errorf("service %d (%s %s) has ReferenceId %d", i, s.Name, s.Type, s.ReferenceID)
		}
		for _, e := range s.Edges {
			if e.ReferenceID < 0 || e.ReferenceID >= len(ss) {
				t.Errorf("edge from %s %s leads to ReferenceId %d, not in the response", s.Name, s.Type, e.ReferenceID)
			}
		}
	}
}
