package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sampleBody is one document found in a sample file.
type sampleBody struct {
	where string // which part of the file it came from
	body  []byte
}

// sampleBodies returns the documents a sample file holds (see
// testdata/samples/README.md): the body of a UDP payload (.txt); each
// segment of an API response or trace wrapper (BatchGetTraces Document
// strings, iatk Segments[] objects re-marshalled); or the file itself.
func sampleBodies(t testing.TB, name string, data []byte) []sampleBody {
	t.Helper()
	if strings.HasSuffix(name, ".txt") {
		_, body, ok := bytes.Cut(data, []byte("\n"))
		if !ok {
			t.Fatalf("%s: UDP payload has no header line", name)
		}
		return []sampleBody{{"body", body}}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	segments := func(prefix string, raw json.RawMessage) []sampleBody {
		var segs []json.RawMessage
		if err := json.Unmarshal(raw, &segs); err != nil {
			t.Fatalf("%s: %s: %v", name, prefix, err)
		}
		var out []sampleBody
		for i, s := range segs {
			var wrapped struct{ Document *string }
			if err := json.Unmarshal(s, &wrapped); err == nil && wrapped.Document != nil {
				out = append(out, sampleBody{fmt.Sprintf("%s[%d].Document", prefix, i), []byte(*wrapped.Document)})
				continue
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, s); err != nil {
				t.Fatalf("%s: %s[%d]: %v", name, prefix, i, err)
			}
			out = append(out, sampleBody{fmt.Sprintf("%s[%d]", prefix, i), buf.Bytes()})
		}
		return out
	}
	switch {
	case top["Traces"] != nil:
		var traces []map[string]json.RawMessage
		if err := json.Unmarshal(top["Traces"], &traces); err != nil {
			t.Fatalf("%s: Traces: %v", name, err)
		}
		var out []sampleBody
		for i, tr := range traces {
			out = append(out, segments(fmt.Sprintf("Traces[%d].Segments", i), tr["Segments"])...)
		}
		return out
	case top["Segments"] != nil:
		return segments("Segments", top["Segments"])
	case strings.HasSuffix(name, "-response.json"):
		return nil // an API response without segment documents
	}
	return []sampleBody{{"document", data}}
}

// describeDecode renders Decode's result in the golden files' text form.
func describeDecode(docs []Document, errs []*Error) string {
	var b strings.Builder
	for _, d := range docs {
		n := 0
		d.Entity.Walk(func(*Entity, *Entity) bool { n++; return true })
		fmt.Fprintf(&b, "accepted\n")
		fmt.Fprintf(&b, "  trace_id:    %s\n", d.TraceID)
		fmt.Fprintf(&b, "  id:          %s\n", d.ID)
		fmt.Fprintf(&b, "  parent_id:   %s\n", orDash(d.ParentID))
		fmt.Fprintf(&b, "  subsegment:  %t\n", d.Subsegment)
		fmt.Fprintf(&b, "  in_progress: %t\n", d.InProgress)
		fmt.Fprintf(&b, "  start_time:  %s\n", formatTime(d.StartTime))
		fmt.Fprintf(&b, "  end_time:    %s\n", formatTime(d.EndTime))
		fmt.Fprintf(&b, "  entities:    %d\n", n)
		fmt.Fprintf(&b, "  cause:       %s\n", describeCause(d.Entity.Cause))
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "rejected\n")
		fmt.Fprintf(&b, "  code:        %s\n", e.Code)
		fmt.Fprintf(&b, "  id:          %s\n", orDash(e.ID))
		fmt.Fprintf(&b, "  trace_id:    %s\n", orDash(e.TraceID))
		fmt.Fprintf(&b, "  message:     %s\n", e.Error())
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func formatTime(f float64) string {
	if f == 0 {
		return "-"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func describeCause(c *Cause) string {
	switch {
	case c == nil:
		return "-"
	case c.ExceptionID != "":
		return "exception id " + c.ExceptionID
	}
	return fmt.Sprintf("%d exceptions", len(c.Exceptions))
}

// TestDecodeSamples decodes every document of every sample and compares a
// text description with testdata/decode/<sample>.golden. UPDATE_GOLDEN=1
// rewrites the golden files.
func TestDecodeSamples(t *testing.T) {
	t.Parallel()
	names, err := filepath.Glob("testdata/samples/*")
	if err != nil {
		t.Fatal(err)
	}
	update := os.Getenv("UPDATE_GOLDEN") == "1"
	wantGolden := map[string]bool{}
	for _, path := range names {
		name := filepath.Base(path)
		if name == "README.md" {
			continue
		}
		golden := filepath.Join("testdata", "decode", strings.TrimSuffix(name, filepath.Ext(name))+".golden")
		wantGolden[filepath.Base(golden)] = true
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "# Decode of %s\n", path)
			bodies := sampleBodies(t, name, data)
			if len(bodies) == 0 {
				b.WriteString("# no segment documents\n")
			}
			for _, sb := range bodies {
				docs, errs := Decode(sb.body, 0)
				fmt.Fprintf(&b, "\n== %s\n%s", sb.where, describeDecode(docs, errs))
			}
			got := b.String()
			if update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("Decode of %s differs from %s (-want +got):\n%s", path, golden, diff)
			}
		})
	}
	if update {
		return
	}
	goldens, err := filepath.Glob("testdata/decode/*.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		if !wantGolden[filepath.Base(g)] {
			t.Errorf("%s has no sample in testdata/samples; delete it", g)
		}
	}
}

// TestDecodeNegativeSamples pins what the spec says about the two negative
// samples, so that a careless UPDATE_GOLDEN cannot change it.
func TestDecodeNegativeSamples(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", "samples", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// §2.7: a cause of any other type is dropped and the document kept.
	in := read("otel-invalid-cause-number.json")
	docs, errs := Decode(in, 0)
	if len(docs) != 1 || len(errs) != 0 {
		t.Fatalf("Decode(%s) = %d docs, errors %v; want 1 doc, no error", in, len(docs), errs)
	}
	if c := docs[0].Entity.Cause; c != nil {
		t.Errorf("Decode(%s): Entity.Cause = %+v; want nil (dropped)", in, c)
	}
	if !docs[0].Entity.Fault {
		t.Errorf("Decode(%s): Entity.Fault = false; want true", in)
	}

	// §2.12: start_time missing.
	in = read("otel-invalid-missing-start-time.json")
	docs, errs = Decode(in, 0)
	want := []rejected{{Code: CodeMissingStartTime, ID: "bda182a644eee9b3"}}
	if got := rejections(errs); len(docs) != 0 || !cmp.Equal(got, want) {
		t.Errorf("Decode(%s) = %d docs, rejections %+v; want 0 docs, %+v", in, len(docs), got, want)
	}
}

type rejected struct {
	Code ErrorCode
	ID   string
}

type outcome struct {
	Accepted []string // document ids
	Rejected []rejected
}

func rejections(errs []*Error) []rejected {
	var out []rejected
	for _, e := range errs {
		out = append(out, rejected{e.Code, e.ID})
	}
	return out
}

func decodeOutcome(body []byte) outcome {
	docs, errs := Decode(body, 0)
	var o outcome
	for _, d := range docs {
		o.Accepted = append(o.Accepted, d.ID)
	}
	o.Rejected = rejections(errs)
	return o
}

// abbreviate keeps failure messages readable for generated inputs.
func abbreviate(b []byte) string {
	const n = 300
	if len(b) <= n {
		return string(b)
	}
	return fmt.Sprintf("%s…(%d bytes)…%s", b[:n/2], len(b)-n, b[len(b)-n/2:])
}

// sized returns a valid segment of exactly n bytes, padded in metadata.
func sized(n int) string {
	head := `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"big","start_time":1480615200.01,"end_time":1480615200.09,"metadata":{"default":{"pad":"`
	tail := `"}}}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// nested returns a segment with depth levels of embedded subsegments.
func nested(depth int) string {
	var b strings.Builder
	for i := range depth + 1 {
		if i == 0 {
			b.WriteString(`{"trace_id":"1-58406520-a006649127e371903a2de979",`)
		} else {
			b.WriteString(`,"subsegments":[{`)
		}
		fmt.Fprintf(&b, `"id":"%016x","name":"n%d","start_time":1480615200.01,"end_time":1480615200.09`, i+1, i)
	}
	for range depth {
		b.WriteString(`}]`)
	}
	b.WriteString(`}`)
	return b.String()
}

// badInputTest is a body and what Decode must make of it.
type badInputTest struct {
	name string
	in   string
	want outcome
}

// badInputTests are the bodies TestDecodeBadInput checks; the differential
// tests decode them too.
func badInputTests() []badInputTest {
	const seg = "70de5b6f19ff9a0a"
	return []badInputTest{
		{name: "no body", in: "", want: outcome{Rejected: []rejected{{CodeEmpty, ""}}}},
		{name: "only whitespace", in: " \n\t ", want: outcome{Rejected: []rejected{{CodeEmpty, ""}}}},
		{name: "not JSON", in: "hello", want: outcome{Rejected: []rejected{{CodeInvalidJSON, ""}}}},
		{name: "not JSON in braces", in: "{hello}", want: outcome{Rejected: []rejected{{CodeInvalidJSON, ""}}}},
		{
			name: "truncated JSON",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_ti`,
			want: outcome{Rejected: []rejected{{CodeInvalidJSON, seg}}},
		},
		{
			name: "trailing garbage",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09} x`,
			want: outcome{Rejected: []rejected{{CodeInvalidJSON, seg}}},
		},
		{
			name: "two documents",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}{}`,
			want: outcome{Rejected: []rejected{{CodeInvalidJSON, seg}}},
		},
		{name: "JSON null", in: "null", want: outcome{Rejected: []rejected{{CodeInvalidJSON, ""}}}},
		{name: "JSON number", in: "42", want: outcome{Rejected: []rejected{{CodeInvalidJSON, ""}}}},
		{name: "JSON string", in: `"segment"`, want: outcome{Rejected: []rejected{{CodeInvalidJSON, ""}}}},
		{name: "JSON true", in: "true", want: outcome{Rejected: []rejected{{CodeInvalidJSON, ""}}}},
		{name: "empty object", in: "{}", want: outcome{Rejected: []rejected{{CodeInvalidTraceID, ""}}}},
		{name: "empty array", in: "[]", want: outcome{Rejected: []rejected{{CodeEmpty, ""}}}},
		{name: "exactly 64 KiB", in: sized(64 * 1024), want: outcome{Accepted: []string{seg}}},
		{name: "64 KiB + 1 byte", in: sized(64*1024 + 1), want: outcome{Rejected: []rejected{{CodeTooLarge, seg}}}},
		{
			name: "20000 nested arrays in metadata",
			in: `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"metadata":{"default":{"deep":` +
				strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}}`,
			want: outcome{Rejected: []rejected{{CodeInvalidJSON, seg}}},
		},
		{
			name: "20000 nested arrays",
			in:   strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
			want: outcome{Rejected: []rejected{{CodeInvalidJSON, ""}}},
		},
		{name: "256 levels of subsegments", in: nested(256), want: outcome{Accepted: []string{"0000000000000001"}}},
		{name: "257 levels of subsegments", in: nested(257), want: outcome{Rejected: []rejected{{CodeInvalidSegment, "0000000000000001"}}}},
		{name: "300 levels of subsegments", in: nested(300), want: outcome{Rejected: []rejected{{CodeInvalidSegment, "0000000000000001"}}}},

		// Trace ids.
		{
			name: "trace_id missing",
			in:   `{"id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidTraceID, seg}}},
		},
		{
			name: "trace_id short",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de97","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidTraceID, seg}}},
		},
		{
			name: "trace_id version 2",
			in:   `{"trace_id":"2-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidTraceID, seg}}},
		},
		{
			name: "trace_id not hex",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de97x","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidTraceID, seg}}},
		},
		{
			name: "trace_id W3C form",
			in:   `{"trace_id":"4efaaf4d1e8720b39541901950019ee5","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidTraceID, seg}}},
		},
		{
			name: "trace_id a number",
			in:   `{"trace_id":1,"id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidTraceID, seg}}},
		},
		{
			name: "trace_id old epoch accepted",
			in:   `{"trace_id":"1-00000001-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Accepted: []string{seg}},
		},
		{
			name: "trace_id future epoch accepted",
			in:   `{"trace_id":"1-ffffffff-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Accepted: []string{seg}},
		},

		// Entity ids.
		{
			name: "id missing",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeMissingID, ""}}},
		},
		{
			name: "id empty",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeMissingID, ""}}},
		},
		{
			name: "id not hex",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0z","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidID, "70de5b6f19ff9a0z"}}},
		},
		{
			name: "id too short",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidID, "70de5b6f19ff9a0"}}},
		},
		{
			name: "id a number",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":7,"name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidID, ""}}},
		},
		{
			name: "embedded subsegment without id",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"subsegments":[{"name":"child","start_time":1480615200.02,"end_time":1480615200.03}]}`,
			want: outcome{Rejected: []rejected{{CodeMissingID, seg}}},
		},
		{
			name: "embedded subsegment with invalid id",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"subsegments":[{"id":"nope","name":"child","start_time":1480615200.02,"end_time":1480615200.03}]}`,
			want: outcome{Rejected: []rejected{{CodeInvalidID, seg}}},
		},
		{
			name: "subsegments null element",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"subsegments":[null]}`,
			want: outcome{Rejected: []rejected{{CodeInvalidSegment, seg}}},
		},
		{
			name: "subsegments an object",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"subsegments":{}}`,
			want: outcome{Rejected: []rejected{{CodeInvalidSegment, seg}}},
		},

		{
			name: "type a number",
			in:   `{"type":5,"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidSegment, seg}}},
		},
		{
			name: "tolerated type error before a fatal one",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"http":{"response":{"status":"200"}},"parent_id":5}`,
			want: outcome{Rejected: []rejected{{CodeInvalidID, seg}}},
		},
		{
			name: "two fatal type errors: the first counts",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":"1480615200.01","end_time":1480615200.09,"subsegments":3}`,
			want: outcome{Rejected: []rejected{{CodeMissingStartTime, seg}}},
		},
		{
			name: "keys match case-sensitively",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","Id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeMissingID, ""}}},
		},

		// Names.
		{
			name: "name missing",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidName, seg}}},
		},
		{
			name: "name empty",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidName, seg}}},
		},
		{
			name: "name a number",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":5,"start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidName, seg}}},
		},
		{
			name: "name 200 characters",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"` + strings.Repeat("é", 200) + `","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Accepted: []string{seg}},
		},
		{
			name: "name 201 characters",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"` + strings.Repeat("a", 201) + `","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidName, seg}}},
		},
		{
			name: "name with <",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"a<b","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidName, seg}}},
		},
		{
			name: "name with ?",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"GET /users?id=1","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidName, seg}}},
		},
		{
			name: "name with every allowed symbol",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"ebdb@host_1.example:5432/db %&#=+\\- Ünïcödé 名前 ٣","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Accepted: []string{seg}},
		},
		{
			name: "embedded subsegment name with <",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"subsegments":[{"id":"0f910026178b71eb","name":"<script>","start_time":1480615200.02,"end_time":1480615200.03}]}`,
			want: outcome{Rejected: []rejected{{CodeInvalidName, seg}}},
		},

		// Times.
		{
			name: "start_time missing",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeMissingStartTime, seg}}},
		},
		{
			name: "start_time a string",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":"1480615200.01","end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeMissingStartTime, seg}}},
		},
		{
			name: "start_time out of range",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1e400,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeMissingStartTime, seg}}},
		},
		{
			name: "start_time in milliseconds",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200010,"end_time":1480615200090}`,
			want: outcome{Rejected: []rejected{{CodeMissingStartTime, seg}}},
		},
		{
			name: "end_time absurdly large (would overflow durations to +Inf)",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1,"end_time":1e303}`,
			want: outcome{Rejected: []rejected{{CodeMissingEndTime, seg}}},
		},
		{
			name: "end_time negative",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":-1}`,
			want: outcome{Rejected: []rejected{{CodeMissingEndTime, seg}}},
		},
		{
			name: "end_time missing, no in_progress",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01}`,
			want: outcome{Rejected: []rejected{{CodeMissingEndTime, seg}}},
		},
		{
			name: "end_time missing, in_progress false",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"in_progress":false}`,
			want: outcome{Rejected: []rejected{{CodeMissingEndTime, seg}}},
		},
		{
			name: "end_time missing on an embedded subsegment",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"subsegments":[{"id":"0f910026178b71eb","name":"child","start_time":1480615200.02}]}`,
			want: outcome{Rejected: []rejected{{CodeMissingEndTime, seg}}},
		},
		{
			name: "end_time missing deep down",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"subsegments":[{"id":"0f910026178b71eb","name":"child","start_time":1480615200.02,"end_time":1480615200.03,"subsegments":[{"id":"1f910026178b71eb","name":"grandchild","start_time":1480615200.02}]}]}`,
			want: outcome{Rejected: []rejected{{CodeMissingEndTime, seg}}},
		},
		{
			name: "in progress embedded subsegment",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"in_progress":true,"subsegments":[{"id":"0f910026178b71eb","name":"child","start_time":1480615200.02,"in_progress":true}]}`,
			want: outcome{Accepted: []string{seg}},
		},

		// Independent subsegments.
		{
			name: "independent subsegment without parent_id",
			in:   `{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeMissingParentID, seg}}},
		},
		{
			name: "independent subsegment with invalid parent_id",
			in:   `{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","parent_id":"xyz","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidID, seg}}},
		},
		{
			name: "segment with invalid parent_id",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","parent_id":"0f910026178b71e","name":"x","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: outcome{Rejected: []rejected{{CodeInvalidID, seg}}},
		},

		// Encoding.
		{
			name: "non-UTF-8 bytes",
			in:   "{\"trace_id\":\"1-58406520-a006649127e371903a2de979\",\"id\":\"70de5b6f19ff9a0a\",\"name\":\"caf\xe9\",\"start_time\":1480615200.01,\"end_time\":1480615200.09}",
			want: outcome{Rejected: []rejected{{CodeInvalidUTF8, seg}}},
		},
		{
			name: "non-UTF-8 bytes in an array",
			in:   "[{\"type\":\"subsegment\",\"trace_id\":\"1-58406520-a006649127e371903a2de979\",\"id\":\"70de5b6f19ff9a0a\",\"parent_id\":\"0f910026178b71eb\",\"name\":\"\xff\",\"start_time\":1480615200.01,\"end_time\":1480615200.09}]",
			want: outcome{Rejected: []rejected{{CodeInvalidUTF8, seg}}},
		},

		// Arrays of subsegments.
		{
			name: "array with one bad element",
			in: `[
				{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"1111111111111111","parent_id":"0f910026178b71eb","name":"a","start_time":1480615200.01,"end_time":1480615200.09},
				{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"2222222222222222","parent_id":"0f910026178b71eb","name":"b","start_time":1480615200.01},
				{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"3333333333333333","parent_id":"0f910026178b71eb","name":"c","start_time":1480615200.01,"end_time":1480615200.09}
			]`,
			want: outcome{Accepted: []string{"1111111111111111", "3333333333333333"}, Rejected: []rejected{{CodeMissingEndTime, "2222222222222222"}}},
		},
		{
			name: "array element without type",
			in:   `[{"trace_id":"1-58406520-a006649127e371903a2de979","id":"1111111111111111","parent_id":"0f910026178b71eb","name":"a","start_time":1480615200.01,"end_time":1480615200.09}]`,
			want: outcome{Rejected: []rejected{{CodeInvalidSegment, "1111111111111111"}}},
		},
		{
			name: "array element without parent_id",
			in:   `[{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"1111111111111111","name":"a","start_time":1480615200.01,"end_time":1480615200.09}]`,
			want: outcome{Rejected: []rejected{{CodeMissingParentID, "1111111111111111"}}},
		},
		{
			name: "array of scalars",
			in:   `[1, "x", null, []]`,
			want: outcome{Rejected: []rejected{{CodeInvalidJSON, ""}, {CodeInvalidJSON, ""}, {CodeInvalidSegment, ""}, {CodeInvalidJSON, ""}}},
		},
		{
			name: "truncated array",
			in:   `[{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"1111111111111111"`,
			want: outcome{Rejected: []rejected{{CodeInvalidJSON, ""}}},
		},
	}
}

func TestDecodeBadInput(t *testing.T) {
	t.Parallel()
	for _, tt := range badInputTests() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := decodeOutcome([]byte(tt.in))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode(%s) mismatch (-want +got):\n%s", abbreviate([]byte(tt.in)), diff)
			}
		})
	}
}

// decoded is what TestDecodeTolerated checks of an accepted document.
type decoded struct {
	TraceID       TraceID
	ID            string
	ParentID      string
	Subsegment    bool
	InProgress    bool
	StartTime     float64
	EndTime       float64
	Cause         *Cause
	ContentLength FlexInt
	ChildIDs      []string
}

func summarize(d Document) decoded {
	out := decoded{
		TraceID: d.TraceID, ID: d.ID, ParentID: d.ParentID, Subsegment: d.Subsegment,
		InProgress: d.InProgress, StartTime: d.StartTime, EndTime: d.EndTime, Cause: d.Entity.Cause,
	}
	if h := d.Entity.HTTP; h != nil && h.Response != nil {
		out.ContentLength = h.Response.ContentLength
	}
	d.Entity.Walk(func(e, parent *Entity) bool {
		if parent != nil {
			out.ChildIDs = append(out.ChildIDs, e.ID)
		}
		return true
	})
	return out
}

// toleratedTest is a body Decode must accept, and what it must decode to.
type toleratedTest struct {
	name string
	in   string
	want decoded
}

// toleratedTests are the bodies TestDecodeTolerated checks; the differential
// tests decode them too.
func toleratedTests() []toleratedTest {
	const tid, seg, sub, par = "1-58406520-a006649127e371903a2de979", "70de5b6f19ff9a0a", "0f910026178b71eb", "53995c3f42cd8ad8"
	return []toleratedTest{
		{
			name: "content_length as string",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"http":{"response":{"status":200,"content_length":"861"}}}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09, ContentLength: 861},
		},
		{
			name: "content_length not a number",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"http":{"response":{"content_length":"lots"}}}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09},
		},
		{
			name: "status as string",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"http":{"response":{"status":"200","content_length":-1}}}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09, ContentLength: -1},
		},
		{
			name: "in_progress false with end_time",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"in_progress":false}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09},
		},
		{
			name: "in progress",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"in_progress":true}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, InProgress: true},
		},
		{
			name: "cause {}",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"fault":true,"cause":{}}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09},
		},
		{
			name: "cause as exception id",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"fault":true,"cause":"e2ba8a2109451f5b"}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09, Cause: &Cause{ExceptionID: "e2ba8a2109451f5b"}},
		},
		{
			name: "cause a number",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"cause":200}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09},
		},
		{
			name: "cause an array",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"cause":["e2ba8a2109451f5b"]}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09},
		},
		{
			name: "cause with a mistyped exception field",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"cause":{"working_directory":"/var/task","exceptions":[{"id":"e2ba8a2109451f5b","message":"boom","remote":"yes"}]}}`,
			want: decoded{
				TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09,
				Cause: &Cause{WorkingDirectory: "/var/task", Exceptions: []Exception{{ID: "e2ba8a2109451f5b", Message: "boom"}}},
			},
		},
		{
			name: "unknown fields and Dummy",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"Dummy":false,"whatever":{"nested":[1,2,3]},"links":[{"trace_id":"1-58406520-a006649127e371903a2de970","id":"53995c3f42cd8ad8"}]}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09},
		},
		{
			name: "mistyped optional objects",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"annotations":[],"metadata":"m","aws":7,"http":true,"links":{}}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09},
		},
		{
			name: "upper-case hex normalised",
			in:   `{"type":"subsegment","trace_id":"1-58406520-A006649127E371903A2DE979","id":"70DE5B6F19FF9A0A","parent_id":"53995C3F42CD8AD8","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"subsegments":[{"id":"0F910026178B71EB","name":"y","start_time":1480615200.02,"end_time":1480615200.03}]}`,
			want: decoded{TraceID: tid, ID: seg, ParentID: par, Subsegment: true, StartTime: 1480615200.01, EndTime: 1480615200.09, ChildIDs: []string{sub}},
		},
		{
			name: "exponent timestamps",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1.48061520001E9,"end_time":1.480615200090e+9}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09},
		},
		{
			name: "integer timestamps",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200,"end_time":1480615201}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200, EndTime: 1480615201},
		},
		{
			name: "end_time before start_time",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.09,"end_time":1480615200.01}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.09, EndTime: 1480615200.01},
		},
		{
			name: "old timestamps and trace id",
			in:   `{"trace_id":"1-00000010-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":16.5,"end_time":17}`,
			want: decoded{TraceID: "1-00000010-a006649127e371903a2de979", ID: seg, StartTime: 16.5, EndTime: 17},
		},
		{
			name: "Python-style embedded subsegment",
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"subsegments":[{"id":"0f910026178b71eb","name":"work","start_time":1480615200.02,"end_time":1480615200.03,"in_progress":false,"type":"subsegment","namespace":"local","trace_id":"1-58406520-a006649127e371903a2de979","parent_id":"70de5b6f19ff9a0a","cause":"e2ba8a2109451f5b"}]}`,
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09, ChildIDs: []string{sub}},
		},
		{
			name: "surrounding whitespace",
			in:   "\n\t {\"trace_id\":\"1-58406520-a006649127e371903a2de979\",\"id\":\"70de5b6f19ff9a0a\",\"name\":\"x\",\"start_time\":1480615200.01,\"end_time\":1480615200.09}\r\n",
			want: decoded{TraceID: tid, ID: seg, StartTime: 1480615200.01, EndTime: 1480615200.09},
		},
	}
}

func TestDecodeTolerated(t *testing.T) {
	t.Parallel()
	for _, tt := range toleratedTests() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			docs, errs := Decode([]byte(tt.in), 0)
			if len(errs) != 0 || len(docs) != 1 {
				t.Fatalf("Decode(%s) = %d docs, errors %v; want 1 doc, no errors", tt.in, len(docs), errs)
			}
			if diff := cmp.Diff(tt.want, summarize(docs[0])); diff != "" {
				t.Errorf("Decode(%s) mismatch (-want +got):\n%s", tt.in, diff)
			}
			if raw, want := docs[0].Raw, bytes.TrimSpace([]byte(tt.in)); !bytes.Equal(raw, want) {
				t.Errorf("Decode(%s): Raw = %s; want the document as sent", tt.in, raw)
			}
		})
	}
}

func TestDecodeArrayRaw(t *testing.T) {
	t.Parallel()
	a := `{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"1111111111111111","parent_id":"0f910026178b71eb","name":"a","start_time":1480615200.01,"end_time":1480615200.09}`
	b := `{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"2222222222222222","parent_id":"1111111111111111","name":"b","start_time":1480615200.02, "end_time":1480615200.03, "x":[1]}`
	in := "[" + a + " ,\n " + b + "]"
	docs, errs := Decode([]byte(in), 0)
	var got []string
	for _, d := range docs {
		got = append(got, string(d.Raw))
	}
	if want := []string{a, b}; len(errs) != 0 || !slices.Equal(got, want) {
		t.Errorf("Decode(%s): Raw of documents = %q, errors %v; want %q, none", in, got, errs, want)
	}
}

func TestDecodeMaxSize(t *testing.T) {
	t.Parallel()
	in := []byte(sized(1000))
	tests := []struct {
		max  int
		want outcome
	}{
		{max: 0, want: outcome{Accepted: []string{"70de5b6f19ff9a0a"}}},
		{max: -1, want: outcome{Accepted: []string{"70de5b6f19ff9a0a"}}},
		{max: 1000, want: outcome{Accepted: []string{"70de5b6f19ff9a0a"}}},
		{max: 999, want: outcome{Rejected: []rejected{{CodeTooLarge, "70de5b6f19ff9a0a"}}}},
	}
	for _, tt := range tests {
		docs, errs := Decode(in, tt.max)
		got := outcome{Rejected: rejections(errs)}
		for _, d := range docs {
			got.Accepted = append(got.Accepted, d.ID)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Decode(%s, %d) mismatch (-want +got):\n%s", abbreviate(in), tt.max, diff)
		}
	}
}

// errorMessageTests are the bodies TestErrorMessage checks, with the message
// Decode must reject them with.
func errorMessageTests() []struct{ in, want string } {
	return []struct{ in, want string }{
		{
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","end_time":1480615200.09}`,
			want: `Invalid segment. ErrorCode: MissingStartTime, Cause: start_time is missing ("x", id 70de5b6f19ff9a0a)`,
		},
		{
			in:   `{"type":"subsegment","trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","parent_id":"0f910026178b71eb","name":"a<b","start_time":1480615200.01,"end_time":1480615200.09}`,
			want: `Invalid subsegment. ErrorCode: InvalidName, Cause: name "a<b" has the character '<' at byte 1; allowed are letters, digits, whitespace and _ . : / % & # = + \ - @`,
		},
		{
			in:   `{"trace_id":"1-58406520-a006649127e371903a2de979","id":"70de5b6f19ff9a0a","name":"x","start_time":1480615200.01,"end_time":1480615200.09,"subsegments":[{"id":"0f910026178b71eb","name":"child","start_time":1480615200.02}]}`,
			want: `Invalid segment. ErrorCode: MissingEndTime, Cause: neither end_time nor in_progress: true is set ("child", id 0f910026178b71eb)`,
		},
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	for _, tt := range errorMessageTests() {
		_, errs := Decode([]byte(tt.in), 0)
		if len(errs) != 1 {
			t.Errorf("Decode(%s) = errors %v; want one", tt.in, errs)
			continue
		}
		if got := errs[0].Error(); got != tt.want {
			t.Errorf("Decode(%s).Error() = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestDecodeCodes checks that Codes lists every code Decode can return.
func TestDecodeCodes(t *testing.T) {
	t.Parallel()
	seen := map[ErrorCode]bool{}
	for _, c := range Codes {
		if seen[c] {
			t.Errorf("Codes lists %s twice", c)
		}
		seen[c] = true
	}
	for _, c := range []ErrorCode{
		CodeMissingID, CodeInvalidTraceID, CodeInvalidName, CodeMissingEndTime, CodeInvalidSegment, CodeInvalidID,
		CodeMissingStartTime, CodeMissingParentID, CodeInvalidJSON, CodeInvalidUTF8, CodeTooLarge, CodeEmpty,
	} {
		if !seen[c] {
			t.Errorf("Codes lacks %s", c)
		}
	}
}

// lambdaSegment is a realistic Lambda function segment, about 600 bytes.
const lambdaSegment = `{"id":"17e84e76450d1777","name":"xray-stuff-ProducerA","start_time":1699480919.9095895,"trace_id":"1-654c0557-5611b044040fc7224c4790b6","end_time":1699480920.1668363,"parent_id":"0285bf1261be05ff","aws":{"account_id":"123456789012","function_arn":"arn:aws:lambda:us-west-2:123456789012:function:xray-stuff-ProducerA","cloudwatch_logs":[{"log_group":"/aws/lambda/xray-stuff-ProducerA"}]},"origin":"AWS::Lambda::Function","subsegments":[{"id":"36297616ffd7bf54","name":"Initialization","start_time":1699480919.5493197,"end_time":1699480919.9040341},{"id":"7869f11198c79dd1","name":"Invocation","start_time":1699480919.9098928,"end_time":1699480920.1662896}]}`

func BenchmarkDecode(b *testing.B) {
	body := []byte(lambdaSegment)
	if docs, errs := Decode(body, 0); len(docs) != 1 || len(errs) != 0 {
		b.Fatalf("Decode(%s) = %v, %v; want one document", body, docs, errs)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		Decode(body, 0)
	}
}
