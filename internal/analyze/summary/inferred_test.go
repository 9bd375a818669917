package summary

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/segment"
)

func TestInferredCalls(t *testing.T) {
	const tid = "1-5f187253-6a106696d56b1f4ef9eba2ed"
	docs := []string{
		// A function calling DynamoDB (with an SDK child subsegment that is
		// part of the call), a remote host, and an instrumented service.
		`{"trace_id":"` + tid + `","id":"a000000000000001","name":"fn","start_time":1,"end_time":9,"subsegments":[
			{"id":"b000000000000001","name":"dynamodb","namespace":"aws","start_time":2,"end_time":3,"aws":{"table_name":"users"},
			 "subsegments":[{"id":"b000000000000002","name":"attempt","namespace":"aws","start_time":2,"end_time":3}]},
			{"id":"b000000000000003","name":"api.example.com","namespace":"remote","start_time":4,"end_time":5},
			{"id":"b000000000000004","name":"backend","namespace":"remote","start_time":6,"end_time":8}]}`,
		`{"trace_id":"` + tid + `","id":"c000000000000001","name":"backend","parent_id":"b000000000000004","start_time":6.1,"end_time":7.9}`,
	}
	var ds []segment.Document
	for _, d := range docs {
		got, errs := segment.Decode([]byte(d), 0)
		if len(errs) > 0 {
			t.Fatalf("decode %s: %v", d, errs[0])
		}
		ds = append(ds, got...)
	}
	calls := InferredCalls(segment.Assemble(tid, ds))
	type call struct{ ID, Segment, Node, Type string }
	var got []call
	for _, c := range calls {
		got = append(got, call{c.Sub.ID, c.SegmentName, c.Node.Name, c.Node.Type})
	}
	want := []call{
		{"b000000000000001", "DynamoDB", "users", "AWS::DynamoDB::Table"},
		{"b000000000000003", "api.example.com", "api.example.com", TypeRemote},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("InferredCalls (-want +got):\n%s", diff)
	}
}
