package filter

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testTrace is one trace of testdata/eval_traces.json.
type testTrace struct {
	ID string `json:"id"`
	MapTrace
}

func loadTraces(tb testing.TB) []*testTrace {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "eval_traces.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var traces []*testTrace
	if err := json.Unmarshal(data, &traces); err != nil {
		tb.Fatal(err)
	}
	return traces
}

// testGroups resolves the groups used by testdata/eval.txt.
type testGroups map[string]string

var evalGroups = testGroups{
	"high_response_time": `responsetime > 5`,
	"slow_or_throttled":  `group.name = "high_response_time" OR throttle`,
	"all":                ``,
	"cycle_a":            `ok OR group.name = "cycle_b"`,
	"cycle_b":            `group.arn = "arn:aws:xray:us-east-1:123456789012:group/cycle_a/X"`,
}

var errUnknownGroup = errors.New("unknown group")

func (g testGroups) ResolveGroup(name, arn string) (Expr, string, error) {
	if arn != "" {
		// arn:aws:xray:REGION:ACCOUNT:group/NAME/ID
		parts := strings.Split(arn, "/")
		if len(parts) != 3 {
			return nil, "", errUnknownGroup
		}
		name = parts[1]
	}
	src, ok := g[name]
	if !ok {
		return nil, "", errUnknownGroup
	}
	if src == "" {
		return nil, name, nil
	}
	x, err := Parse(src)
	return x, name, err
}

// evalOutput is the expected output for src: the ids of the matching traces,
// "none", or "error: MSG" for the first trace whose evaluation fails.
func evalOutput(tb testing.TB, ev *Evaluator, src string, traces []*testTrace) string {
	x, err := Parse(src)
	if err != nil {
		return "parse error: " + err.Error()
	}
	var ids []string
	for _, tr := range traces {
		ok, err := ev.Eval(x, &tr.MapTrace)
		if err != nil {
			return "error: " + err.Error()
		}
		if ok {
			ids = append(ids, tr.ID)
		}
	}
	// The canonical form must evaluate the same.
	if y, err := Parse(x.String()); err != nil {
		tb.Errorf("%q: canonical form %q does not parse: %v", src, x.String(), err)
	} else {
		for _, tr := range traces {
			a, _ := ev.Eval(x, &tr.MapTrace)
			b, _ := ev.Eval(y, &tr.MapTrace)
			if a != b {
				tb.Errorf("%q on %s: %v, but canonical form %q gives %v", src, tr.ID, a, x.String(), b)
			}
		}
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, " ")
}

func TestEvalCorpus(t *testing.T) {
	t.Parallel()
	traces := loadTraces(t)
	ev := &Evaluator{Groups: evalGroups}
	path := filepath.Join("testdata", "eval.txt")
	cases := readCorpus(t, path)
	update := os.Getenv("UPDATE_GOLDEN") != ""
	n := 0
	for i, c := range cases {
		if c.input == "" {
			continue
		}
		n++
		got := evalOutput(t, ev, c.input, traces)
		if update {
			cases[i].want = got
			continue
		}
		if got != c.want {
			t.Errorf("%s:%d: %s\ngot:  %s\nwant: %s", path, c.line, c.input, got, c.want)
		}
	}
	if n < 100 {
		t.Errorf("%s has %d cases, want at least 100", path, n)
	}
	if update {
		writeCorpus(t, path, cases)
	}
}

func TestEvalFoldCase(t *testing.T) {
	t.Parallel()
	traces := loadTraces(t)
	ev := &Evaluator{FoldCase: true}
	for src, want := range map[string]string{
		`user = "alice"`:                            "t1 t4 t7",
		`user != "ALICE"`:                           "t2",
		`http.url CONTAINS "API"`:                   "t1 t2 t4",
		`http.method = post`:                        "t2 t4",
		`user BEGINSWITH "a"`:                       "t1 t4 t7",
		`user ENDSWITH "OL"`:                        "t2",
		`service("API.example.com")`:                "t1 t2",
		`service(id(type: "aws::lambda"))`:          "t3 t4",
		`annotation.gameid = "817dl6vo"`:            "t1 t3 t7",
		`rootcause.fault.service { name = "auth" }`: "t6",
	} {
		if got := evalOutput(t, ev, src, traces); got != want {
			t.Errorf("FoldCase %s = %s, want %s", src, got, want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	t.Parallel()
	tr := &MapTrace{}
	x, err := Parse(`group.name = "g"`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Eval(x, tr); !errors.Is(err, ErrNoGroups) {
		t.Errorf("Eval(group.name) without resolver: error %v, want ErrNoGroups", err)
	}
	ev := &Evaluator{Groups: evalGroups}
	x, _ = Parse(`group.name = "cycle_b"`)
	if _, err := ev.Eval(x, tr); !errors.Is(err, ErrGroupCycle) {
		t.Errorf("Eval(cycle): error %v, want ErrGroupCycle", err)
	}
	x, _ = Parse(`group.name = "nope"`)
	if _, err := ev.Eval(x, tr); !errors.Is(err, errUnknownGroup) {
		t.Errorf("Eval(unknown group): error %v, want the resolver's error", err)
	}
	// ok short-circuits the cycle for traces that are ok.
	x, _ = Parse(`group.name = "cycle_a"`)
	okTrace := &MapTrace{Fields: MapScope{"ok": {BoolValue(true)}}}
	if got, err := ev.Eval(x, okTrace); !got || err != nil {
		t.Errorf("Eval(cycle_a) on an ok trace = %v, %v; want true, nil", got, err)
	}
	// Nodes the parser never produces.
	for _, x := range []Expr{nil, &Comparison{X: &GroupExpr{}, Value: &Literal{Kind: NumberLit}}} {
		if _, err := Eval(x, tr); err == nil {
			t.Errorf("Eval(%#v) succeeded, want error", x)
		}
	}
}

// TestEvalNilFields checks services and edges without a Fields scope.
func TestEvalNilFields(t *testing.T) {
	t.Parallel()
	tr := &MapTrace{
		Nodes: []MapService{{NodeID: NodeID{Name: "a"}}},
		Links: []MapEdge{{Src: NodeID{Name: "a"}, Dst: NodeID{Name: "b"}}},
	}
	for src, want := range map[string]bool{
		`service("a")`:                     true,
		`service("a") { fault }`:           false,
		`service("a") { !fault }`:          true,
		`edge("a", "b") { ok }`:            false,
		`edge("a", "b") { !(ok = false) }`: true,
	} {
		x, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Eval(x, tr); got != want || err != nil {
			t.Errorf("Eval(%s) = %v, %v; want %v", src, got, err, want)
		}
	}
}

func TestValuesJSON(t *testing.T) {
	t.Parallel()
	var vs Values
	if err := json.Unmarshal([]byte(`["a", 1.5, true]`), &vs); err != nil {
		t.Fatal(err)
	}
	want := Values{StringValue("a"), NumberValue(1.5), BoolValue(true)}
	if len(vs) != 3 || vs[0] != want[0] || vs[1] != want[1] || vs[2] != want[2] {
		t.Errorf("Unmarshal = %v, want %v", vs, want)
	}
	b, err := json.Marshal(vs)
	if err != nil || string(b) != `["a",1.5,true]` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	if b, _ := json.Marshal(Values{NumberValue(2)}); string(b) != `2` {
		t.Errorf("Marshal(one value) = %s, want 2", b)
	}
	if err := json.Unmarshal([]byte(`{"x": 1}`), &vs); err == nil {
		t.Error("Unmarshal(object) succeeded, want error")
	}
	if _, err := json.Marshal(Values{{}}); err == nil {
		t.Error("Marshal(invalid value) succeeded, want error")
	}
	for v, s := range map[Value]string{StringValue(`a"`): `"a\""`, NumberValue(0.5): "0.5", BoolValue(false): "false", {}: "<invalid>"} {
		if v.String() != s {
			t.Errorf("%#v.String() = %s, want %s", v, v.String(), s)
		}
	}
}

func FuzzEval(f *testing.F) {
	for _, c := range readCorpus(f, filepath.Join("testdata", "eval.txt")) {
		if c.input != "" {
			f.Add(c.input)
		}
	}
	traces := loadTraces(f)
	ev := &Evaluator{Groups: evalGroups}
	f.Fuzz(func(t *testing.T, src string) {
		x, err := Parse(src)
		if err != nil {
			return
		}
		for _, tr := range traces {
			a, errA := ev.Eval(x, &tr.MapTrace)
			// Evaluation is a pure function of the expression and the trace.
			b, errB := ev.Eval(x, &tr.MapTrace)
			if a != b || (errA == nil) != (errB == nil) {
				t.Fatalf("Eval(%q) on %s is not deterministic", src, tr.ID)
			}
			if errA != nil && a {
				t.Fatalf("Eval(%q) on %s = true with error %v", src, tr.ID, errA)
			}
			// Negation flips the result unless evaluation failed.
			na, errN := ev.Eval(&NotExpr{X: x}, &tr.MapTrace)
			if errA == nil && (errN != nil || na == a) {
				t.Fatalf("Eval(!(%s)) on %s = %v, %v; Eval = %v", src, tr.ID, na, errN, a)
			}
		}
	})
}

func BenchmarkEval(b *testing.B) {
	traces := loadTraces(b)
	x, err := Parse(`http.method = "POST" AND responsetime > 2 AND !partial AND service("backend.example.com") { fault OR http.status >= 500 } AND annotation.gameid != "817DL6VO"`)
	if err != nil {
		b.Fatal(err)
	}
	var ev Evaluator
	b.ReportAllocs()
	for b.Loop() {
		for _, tr := range traces {
			if _, err := ev.Eval(x, &tr.MapTrace); err != nil {
				b.Fatal(err)
			}
		}
	}
}
