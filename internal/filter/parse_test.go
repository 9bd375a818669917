package filter

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignorePos compares ASTs by structure and values only.
var ignorePos = cmpopts.IgnoreTypes(Pos(0))

// corpusCase is one case of a testdata file: comment lines, the input, and
// the expected output after a "----" line. The output of a valid expression
// is its canonical form; for an invalid one it is a caret under the error
// column followed by the message.
type corpusCase struct {
	line    int // 1-based line of the input, for failure messages
	comment []string
	input   string
	want    string
}

const separator = "----"

func readCorpus(t testing.TB, path string) []corpusCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); {
		if lines[i] == "" {
			i++
			continue
		}
		var c corpusCase
		for i < len(lines) && strings.HasPrefix(lines[i], "#") {
			c.comment = append(c.comment, lines[i])
			i++
		}
		c.line = i + 1
		var in []string
		for i < len(lines) && lines[i] != separator && lines[i] != "" {
			in = append(in, lines[i])
			i++
		}
		if len(in) == 0 {
			if len(c.comment) > 0 {
				// A trailing comment block with no case after it.
				cases = append(cases, c)
				continue
			}
			t.Fatalf("%s:%d: missing input", path, c.line)
		}
		if i >= len(lines) || lines[i] != separator {
			t.Fatalf("%s:%d: missing %q line after input", path, c.line, separator)
		}
		i++
		var out []string
		for i < len(lines) && lines[i] != "" {
			out = append(out, lines[i])
			i++
		}
		c.input, c.want = strings.Join(in, "\n"), strings.Join(out, "\n")
		cases = append(cases, c)
	}
	return cases
}

func writeCorpus(t *testing.T, path string, cases []corpusCase) {
	t.Helper()
	var b strings.Builder
	for i, c := range cases {
		if i > 0 {
			b.WriteByte('\n')
		}
		for _, l := range c.comment {
			b.WriteString(l + "\n")
		}
		if c.input == "" {
			continue
		}
		b.WriteString(c.input + "\n" + separator + "\n" + c.want + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// caret renders err as a '^' under the error column of src and the message.
func caret(src string, err error) string {
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return "unexpected error type: " + err.Error()
	}
	e := list[0]
	lineStart := strings.LastIndexByte(src[:min(int(e.Pos), len(src))], '\n') + 1
	return strings.Repeat(" ", int(e.Pos)-lineStart) + "^ " + e.Error()
}

// parseOutput is the expected output for src under parse.
func parseOutput(t *testing.T, src string, parse func(string) (Expr, error)) string {
	t.Helper()
	x, err := parse(src)
	if err != nil {
		return caret(src, err)
	}
	checkRoundTrip(t, src, x, parse)
	return x.String()
}

// checkRoundTrip verifies that the canonical form parses to an equal AST and
// prints identically.
func checkRoundTrip(t *testing.T, src string, x Expr, parse func(string) (Expr, error)) {
	t.Helper()
	printed := x.String()
	y, err := parse(printed)
	if err != nil {
		t.Errorf("input %q printed as %q, which does not parse: %v", src, printed, err)
		return
	}
	if diff := cmp.Diff(x, y, ignorePos); diff != "" {
		t.Errorf("input %q printed as %q, which parses differently (-first +second):\n%s", src, printed, diff)
	}
	if again := y.String(); again != printed {
		t.Errorf("input %q: printing is not stable: %q then %q", src, printed, again)
	}
}

func runCorpus(t *testing.T, file string, parse func(string) (Expr, error)) {
	path := filepath.Join("testdata", file)
	cases := readCorpus(t, path)
	update := os.Getenv("UPDATE_GOLDEN") != ""
	for i, c := range cases {
		if c.input == "" {
			continue
		}
		got := parseOutput(t, c.input, parse)
		if update {
			cases[i].want = got
			continue
		}
		if got != c.want {
			t.Errorf("%s:%d: input:\n%s\ngot:\n%s\nwant:\n%s", path, c.line, c.input, got, c.want)
		}
	}
	if update {
		writeCorpus(t, path, cases)
	}
}

func TestParseCorpus(t *testing.T) {
	runCorpus(t, "parse.txt", Parse)
}

func TestParseEntitySelectorCorpus(t *testing.T) {
	runCorpus(t, "entity_selector.txt", ParseEntitySelector)
}

// TestParseInvalidSpecExamples checks the invalid examples of spec §5.6
// (the valid ones are in testdata/parse.txt).
func TestParseInvalidSpecExamples(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`service("a") { annotation.x = 1 }`,
		`responsetime CONTAINS "5"`,
		`edge("a")`,
		`http.status >`,
		`rootcause.responsetime.exception { name = "x" }`,
		`http.url = "abc`,
		`(ok`,
		`service("a") { fault`,
		`ok)`,
	} {
		x, err := Parse(src)
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 {
			t.Errorf("Parse(%q) = %v, %v; want one-element ErrorList", src, x, err)
		}
	}
}

func TestParsePositions(t *testing.T) {
	t.Parallel()
	src := `ok  AND service("a") { http.status >= 500 }`
	x, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	want := &BinaryExpr{
		OpPos: 4, Op: AND,
		X: &KeywordExpr{NamePos: 0, Name: "ok"},
		Y: &ServiceFunc{
			ServicePos: 8,
			Ref:        &EntityRef{RefPos: 16, Name: "a"},
			Filter: &Block{Lbrace: 21, X: &Comparison{
				X:     &KeywordExpr{NamePos: 23, Name: "http.status"},
				OpPos: 35, Op: GEQ,
				Value: &Literal{ValuePos: 38, Kind: NumberLit, Num: 500},
			}},
		},
	}
	if diff := cmp.Diff(want, x); diff != "" {
		t.Errorf("Parse(%q) (-want +got):\n%s", src, diff)
	}
}

func TestParseDepthLimit(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("(", maxDepth+1) + "ok" + strings.Repeat(")", maxDepth+1)
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("Parse(%d nested parens) error = %v, want nesting error", maxDepth+1, err)
	}
	ok := strings.Repeat("!", maxDepth-1) + "ok"
	if _, err := Parse(ok); err != nil {
		t.Errorf("Parse(%d negations) error = %v, want nil", maxDepth-1, err)
	}
}

func TestErrorList(t *testing.T) {
	t.Parallel()
	l := ErrorList{{Pos: 3, Msg: "expected value, found EOF"}, {Pos: 9, Msg: "x"}}
	if got, want := l.Error(), "col 4: expected value, found EOF (and 1 more errors)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var e *Error
	if !errors.As(error(l), &e) || e.Pos != 3 {
		t.Errorf("errors.As(ErrorList, *Error) = %v, want first error", e)
	}
}

func FuzzParse(f *testing.F) {
	for _, file := range []string{"parse.txt", "entity_selector.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			f.Fatal(err)
		}
		parts := strings.Split(string(data), "\n")
		for i, l := range parts {
			if i+1 < len(parts) && parts[i+1] == separator {
				f.Add(l)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, parse := range []func(string) (Expr, error){Parse, ParseEntitySelector} {
			x, err := parse(src)
			if err != nil {
				var list ErrorList
				if !errors.As(err, &list) || len(list) == 0 {
					t.Fatalf("parse(%q) error %v is not a non-empty ErrorList", src, err)
				}
				if p := list[0].Pos; p < 0 || int(p) > len(src) {
					t.Fatalf("parse(%q) error position %d out of range", src, p)
				}
				continue
			}
			checkRoundTrip(t, src, x, parse)
		}
	})
}
