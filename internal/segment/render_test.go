package segment

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestObjectMembers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // key=value pairs, in order
		err  bool
	}{
		{in: `{}`},
		{in: ` {"a": 1, "b" :{"c":[1, "x"]}, "a":"\u0041"} `, want: []string{`a=1`, `b={"c":[1, "x"]}`, `a="\u0041"`}},
		{in: `{"k\"ey":null}`, want: []string{`k"ey=null`}},
		{in: `[1]`, err: true},
		{in: `{"a":}`, err: true},
		{in: `{"a":1} x`, err: true},
		{in: ``, err: true},
	} {
		var got []string
		err := ObjectMembers([]byte(tc.in), func(k string, v []byte) { got = append(got, k+"="+string(v)) })
		if (err != nil) != tc.err {
			t.Errorf("ObjectMembers(%q) error = %v; want error %v", tc.in, err, tc.err)
			continue
		}
		if !tc.err && len(got) != len(tc.want) {
			t.Errorf("ObjectMembers(%q) = %q; want %q", tc.in, got, tc.want)
			continue
		}
		for i := range tc.want {
			if got[i] != tc.want[i] {
				t.Errorf("ObjectMembers(%q)[%d] = %q; want %q", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

func TestEntityJSON(t *testing.T) {
	raw := []byte(`{"id":"A000000000000001","subsegments":[{"id":"a000000000000002","x":1,"subsegments":[{"id":"a000000000000003"}]},{"id":"a000000000000002","dup":true},7]}`)
	got, err := EntityJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a000000000000001": string(raw),
		"a000000000000002": `{"id":"a000000000000002","x":1,"subsegments":[{"id":"a000000000000003"}]}`,
		"a000000000000003": `{"id":"a000000000000003"}`,
	}
	if len(got) != len(want) {
		t.Fatalf("EntityJSON: %d entities; want %d", len(got), len(want))
	}
	for id, w := range want {
		if string(got[id]) != w {
			t.Errorf("EntityJSON[%s] = %s; want %s", id, got[id], w)
		}
	}
}

// FuzzObjectMembers checks ObjectMembers against encoding/json: it accepts
// exactly the JSON objects, and reports the members Unmarshal sees.
func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[true,null]}`, `{"a":1,"a":2}`, `{"\u00e9":"x"}`, `[]`, `{"a"`, `{"a":1}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got := map[string]string{}
		err := ObjectMembers(in, func(k string, v []byte) { got[k] = string(v) })
		if !utf8.Valid(in) {
			if err == nil {
				t.Fatalf("ObjectMembers(%q) accepted invalid UTF-8", in)
			}
			return
		}
		var want map[string]json.RawMessage
		werr := json.Unmarshal(in, &want)
		if werr != nil || want == nil {
			if err == nil && bytes.TrimSpace(in)[0] == '{' && werr != nil {
				t.Fatalf("ObjectMembers(%q) accepted what encoding/json refuses: %v", in, werr)
			}
			return
		}
		if err != nil {
			t.Fatalf("ObjectMembers(%q): %v; encoding/json accepts it", in, err)
		}
		if len(got) != len(want) {
			t.Fatalf("ObjectMembers(%q): %d keys; encoding/json %d", in, len(got), len(want))
		}
		for k, v := range want {
			if got[k] != string(v) {
				t.Fatalf("ObjectMembers(%q)[%q] = %s; encoding/json %s", in, k, got[k], v)
			}
		}
	})
}
