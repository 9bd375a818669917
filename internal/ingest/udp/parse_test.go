package udp_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/ingest/udp"
	"github.com/thawtrace/thaw/internal/segment"
)

const (
	testTraceID = "1-5f2aebcc-b475d14618c51eaa28753d37"
	headerTight = `{"format":"json","version":1}`    // Python, Node
	headerLoose = `{"format": "json", "version": 1}` // Go, Java, the docs
)

func segmentJSON(id string) string {
	return `{"trace_id":"` + testTraceID + `","id":"` + id + `","name":"svc","start_time":1596648396.1,"end_time":1596648396.2}`
}

func subsegmentJSON(id, parent string) string {
	return `{"type":"subsegment","trace_id":"` + testTraceID + `","id":"` + id + `","parent_id":"` + parent + `","name":"db","start_time":1596648396.1,"end_time":1596648396.2}`
}

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parsed is what a test compares of Parse's answer.
type parsed struct {
	IDs     []string
	Reasons []string
}

func parse(b []byte, truncated bool) parsed {
	docs, rejects := udp.Parse(b, truncated, segment.DefaultMaxDocumentSize)
	var p parsed
	for _, d := range docs {
		p.IDs = append(p.IDs, d.ID)
	}
	for _, r := range rejects {
		p.Reasons = append(p.Reasons, r.Reason)
	}
	return p
}

func TestParse(t *testing.T) {
	t.Parallel()
	seg := segmentJSON("6226467e3f845502")
	accepted := parsed{IDs: []string{"6226467e3f845502"}}
	rejected := func(reason string) parsed { return parsed{Reasons: []string{reason}} }
	for _, tc := range []struct {
		name      string
		datagram  string
		truncated bool
		want      parsed
	}{
		{"otel sample", string(readSample(t, "otel-udp-datagram-with-header.txt")), false, parsed{IDs: []string{"bda182a644eee9b3"}}},
		{"awsdocs sample", string(readSample(t, "awsdocs-udp-datagram-segment.txt")), false, accepted},
		{"header without spaces", headerTight + "\n" + seg, false, accepted},
		{"header with spaces", headerLoose + "\n" + seg, false, accepted},
		{"format in capitals", `{"format":"JSON","version":1}` + "\n" + seg, false, accepted},
		{"extra header fields", `{"format":"json","version":1,"sdk":"x"}` + "\n" + seg, false, accepted},
		{"CRLF after header", headerTight + "\r\n" + seg, false, accepted},
		{"trailing newlines", headerTight + "\n" + seg + "\n\n", false, accepted},
		{"independent subsegment", headerTight + "\n" + subsegmentJSON("00000000000000c1", "6226467e3f845502"), false, parsed{IDs: []string{"00000000000000c1"}}},

		{"no header, one line", seg, false, rejected(udp.ReasonNoHeader)},
		{"no header, pretty body", "{\n" + seg[1:], false, rejected(udp.ReasonBadHeader)},
		{"header only, no newline", headerTight, false, rejected(udp.ReasonNoHeader)},
		{"header only", headerTight + "\n", false, rejected(udp.ReasonEmptyBody)},
		{"header and blanks", headerTight + "\n \t\r\n", false, rejected(udp.ReasonEmptyBody)},
		{"wrong format", `{"format":"xml","version":1}` + "\n" + seg, false, rejected(udp.ReasonBadHeader)},
		{"wrong version", `{"format":"json","version":2}` + "\n" + seg, false, rejected(udp.ReasonBadHeader)},
		{"version as string", `{"format":"json","version":"1"}` + "\n" + seg, false, rejected(udp.ReasonBadHeader)},
		{"missing version", `{"format":"json"}` + "\n" + seg, false, rejected(udp.ReasonBadHeader)},
		{"header not JSON", `format=json version=1` + "\n" + seg, false, rejected(udp.ReasonBadHeader)},
		{"header null", "null\n" + seg, false, rejected(udp.ReasonBadHeader)},
		{"empty datagram", "", false, rejected(udp.ReasonNoHeader)},
		{"truncated read", headerTight + "\n" + seg, true, rejected(udp.ReasonTruncated)},
		{"body not UTF-8", headerTight + "\n" + strings.Replace(seg, "svc", "sv\xff", 1), false, rejected(string(segment.CodeInvalidUTF8))},
		{"body not JSON", headerTight + "\n" + seg[:40], false, rejected(string(segment.CodeInvalidJSON))},
		{"body of 64 KiB + 1", headerTight + "\n" + `{"pad":"` + strings.Repeat("x", segment.DefaultMaxDocumentSize+1-len(`{"pad":""}`)) + `"}`, false, rejected(string(segment.CodeTooLarge))},
		{"body of 64 KiB + 1, truncated read", headerTight + "\n" + strings.Repeat("x", segment.DefaultMaxDocumentSize+1), true, rejected(udp.ReasonTruncated)},
		{"body invalid segment", headerTight + "\n" + `{"trace_id":"` + testTraceID + `","name":"svc","start_time":1,"end_time":2}`, false, rejected(string(segment.CodeMissingID))},
		{
			// Every bad element of an array is counted, not just the first.
			"array with bad elements",
			headerTight + "\n[" + subsegmentJSON("00000000000000c1", "") + "," +
				subsegmentJSON("00000000000000c2", "6226467e3f845502") + "," +
				subsegmentJSON("not-hex", "6226467e3f845502") + "," +
				segmentJSON("00000000000000c4") + "]",
			false,
			parsed{
				IDs: []string{"00000000000000c2"},
				Reasons: []string{
					string(segment.CodeMissingParentID),
					string(segment.CodeInvalidID),
					string(segment.CodeInvalidSegment),
				},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := parse([]byte(tc.datagram), tc.truncated)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%.80q, truncated=%v) (-want +got):\n%s", tc.datagram, tc.truncated, diff)
			}
		})
	}
}

func TestParseDetail(t *testing.T) {
	t.Parallel()
	_, rejects := udp.Parse([]byte(`{"format":"json","version":2}`+"\n{}"), false, 0)
	if len(rejects) != 1 || !strings.Contains(rejects[0].Detail, `want format "json" and version 1`) {
		t.Errorf("Parse(version 2) rejections = %+v, want one whose detail says what the header must be", rejects)
	}
	_, rejects = udp.Parse([]byte(headerTight+"\n"+`{"trace_id":"`+testTraceID+`","id":"zz","name":"a","start_time":1,"end_time":2}`), false, 0)
	if len(rejects) != 1 || !strings.Contains(rejects[0].Detail, "trace_id="+testTraceID) {
		t.Errorf("Parse(bad id) rejections = %+v, want one whose detail names the trace id", rejects)
	}
}

// The documents Parse returns must not alias the read buffer, which the
// listener reuses for the next datagram.
func TestParseCopies(t *testing.T) {
	t.Parallel()
	buf := []byte(headerTight + "\n" + segmentJSON("6226467e3f845502"))
	docs, rejects := udp.Parse(buf, false, 0)
	if len(docs) != 1 || len(rejects) != 0 {
		t.Fatalf("Parse = %d docs, %+v; want one document", len(docs), rejects)
	}
	want := bytes.Clone(docs[0].Raw)
	for i := range buf {
		buf[i] = 'x'
	}
	if !bytes.Equal(docs[0].Raw, want) {
		t.Errorf("document Raw changed with the read buffer: %q", docs[0].Raw)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(readSample(f, "otel-udp-datagram-with-header.txt"), false)
	f.Add(readSample(f, "awsdocs-udp-datagram-segment.txt"), false)
	f.Add([]byte(headerTight+"\n["+subsegmentJSON("00000000000000c1", "6226467e3f845502")+"]"), false)
	f.Add([]byte(headerLoose+"\n"+`{"trace_id":"`+testTraceID+`","id":"6226467e3f845502","name":"a","start_time":1,"in_progress":true,"subsegments":[{"id":"00000000000000c1","name":"b","start_time":1,"end_time":2}]}`), false)
	f.Add([]byte(headerTight+"\n"), false)
	f.Add([]byte("garbage"), true)
	f.Fuzz(func(t *testing.T, b []byte, truncated bool) {
		docs, rejects := udp.Parse(b, truncated, 4096)
		if len(docs) == 0 && len(rejects) == 0 {
			t.Fatalf("Parse(%q) accepted nothing and rejected nothing", b)
		}
		if truncated && len(docs) > 0 {
			t.Fatalf("Parse(%q, truncated) accepted %d documents", b, len(docs))
		}
		for _, r := range rejects {
			if r.Reason == "" || r.Detail == "" {
				t.Errorf("Parse(%q): rejection %+v lacks a reason or detail", b, r)
			}
		}
		for _, d := range docs {
			if !json.Valid(d.Raw) {
				t.Errorf("Parse(%q) accepted document %s whose Raw is not JSON: %q", b, d.ID, d.Raw)
			}
			if _, err := segment.ParseTraceID(string(d.TraceID)); err != nil || d.ID == "" || d.Entity == nil {
				t.Errorf("Parse(%q) accepted a document without trace id, id or entity: %+v", b, d)
			}
		}
	})
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if err := udp.DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v, want nil", err)
	}
	if err := (udp.Config{Addr: "no-port"}).Validate(); err == nil {
		t.Error(`Config{Addr: "no-port"}.Validate() = nil, want an error`)
	}
}
