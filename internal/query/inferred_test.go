package query_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/query"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

func TestBatchGetTracesAddsInferredSegments(t *testing.T) {
	t.Parallel()
	const tid = "1-5f187253-6a106696d56b1f4ef9eba2ed"
	r := fakeReader{traceDocuments: func(context.Context, segment.TraceID) ([]segment.Document, error) {
		return docsOf(t,
			`{"trace_id":"`+tid+`","id":"a000000000000001","name":"fn","start_time":1,"end_time":9,"subsegments":[
				{"id":"b000000000000001","name":"dynamodb","namespace":"aws","start_time":2,"end_time":3.25,
				 "http":{"response":{"status":400}},"error":true,"aws":{"operation":"PutItem","table_name":"users","request_id":"R1"}}]}`), nil
	}}
	s := newService(t, query.DefaultConfig(), r)
	get := func() []xrayapi.Segment {
		out, err := s.BatchGetTraces(t.Context(), xrayapi.BatchGetTracesInput{TraceIDs: []string{tid}})
		if err != nil || len(out.Traces) != 1 {
			t.Fatalf("BatchGetTraces = %+v, %v; want one trace", out, err)
		}
		return out.Traces[0].Segments
	}
	segs := get()
	if len(segs) != 2 {
		t.Fatalf("got %d documents, want the segment and one inferred DynamoDB segment", len(segs))
	}
	var inferred map[string]any
	if err := json.Unmarshal([]byte(segs[1].Document), &inferred); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": segs[1].ID, "name": "DynamoDB", "trace_id": tid, "parent_id": "b000000000000001", "inferred": true,
		"origin": "AWS::DynamoDB::Table", "start_time": 2.0, "end_time": 3.25, "error": true,
		"http": map[string]any{"response": map[string]any{"status": 400.0}},
		"aws":  map[string]any{"operation": "PutItem", "table_name": "users", "request_id": "R1", "resource_names": []any{"users"}},
	}
	if diff := cmp.Diff(want, inferred); diff != "" {
		t.Errorf("inferred segment (-want +got):\n%s", diff)
	}
	if again := get(); again[1].ID != segs[1].ID {
		t.Errorf("inferred segment id changed between calls: %s then %s", segs[1].ID, again[1].ID)
	}
}
