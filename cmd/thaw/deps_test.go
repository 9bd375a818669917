package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps the arrows of STYLE.md's dependency graph
// pointing down: each package may import only what its row allows.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/thawtrace/thaw/internal/"
	rules := []struct {
		pkg     string
		allowed []string // thaw packages it may depend on; nil: standard library only
		thirdOK bool     // third-party modules allowed
	}{
		{pkg: "segment"},
		{pkg: "loadgen"},
		{pkg: "bytesreader"},
		{pkg: "console"},
		{pkg: "template", thirdOK: true},
		{pkg: "runtimeapi"},
		{pkg: "extensionsapi"},
		{pkg: "lambdaenv", allowed: []string{"runtimeapi", "extensionsapi"}},
		{pkg: "runner", allowed: []string{"lambdaenv", "runtimeapi", "extensionsapi", "template", "segment", "loadgen"}, thirdOK: true},
		{pkg: "analyze/summary", allowed: []string{"segment"}},
		{pkg: "xrayapi", allowed: []string{"segment"}},
		{pkg: "store", allowed: []string{"segment", "analyze/summary"}},
		{pkg: "store/embedded", allowed: []string{"segment", "analyze/summary", "store", "bytesreader"}, thirdOK: true},
		{pkg: "ingest", allowed: []string{"segment"}, thirdOK: true},
		{pkg: "ingest/udp", allowed: []string{"segment", "ingest"}, thirdOK: true},
		{pkg: "query", allowed: []string{"segment", "analyze/summary", "analyze/graph", "bytesreader", "filter", "store", "xrayapi"}},
		{pkg: "analyze/graph", allowed: []string{"segment", "analyze/summary", "bytesreader"}},
		{pkg: "filter"},
		{pkg: "groups", allowed: []string{"filter", "segment", "xrayapi"}},
		{pkg: "sampling", allowed: []string{"segment", "xrayapi"}},
	}
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", mod+r.pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", r.pkg, err)
			}
			ok := map[string]bool{r.pkg: true}
			for _, a := range r.allowed {
				ok[a] = true
			}
			for dep := range strings.FieldsSeq(string(out)) {
				if rel, ours := strings.CutPrefix(dep, mod); ours {
					if !ok[rel] {
						t.Errorf("%s imports internal/%s, which its row of the dependency graph does not allow", r.pkg, rel)
					}
					continue
				}
				if !r.thirdOK {
					t.Errorf("%s depends on %s; it may use the standard library only", r.pkg, dep)
				}
			}
		})
	}
}
