package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// The hand-written decoder is held to encoding/json, the oracle: for every
// input, Decode must give what decodeJSON (Decode as it was, over
// encoding/json) gives, except where the decoder is deliberately stricter:
//
//   - keys match exactly. Inputs with a key that encoding/json would match
//     case-insensitively to a model field are only checked for crashes.
//   - every top-level member of an identifying field is type-checked, and
//     "type" is one of them: the first mistyped one rejects the document with
//     its code (fatalFields), even where encoding/json reported an earlier,
//     tolerated type error and went on to accept the document or reject it
//     for something else. decodeStrict is the oracle with that rule added.
//
// Syntax error messages differ in wording (the code is the same).

// fatalFields are the top-level members whose wrong type rejects a
// document: the code, and the Go type encoding/json names in its error.
var fatalFields = map[string]struct {
	code ErrorCode
	want string
}{
	"id":          {CodeInvalidID, "string"},
	"trace_id":    {CodeInvalidTraceID, "string"},
	"name":        {CodeInvalidName, "string"},
	"parent_id":   {CodeInvalidID, "string"},
	"type":        {CodeInvalidSegment, "string"},
	"start_time":  {CodeMissingStartTime, "float64"},
	"end_time":    {CodeMissingEndTime, "float64"},
	"subsegments": {CodeInvalidSegment, "[]*segment.Entity"},
}

// jsonKind names the type of a JSON value as encoding/json's type errors do.
func jsonKind(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// firstFatal finds, independently of the decoder and with encoding/json's
// tokenizer, the first mistyped member that rejects the document raw (a
// valid JSON value): a top-level identifying field (fatalFields), or raw
// itself when it is neither an object nor null.
func firstFatal(raw []byte) typeError {
	switch k := jsonKind(raw); k {
	case "object":
	case "null":
		return typeError{}
	default:
		return typeError{code: CodeInvalidJSON, got: k, want: "segment.Entity"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return typeError{}
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return typeError{}
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return typeError{}
		}
		f, ok := fatalFields[key]
		if !ok {
			continue
		}
		got := jsonKind(v)
		switch {
		case got == "null":
			continue
		case key == "start_time" || key == "end_time":
			if got == "number" {
				if _, err := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64); err != nil {
					return typeError{code: f.code, field: key, got: "number " + string(bytes.TrimSpace(v)), want: f.want}
				}
				continue
			}
		case key == "subsegments":
			if got == "array" {
				var elems []json.RawMessage
				if err := json.Unmarshal(v, &elems); err != nil {
					return typeError{}
				}
				for _, el := range elems {
					if k := jsonKind(el); k != "object" && k != "null" {
						return typeError{code: f.code, field: key, got: k, want: "segment.Entity"}
					}
				}
				continue
			}
		case got == "string":
			continue
		}
		return typeError{code: f.code, field: key, got: got, want: f.want}
	}
	return typeError{}
}

// decodeStrict is the oracle with the decoder's type rule: decodeJSON, but a
// document with a mistyped identifying field is rejected for the first one.
func decodeStrict(body []byte, maxSize int) ([]Document, []*Error) {
	return decodeJSONWith(body, maxSize, func(raw []byte, inArray bool) (Document, *Error) {
		var e Entity
		var se *json.SyntaxError
		if err := json.Unmarshal(raw, &e); errors.As(err, &se) {
			return decodeOneJSON(raw, inArray)
		}
		if te := firstFatal(raw); te.code != "" {
			return accept(&e, raw, inArray, te)
		}
		return decodeOneJSON(raw, inArray)
	})
}

// modelKeys are the JSON names of the fields of every struct in the model.
var modelKeys = func() map[string]bool {
	keys := map[string]bool{}
	for _, v := range []any{Entity{}, HTTP{}, HTTPRequest{}, HTTPResponse{}, AWS{}, EC2{}, ECS{}, XRay{}, Service{}, Link{}, Cause{}, Exception{}} {
		t := reflect.TypeOf(v)
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				keys[name] = true
			}
		}
	}
	return keys
}()

// foldedKey returns a key in body that is not the name of a model field but
// that encoding/json would take for one, ignoring case, or "" if there is
// none. body must be valid JSON.
func foldedKey(body []byte) string {
	type frame struct{ object, wantKey bool }
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if top != nil && top.object {
				top.wantKey = true // once this value ends
			}
			stack = append(stack, frame{object: tok == json.Delim('{'), wantKey: true})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			continue
		}
		if top == nil || !top.object {
			continue
		}
		if !top.wantKey {
			top.wantKey = true
			continue
		}
		top.wantKey = false
		if k := tok.(string); !modelKeys[k] {
			for name := range modelKeys {
				if strings.EqualFold(k, name) {
					return k
				}
			}
		}
	}
}

// compareDecoders decodes body with Decode and with the oracle and returns
// what is wrong, or "".
func compareDecoders(body []byte) string {
	gotDocs, gotErrs := Decode(body, 0)
	trimmed := bytes.TrimSpace(body)
	if !json.Valid(trimmed) || !utf8.Valid(trimmed) {
		// Only syntax and encoding matter: the outcome must be identical.
		wantDocs, wantErrs := decodeJSON(body, 0)
		return diffResults(gotDocs, gotErrs, wantDocs, wantErrs)
	}
	if k := foldedKey(trimmed); k != "" {
		return "" // documented: encoding/json matches keys case-insensitively
	}
	if msg := compareEntities(trimmed); msg != "" {
		return msg
	}
	wantDocs, wantErrs := decodeStrict(body, 0)
	return diffResults(gotDocs, gotErrs, wantDocs, wantErrs)
}

// compareEntities compares the entities the two decoders make of a valid
// body, before validation, element by element for an array.
func compareEntities(body []byte) string {
	docs := [][]byte{body}
	if body[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(body, &elems); err != nil {
			return fmt.Sprintf("json.Unmarshal(%q) into []json.RawMessage: %v", body, err)
		}
		docs = docs[:0]
		for _, el := range elems {
			docs = append(docs, el)
		}
	}
	for _, raw := range docs {
		var want Entity
		oldErr := json.Unmarshal(raw, &want)
		var d decoder
		d.reset(raw)
		got := new(Entity)
		d.document(got)
		d.end()
		if oldErr != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(oldErr, &te) {
				return fmt.Sprintf("json.Unmarshal(%q): unexpected error %v", raw, oldErr)
			}
			// The oracle's first type error, if it rejects the document,
			// must be the first the decoder finds.
			if code, ok := typeErrorCode(te); ok && (d.fatal.code != code || d.fatal.field != te.Field) {
				return fmt.Sprintf("decoding %q: first fatal type error %+v; encoding/json reports %s (%s) first", raw, d.fatal, te.Field, code)
			}
		}
		if d.err != nil {
			return fmt.Sprintf("decoding %q: %v; encoding/json parses it", raw, d.err)
		}
		if want := firstFatal(raw); d.fatal != want {
			return fmt.Sprintf("decoding %q: first fatal type error %+v; want %+v", raw, d.fatal, want)
		}
		if diff := diffValues(&want, got); diff != "" {
			return fmt.Sprintf("decoding %q: entity differs from encoding/json's (-json +decoder):\n%s", raw, diff)
		}
	}
	return ""
}

// diffValues returns a diff of want and got, or "" if they are deeply equal
// (nil and empty slices and maps differ). cmp.Diff takes time exponential in
// the nesting depth, so deep values are shown whole instead.
func diffValues(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	if depthOf(reflect.ValueOf(want)) > 12 {
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		return fmt.Sprintf("want %s\ngot  %s", w, g)
	}
	return cmp.Diff(want, got)
}

func depthOf(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return 0
		}
		return depthOf(v.Elem())
	case reflect.Struct:
		d := 0
		for i := range v.NumField() {
			d = max(d, depthOf(v.Field(i)))
		}
		return d
	case reflect.Slice, reflect.Map:
		d := 0
		if v.Kind() == reflect.Slice {
			for i := range v.Len() {
				d = max(d, depthOf(v.Index(i)))
			}
		} else {
			for it := v.MapRange(); it.Next(); {
				d = max(d, depthOf(it.Value()))
			}
		}
		return d + 1
	}
	return 0
}

// diffResults compares Decode's results with the oracle's. Reasons must be
// equal too, except syntax errors', whose wording differs.
func diffResults(gotDocs []Document, gotErrs []*Error, wantDocs []Document, wantErrs []*Error) string {
	if diff := diffValues(wantDocs, gotDocs); diff != "" {
		return fmt.Sprintf("documents differ (-oracle +Decode):\n%s", diff)
	}
	type errView struct {
		Code       ErrorCode
		ID         string
		TraceID    string
		Subsegment bool
		Reason     string
	}
	view := func(errs []*Error) []errView {
		var out []errView
		for _, e := range errs {
			v := errView{e.Code, e.ID, e.TraceID, e.Subsegment, e.Reason}
			if strings.HasPrefix(v.Reason, "not valid JSON") {
				v.Reason = "(syntax error)"
			}
			out = append(out, v)
		}
		return out
	}
	if diff := cmp.Diff(view(wantErrs), view(gotErrs)); diff != "" {
		return fmt.Sprintf("errors differ (-oracle +Decode):\n%s", diff)
	}
	return ""
}

// diffCorpus is every body the other tests use: each sample file, each
// document in it, and the inputs of the table tests.
func diffCorpus(t testing.TB) [][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/samples/*")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, p := range paths {
		name := filepath.Base(p)
		if name == "README.md" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
		for _, sb := range sampleBodies(t, name, data) {
			out = append(out, sb.body)
		}
	}
	for _, tt := range badInputTests() {
		out = append(out, []byte(tt.in))
	}
	for _, tt := range toleratedTests() {
		out = append(out, []byte(tt.in))
	}
	for _, tt := range errorMessageTests() {
		out = append(out, []byte(tt.in))
	}
	out = append(out, []byte(lambdaSegment))
	for _, s := range diffEdgeCases {
		out = append(out, []byte(s))
	}
	return out
}

// diffEdgeCases are corners of JSON and of encoding/json's decoding that the
// samples do not reach.
var diffEdgeCases = []string{
	// Escapes, in keys and values; surrogate pairs, lone and misordered.
	`{"trace_id":"1-58406520-a006649127e371903a2de979","\u0069d":"70de5b6f19ff9a0a","name":"x\ty\u00e9\ud83d\ude00","start_time":1,"end_time":2}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"annotations":{"\ud800":"\udc00\ud800","a\"b":"\\\/\b\f\n\r\t","s":"\ud800\u0041"}}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"user":"\ud83d\ude0","origin":"a"}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"user":"\x"}`,
	"{\"trace_id\":\"1-58406520-a006649127e371903a2de979\",\"id\":\"70de5b6f19ff9a0a\",\"name\":\"x\ty\",\"start_time\":1,\"end_time\":2}",
	// Numbers.
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":-0,"end_time":2E-400}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":01,"end_time":2}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1.,"end_time":2}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1e,"end_time":2}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":-,"end_time":2}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"http":{"response":{"status":2e2,"content_length":"1e3"}},"aws":{"retries":"inf"}}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"http":{"response":{"status":-9223372036854775809,"content_length":"0x10"}},"aws":{"retries":"1_0"}}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"http":{"response":{"status":-12,"content_length":"\u0031"}},"aws":{"retries":1e400}}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"metadata":{"n":[1e400,-0.5e-3,0,true,false,null,{},[]]}}`,
	// Mistyped members: tolerated, fatal, and a tolerated one before a fatal one.
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"http":{"response":{"status":"200"}},"parent_id":5}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"type":5}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"in_progress":"no","subsegments":[{"id":"0f910026178b71eb","name":"c","start_time":1,"end_time":2},7]}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"subsegments":[{"id":5,"name":"c","start_time":1,"end_time":2,"subsegments":3,"type":4,"parent_id":[]}]}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"http":[],"aws":"a","service":1,"cause":true,"sql":[],"links":[1,null,{"attributes":[]}],"precursor_ids":[1,null,"a"]}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":"1","end_time":{}}`,
	`[{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"1111111111111111","parent_id":"2222222222222222","name":"x","start_time":1,"end_time":2,"error":"yes","end_time":"2"}, 5, "s", true, null, [], {}]`,
	// Repeated keys: objects merge, arrays decode over the old elements.
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"http":{"request":{"method":"GET"}},"http":{"response":{"status":200}},"aws":{"xray":{"sdk":"a"}},"aws":{"xray":{"sdk_version":"1"}},"aws":{"ec2":null}}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"links":[{"id":"a","attributes":{"x":1}},{"id":"b"},{"id":"c"}],"links":[{"trace_id":"t","attributes":{"y":2}}],"links":[{},{},{}]}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"subsegments":[{"id":"0f910026178b71eb","name":"a","start_time":1,"end_time":2},{"id":"1f910026178b71eb","name":"b","start_time":1,"end_time":2},{"id":"2f910026178b71eb","name":"c","start_time":1,"end_time":2}],"subsegments":[{"name":"A"}],"subsegments":[{},{},{}]}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"precursor_ids":["a","b","c","d","e","f","g","h","i","j"],"precursor_ids":["x"],"precursor_ids":[null,null,null,null,null,null,null,null,null,null,null]}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"cause":{"working_directory":"w","exceptions":[{"id":"a","remote":true}]},"cause":"e2ba8a2109451f5b","cause":5}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"cause":"e2ba8a2109451f5b","cause":{"paths":["p"],"exceptions":[{"id":"a","stack":[]},{"message":"m"}],"exceptions":[{"type":"t"}]}}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"annotations":{"a":1,"a":"b"},"annotations":{"c":true},"metadata":{"m":1},"metadata":null,"sql":{}}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"links":[],"precursor_ids":[],"subsegments":[],"annotations":{},"http":{},"cause":{}}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"id":null,"name":null,"start_time":null,"http":{"response":{"content_length":5}},"http":{"response":{"content_length":null}}}`,
	// Case: encoding/json would take these keys for fields; Decode does not.
	`{"trace_id":"1-58406520-a006649127e371903a2de979","ID":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2}`,
	// Syntax.
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2 "a":1}`,
	`{"trace_id" "1-58406520-a006649127e371903a2de979"}`,
	`{,}`,
	`[{"type":"subsegment"},]`,
	`[{"type":"subsegment"} {"type":"subsegment"}]`,
	`{"a":tru}`,
	`{"a":nul`,
	`{"a":[1,2}`,
	"{\"a\":\"\x01\"}",
	`{"a":"\u12G4"}`,
	"{\"a\":1}\x00",
	"{\"a\":1}\v",
	"\ufeff{\"a\":1}",
	strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth),
	strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1),
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"metadata":` + strings.Repeat("[", maxJSONDepth-1) + strings.Repeat("]", maxJSONDepth-1) + `}`,
	`{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2,"metadata":` + strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth) + `}`,
}

// TestDecodeDifferential holds Decode to the encoding/json oracle over every
// body the other tests know.
func TestDecodeDifferential(t *testing.T) {
	t.Parallel()
	for _, body := range diffCorpus(t) {
		if msg := compareDecoders(body); msg != "" {
			t.Errorf("Decode(%s): %s", abbreviate(body), msg)
		}
	}
}

// TestDecodeDifferentialDocumented pins the documented differences, each
// against what encoding/json does.
func TestDecodeDifferentialDocumented(t *testing.T) {
	t.Parallel()
	const head = `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2`
	tests := []struct {
		name     string
		in       string
		old, new outcome
	}{
		{
			name: "key in another case",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","ID":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":2}`,
			old:  outcome{Accepted: []string{"70de5b6f19ff9a0a"}},
			new:  outcome{Rejected: []rejected{{CodeMissingID, ""}}},
		},
		{
			name: "tolerated type error before a fatal one",
			in:   head + `,"http":{"response":{"status":"200"}},"parent_id":5}`,
			old:  outcome{Accepted: []string{"70de5b6f19ff9a0a"}},
			new:  outcome{Rejected: []rejected{{CodeInvalidID, "70de5b6f19ff9a0a"}}},
		},
		{
			name: "tolerated type error before a mistyped end_time",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","in_progress":true,"error":1,"start_time":1,"end_time":"2"}`,
			old:  outcome{Accepted: []string{"70de5b6f19ff9a0a"}},
			new:  outcome{Rejected: []rejected{{CodeMissingEndTime, "70de5b6f19ff9a0a"}}},
		},
		{
			name: "type not a string",
			in:   head + `,"type":5}`,
			old:  outcome{Accepted: []string{"70de5b6f19ff9a0a"}},
			new:  outcome{Rejected: []rejected{{CodeInvalidSegment, "70de5b6f19ff9a0a"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := decodeOutcome([]byte(tt.in))
			if diff := cmp.Diff(tt.new, got); diff != "" {
				t.Errorf("Decode(%s) mismatch (-want +got):\n%s", tt.in, diff)
			}
			docs, errs := decodeJSON([]byte(tt.in), 0)
			old := outcome{Rejected: rejections(errs)}
			for _, d := range docs {
				old.Accepted = append(old.Accepted, d.ID)
			}
			if diff := cmp.Diff(tt.old, old); diff != "" {
				t.Errorf("decodeJSON(%s) (encoding/json) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestDecodeCoversModel fills every field of the model through reflection,
// so that a field added to a struct without a case in the decoder fails
// here: the decoder must read back what encoding/json writes.
func TestDecodeCoversModel(t *testing.T) {
	t.Parallel()
	n := 0
	var fill func(v reflect.Value, depth int)
	fill = func(v reflect.Value, depth int) {
		n++
		switch v.Kind() {
		case reflect.String:
			v.SetString(fmt.Sprintf("s%d", n))
		case reflect.Float64:
			v.SetFloat(float64(n) + 0.5)
		case reflect.Int, reflect.Int64:
			v.SetInt(int64(n))
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Pointer:
			if depth > 1 {
				return
			}
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem(), depth+1)
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).Tag.Get("json") != "-" {
					fill(v.Field(i), depth)
				}
			}
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			for i := range 2 {
				fill(v.Index(i), depth)
			}
		case reflect.Map:
			v.Set(reflect.ValueOf(map[string]any{fmt.Sprintf("k%d", n): fmt.Sprintf("v%d", n), "n": float64(n), "b": true}))
		default:
			t.Fatalf("fill: unexpected kind %s", v.Kind())
		}
	}
	var want Entity
	fill(reflect.ValueOf(&want).Elem(), 0)
	raw, err := json.Marshal(&want)
	if err != nil {
		t.Fatal(err)
	}
	var d decoder
	d.reset(raw)
	got := new(Entity)
	d.document(got)
	d.end()
	if d.err != nil || d.fatal.code != "" {
		t.Fatalf("decoding %s: %v, %+v", raw, d.err, d.fatal)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("decoding %s: entity differs from what was encoded (-want +got):\n%s", raw, diff)
	}
}

// FuzzDecodeDifferential holds Decode to the encoding/json oracle on
// arbitrary input (see compareDecoders). Crashers found are kept in
// testdata/fuzz/FuzzDecodeDifferential.
func FuzzDecodeDifferential(f *testing.F) {
	for _, body := range diffCorpus(f) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if msg := compareDecoders(body); msg != "" {
			t.Fatalf("Decode(%q): %s", body, msg)
		}
	})
}
