package xrayapi

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// oraclePutBody is what encoding/json makes of a body.
func oraclePutBody(body []byte) ([][]byte, error) {
	var in PutTraceSegmentsInput
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	docs := make([][]byte, len(in.TraceSegmentDocuments))
	for i, d := range in.TraceSegmentDocuments {
		docs[i] = []byte(d)
	}
	return docs, nil
}

var putBodies = []string{
	`{"TraceSegmentDocuments":["{\"id\":\"a\",\"name\":\"x\"}","{}"]}`,
	" { \"TraceSegmentDocuments\" : [ \"a\\\\b\\/c\\n\\t\\r\\b\\f\" , \"\\u00e9\\u20AC\\ud83d\\ude00\" ] } \n",
	`{"TraceSegmentDocuments":[]}`,
	`{"TraceSegmentDocuments":["é€😀 raw utf-8"]}`,
	`{"TraceSegmentDocuments":["lone \ud800 surrogate"]}`,
	`{"TraceSegmentDocuments":["bad \x escape"]}`,
	`{"TraceSegmentDocuments":["ctl` + "\x01" + `"]}`,
	`{"TraceSegmentDocuments":["a"],"Other":1}`,
	`{"traceSegmentDocuments":["case folded key"]}`,
	`{"TraceSegmentDocuments":null}`,
	`{"TraceSegmentDocuments":["a",]}`,
	`{"TraceSegmentDocuments":["a"]`,
	`{"TraceSegmentDocuments":["unterminated]}`,
	"{\"TraceSegmentDocuments\":[\"invalid utf-8 \xff\"]}",
	`[]`,
	``,
}

func TestDecodePutBodyAgreesWithEncodingJSON(t *testing.T) {
	for _, body := range putBodies {
		got, gotErr := decodePutBody([]byte(body))
		want, wantErr := oraclePutBody([]byte(body))
		if (gotErr != nil) != (wantErr != nil) {
			t.Errorf("body %q: error %v, encoding/json says %v", body, gotErr, wantErr)
			continue
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("body %q (-encoding/json +decodePutBody):\n%s", body, diff)
		}
	}
}

func FuzzDecodePutBody(f *testing.F) {
	for _, b := range putBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := decodePutBody(body)
		want, wantErr := oraclePutBody(body)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("body %q: error %v, encoding/json says %v", body, gotErr, wantErr)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("body %q (-encoding/json +decodePutBody):\n%s", body, diff)
		}
	})
}

func BenchmarkDecodePutBody(b *testing.B) {
	doc := `{"id":"70de5b6f19ff9a0a","name":"register","start_time":1.7e9,"end_time":1.7e9,"trace_id":"1-5759e988-bd862e3fe1be46a994272793","http":{"request":{"method":"POST","url":"https://x/register"},"response":{"status":200}},"annotations":{"user":"u-1"},"metadata":{"default":{"k":"v"}}}`
	docs := make([]string, 50)
	for i := range docs {
		docs[i] = doc
	}
	body, _ := json.Marshal(PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodePutBody(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := oraclePutBody(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
