package summary

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/segment"
)

// chainOf renders a root cause as "service[entity entity] > service[...]".
func chainOf(rc RootCause) string {
	s := ""
	for i, svc := range rc.Services {
		if i > 0 {
			s += " > "
		}
		s += svc.Name
		if svc.Inferred {
			s += "(inferred)"
		}
		s += "["
		for j, e := range svc.EntityPath {
			if j > 0 {
				s += " "
			}
			s += e.Name
			for _, x := range e.Exceptions {
				s += "!" + x.Name
			}
		}
		s += "]"
	}
	return s
}

func TestRootCauses(t *testing.T) {
	const tid = "1-5f187253-6a106696d56b1f4ef9eba2ed"
	front := `{"trace_id":"` + tid + `","id":"a000000000000001","name":"front","start_time":10,"end_time":11,"fault":true,"subsegments":[
		{"id":"a000000000000002","name":"back-call","namespace":"remote","start_time":10.1,"end_time":10.9,"fault":true},
		{"id":"a000000000000003","name":"dynamodb","namespace":"aws","start_time":10.05,"end_time":10.08,"error":true,"aws":{"table_name":"users"},
		 "cause":{"exceptions":[{"id":"e000000000000001","type":"ConditionalCheckFailedException","message":"nope","remote":true}]}}]}`
	back := `{"trace_id":"` + tid + `","id":"b000000000000001","name":"back","parent_id":"a000000000000002","start_time":10.15,"end_time":10.85,"fault":true,
		"subsegments":[{"id":"b000000000000002","name":"query","start_time":10.2,"end_time":10.8,"fault":true,
		"cause":{"exceptions":[{"id":"e000000000000002","type":"Timeout","message":"db slow"}]}}]}`
	var docs []segment.Document
	for _, raw := range []string{front, back} {
		ds, errs := segment.Decode([]byte(raw), 0)
		if len(errs) > 0 {
			t.Fatalf("decode: %v", errs[0])
		}
		docs = append(docs, ds...)
	}
	s := Compute(segment.Assemble(tid, docs), 1)

	got := map[string][]string{}
	for kind, list := range map[string][]RootCause{"fault": s.FaultRootCauses, "error": s.ErrorRootCauses, "responsetime": s.ResponseTimeRootCauses} {
		for _, rc := range list {
			if !rc.ClientImpacting && kind != "error" {
				t.Errorf("%s root cause %s is not client-impacting, but the root has the classification", kind, chainOf(rc))
			}
			got[kind] = append(got[kind], chainOf(rc))
		}
	}
	want := map[string][]string{
		// The deepest fault is the query in the back service, reached
		// through front's call; front's own flags do not make it a cause.
		"fault": {"front[front back-call] > back[back query!Timeout]"},
		// A DynamoDB error with no segment of its own ends in its inferred
		// table node.
		"error": {"front[front dynamodb!ConditionalCheckFailedException] > users(inferred)[DynamoDB!ConditionalCheckFailedException]"},
		// Down the longest child while it covers at least 10 %.
		"responsetime": {"front[front back-call] > back[back query]"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("root causes (-want +got):\n%s", diff)
	}
	if s.ErrorRootCauses[0].ClientImpacting {
		t.Error("error root cause is client-impacting, but the root segment has no error")
	}
	rt := s.ResponseTimeRootCauses[0].Services[1].EntityPath[1]
	if rt.Coverage == nil || *rt.Coverage != 0.6 {
		t.Errorf("coverage of the query = %v, want 0.6 (0.6 s of the root's 1 s)", rt.Coverage)
	}
}
