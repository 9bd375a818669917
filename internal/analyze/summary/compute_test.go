package summary

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/thawtrace/thaw/internal/loadgen"
	"github.com/thawtrace/thaw/internal/segment"
)

const testTraceID = "1-5f29ab21-d4ebf299219a65bd5c31d6da"

// doc is a document of the test trace with the given fields.
func doc(fields string) string {
	return `{"trace_id":"` + testTraceID + `",` + fields + `}`
}

// buildTrace decodes each body and assembles the documents, as ingest and
// the store do. Segment documents over 64 KB (one in the Step Functions
// sample) are accepted: size limits are not what these tests are about.
func buildTrace(t testing.TB, bodies ...string) *segment.Trace {
	t.Helper()
	var docs []segment.Document
	for _, b := range bodies {
		got, errs := segment.Decode([]byte(b), 1<<20)
		if len(errs) > 0 {
			t.Fatalf("decode %s: %v", b, errs[0])
		}
		docs = append(docs, got...)
	}
	if len(docs) == 0 {
		t.Fatal("no documents")
	}
	return segment.Assemble(docs[0].TraceID, docs)
}

func summarize(t *testing.T, bodies ...string) Summary {
	t.Helper()
	return Compute(buildTrace(t, bodies...), 1)
}

var approx = cmpopts.EquateApprox(0, 1e-9)

func TestRoot(t *testing.T) {
	type root struct {
		EntryPoint   string
		StartTime    float64
		ResponseTime float64
		HasResponse  bool
		HTTP         *HTTP
	}
	tests := []struct {
		name string
		docs []string
		want root
	}{
		{
			name: "segment without parent_id",
			docs: []string{
				doc(`"id":"b000000000000001","name":"back","parent_id":"a000000000000002","start_time":11,"end_time":12`),
				doc(`"id":"a000000000000001","name":"front","origin":"AWS::EC2::Instance","start_time":10,"end_time":13,
					"http":{"request":{"method":"GET","url":"http://front/x","user_agent":"ua","client_ip":"1.2.3.4"},"response":{"status":200}},
					"subsegments":[{"id":"a000000000000002","name":"back","namespace":"remote","start_time":10.5,"end_time":12.5}]`),
			},
			want: root{
				EntryPoint: "AWS::EC2::Instance front", StartTime: 10, ResponseTime: 3, HasResponse: true,
				HTTP: &HTTP{HTTPURL: "http://front/x", HTTPStatus: 200, HTTPMethod: "GET", UserAgent: "ua", ClientIP: "1.2.3.4"},
			},
		},
		{
			name: "parent not in the trace (caller not sampled)",
			docs: []string{
				doc(`"id":"a000000000000001","name":"front","parent_id":"ffffffffffffffff","start_time":10,"end_time":12`),
			},
			want: root{EntryPoint: "front", StartTime: 10, ResponseTime: 2, HasResponse: true},
		},
		{
			name: "several qualify: earliest start wins",
			docs: []string{
				doc(`"id":"a000000000000001","name":"late","start_time":20,"end_time":21`),
				doc(`"id":"a000000000000002","name":"early","parent_id":"ffffffffffffffff","start_time":10,"end_time":15`),
			},
			want: root{EntryPoint: "early", StartTime: 10, ResponseTime: 5, HasResponse: true},
		},
		{
			name: "root in progress: no response time",
			docs: []string{
				doc(`"id":"a000000000000001","name":"front","start_time":10,"in_progress":true`),
			},
			want: root{EntryPoint: "front", StartTime: 10},
		},
		{
			name: "in-progress root replaced by its completed version",
			docs: []string{
				doc(`"id":"a000000000000001","name":"front","start_time":10,"in_progress":true`),
				doc(`"id":"a000000000000001","name":"front","start_time":10,"end_time":14`),
			},
			want: root{EntryPoint: "front", StartTime: 10, ResponseTime: 4, HasResponse: true},
		},
		{
			name: "orphans only: no root, start from the orphans",
			docs: []string{
				doc(`"type":"subsegment","id":"c000000000000001","name":"work","parent_id":"ffffffffffffffff","start_time":7,"end_time":8`),
				doc(`"type":"subsegment","id":"c000000000000002","name":"work","parent_id":"ffffffffffffffff","start_time":6,"end_time":7`),
			},
			want: root{StartTime: 6},
		},
		{
			name: "inferred segment is neither root nor start",
			docs: []string{
				doc(`"id":"e000000000000001","name":"DynamoDB","inferred":true,"origin":"AWS::DynamoDB::Table","parent_id":"ffffffffffffffff","start_time":5,"end_time":6`),
				doc(`"id":"a000000000000001","name":"front","start_time":10,"end_time":11`),
			},
			want: root{EntryPoint: "front", StartTime: 10, ResponseTime: 1, HasResponse: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(t, tt.docs...)
			got := root{StartTime: s.StartTime, ResponseTime: s.ResponseTime, HasResponse: s.HasResponse, HTTP: s.HTTP}
			if s.EntryPoint != nil {
				got.EntryPoint = nodeString(*s.EntryPoint)
			}
			if diff := cmp.Diff(tt.want, got, approx); diff != "" {
				t.Errorf("documents:\n%s\n(-want +got):\n%s", strings.Join(tt.docs, "\n"), diff)
			}
		})
	}
}

func TestTimes(t *testing.T) {
	type times struct {
		StartTime, EndTime, Duration float64
		HasDuration                  bool
		Events                       []Event
	}
	tests := []struct {
		name string
		docs []string
		want times
	}{
		{
			name: "end is the latest end of any entity, even past its parent",
			docs: []string{
				doc(`"id":"a000000000000001","name":"svc","start_time":10,"end_time":11,
					"subsegments":[{"id":"a000000000000002","name":"Attempt #1","start_time":10.5,"end_time":14}]`),
				doc(`"id":"b000000000000001","name":"next","parent_id":"a000000000000002","start_time":10.6,"end_time":13`),
			},
			want: times{StartTime: 10, EndTime: 14, Duration: 4, HasDuration: true,
				Events: []Event{{Start: 10, End: 11}, {Start: 10.6, End: 13}}},
		},
		{
			name: "orphans count towards the end but not the start",
			docs: []string{
				doc(`"id":"a000000000000001","name":"svc","start_time":10,"end_time":11`),
				doc(`"type":"subsegment","id":"c000000000000001","name":"late","parent_id":"ffffffffffffffff","start_time":9,"end_time":12`),
			},
			want: times{StartTime: 10, EndTime: 12, Duration: 2, HasDuration: true, Events: []Event{{Start: 10, End: 11}}},
		},
		{
			name: "in-progress entities are not ends",
			docs: []string{
				doc(`"id":"a000000000000001","name":"svc","start_time":10,"end_time":11,
					"subsegments":[{"id":"a000000000000002","name":"open","start_time":10.5,"in_progress":true}]`),
				doc(`"id":"b000000000000001","name":"other","start_time":10.2,"in_progress":true`),
			},
			want: times{StartTime: 10, EndTime: 11, Duration: 1, HasDuration: true,
				Events: []Event{{Start: 10, End: 11}, {Start: 10.2}}},
		},
		{
			name: "nothing completed: no duration",
			docs: []string{doc(`"id":"a000000000000001","name":"svc","start_time":10,"in_progress":true`)},
			want: times{StartTime: 10, Events: []Event{{Start: 10}}},
		},
		{
			name: "orphans only: start and events from the orphans",
			docs: []string{
				doc(`"type":"subsegment","id":"c000000000000001","name":"a","parent_id":"ffffffffffffffff","start_time":9,"end_time":12`),
				doc(`"type":"subsegment","id":"c000000000000002","name":"b","parent_id":"ffffffffffffffff","start_time":8,"end_time":9`),
			},
			want: times{StartTime: 8, EndTime: 12, Duration: 4, HasDuration: true,
				Events: []Event{{Start: 8, End: 9}, {Start: 9, End: 12}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(t, tt.docs...)
			got := times{s.StartTime, s.EndTime, s.Duration, s.HasDuration, s.Events}
			if diff := cmp.Diff(tt.want, got, approx); diff != "" {
				t.Errorf("documents:\n%s\n(-want +got):\n%s", strings.Join(tt.docs, "\n"), diff)
			}
		})
	}
}

func TestClassification(t *testing.T) {
	type flags struct{ Fault, Error, Throttle bool }
	// root returns a root segment with the given extra fields and one plain
	// subsegment, a000000000000002, for downstream segments to hang from.
	root := func(extra string) string {
		if extra != "" {
			extra = "," + extra
		}
		return doc(`"id":"a000000000000001","name":"front","start_time":10,"end_time":11` + extra + `,
			"subsegments":[{"id":"a000000000000002","name":"call","namespace":"remote","start_time":10.1,"end_time":10.9}]`)
	}
	status := func(code int) string { return fmt.Sprintf(`"http":{"response":{"status":%d}}`, code) }
	tests := []struct {
		name string
		docs []string
		want flags
	}{
		{"200", []string{root(status(200))}, flags{}},
		{"no http", []string{root("")}, flags{}},
		{"root 404 is an error", []string{root(status(404))}, flags{Error: true}},
		{"root 499 is an error", []string{root(status(499))}, flags{Error: true}},
		{"root 500 is a fault", []string{root(status(500))}, flags{Fault: true}},
		{"root 503 is a fault", []string{root(status(503))}, flags{Fault: true}},
		{"root 429 is an error and a throttle", []string{root(status(429))}, flags{Error: true, Throttle: true}},
		{"root 399 is fine", []string{root(status(399))}, flags{}},
		{"root 600 is fine", []string{root(status(600))}, flags{}},
		{"error flag", []string{root(`"error":true`)}, flags{Error: true}},
		{"fault flag", []string{root(`"fault":true`)}, flags{Fault: true}},
		{"throttle flag counts as error", []string{root(`"throttle":true`)}, flags{Error: true, Throttle: true}},
		{"fault and error flags both reported", []string{root(`"fault":true,"error":true`)}, flags{Fault: true, Error: true}},
		{"flag beats status", []string{root(`"fault":true,` + status(200))}, flags{Fault: true}},
		{
			"subsegment 500 is not the root's fault",
			[]string{doc(`"id":"a000000000000001","name":"front","start_time":10,"end_time":11,
				"subsegments":[{"id":"a000000000000002","name":"x","start_time":10,"end_time":11,"fault":true,"http":{"response":{"status":500}}}]`)},
			flags{},
		},
		{
			"downstream segment fault is not the root's",
			[]string{root(status(200)), doc(`"id":"b000000000000001","name":"back","parent_id":"a000000000000002","start_time":10.2,"end_time":10.8,` + status(500))},
			flags{},
		},
		{
			"throttle anywhere: subsegment 429",
			[]string{doc(`"id":"a000000000000001","name":"front","start_time":10,"end_time":11,
				"subsegments":[{"id":"a000000000000002","name":"DynamoDB","namespace":"aws","start_time":10,"end_time":11,"error":true,"http":{"response":{"status":429}}}]`)},
			flags{Throttle: true},
		},
		{
			"throttle anywhere: nested subsegment flag",
			[]string{doc(`"id":"a000000000000001","name":"front","start_time":10,"end_time":11,
				"subsegments":[{"id":"a000000000000002","name":"x","start_time":10,"end_time":11,
					"subsegments":[{"id":"a000000000000003","name":"y","start_time":10,"end_time":11,"throttle":true}]}]`)},
			flags{Throttle: true},
		},
		{
			"throttle anywhere: downstream segment",
			[]string{root(status(200)), doc(`"id":"b000000000000001","name":"back","parent_id":"a000000000000002","start_time":10.2,"end_time":10.8,` + status(429))},
			flags{Throttle: true},
		},
		{
			"throttle anywhere: orphan",
			[]string{root(""), doc(`"type":"subsegment","id":"c000000000000001","name":"x","parent_id":"ffffffffffffffff","start_time":10,"end_time":11,"throttle":true`)},
			flags{Throttle: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(t, tt.docs...)
			got := flags{s.HasFault, s.HasError, s.HasThrottle}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("documents:\n%s\n(-want +got):\n%s", strings.Join(tt.docs, "\n"), diff)
			}
		})
	}
}

func TestPartial(t *testing.T) {
	front := func(sub string) string {
		return doc(`"id":"a000000000000001","name":"front","start_time":10,"end_time":11,"subsegments":[` + sub + `]`)
	}
	back := doc(`"id":"b000000000000001","name":"back","parent_id":"a000000000000002","start_time":10.2,"end_time":10.8`)
	traced := `{"id":"a000000000000002","name":"back","namespace":"remote","start_time":10.1,"end_time":10.9,
		"http":{"request":{"url":"http://back/","method":"GET","traced":true},"response":{"status":200}}}`
	tests := []struct {
		name string
		docs []string
		want bool
	}{
		{"complete", []string{front(`{"id":"a000000000000002","name":"x","start_time":10,"end_time":11}`)}, false},
		{"segment in progress", []string{doc(`"id":"a000000000000001","name":"front","start_time":10,"in_progress":true`)}, true},
		{"subsegment in progress", []string{front(`{"id":"a000000000000002","name":"x","start_time":10,"in_progress":true}`)}, true},
		{
			"independent subsegment in progress",
			[]string{front(`{"id":"a000000000000002","name":"x","start_time":10,"end_time":11}`),
				doc(`"type":"subsegment","id":"c000000000000001","name":"y","parent_id":"a000000000000002","start_time":10,"in_progress":true`)},
			true,
		},
		{
			"independent subsegment attached",
			[]string{front(`{"id":"a000000000000002","name":"x","start_time":10,"end_time":11}`),
				doc(`"type":"subsegment","id":"c000000000000001","name":"y","parent_id":"a000000000000002","start_time":10,"end_time":11`)},
			false,
		},
		{
			"orphan: parent never arrived",
			[]string{front(`{"id":"a000000000000002","name":"x","start_time":10,"end_time":11}`),
				doc(`"type":"subsegment","id":"c000000000000001","name":"y","parent_id":"ffffffffffffffff","start_time":10,"end_time":11`)},
			true,
		},
		{"traced call, downstream segment missing", []string{front(traced)}, true},
		{"traced call, downstream segment present", []string{front(traced), back}, false},
		{
			"traced at the top level (spec §2.4), downstream missing",
			[]string{front(`{"id":"a000000000000002","name":"back","namespace":"remote","traced":true,"start_time":10.1,"end_time":10.9}`)},
			true,
		},
		{
			"traced call inside an aws call, downstream missing",
			[]string{front(`{"id":"a000000000000003","name":"Lambda","namespace":"aws","start_time":10,"end_time":11,"subsegments":[` + traced + `]}`)},
			true,
		},
		{
			"untraced call without downstream segment",
			[]string{front(`{"id":"a000000000000002","name":"api.example.com","namespace":"remote","start_time":10,"end_time":11,
				"http":{"request":{"url":"https://api.example.com/"}}}`)},
			false,
		},
		{
			"an inferred segment is no downstream segment",
			[]string{front(traced), doc(`"id":"e000000000000001","name":"back","inferred":true,"parent_id":"a000000000000002","start_time":10.1,"end_time":10.9`)},
			true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(t, tt.docs...).IsPartial; got != tt.want {
				t.Errorf("documents:\n%s\nIsPartial = %v, want %v", strings.Join(tt.docs, "\n"), got, tt.want)
			}
		})
	}
}

func TestAnnotations(t *testing.T) {
	str := func(s string) AnnotationValue { return AnnotationValue{StringValue: &s} }
	num := func(f float64) AnnotationValue { return AnnotationValue{NumberValue: &f} }
	boolean := func(b bool) AnnotationValue { return AnnotationValue{BooleanValue: &b} }
	node := func(name, typ string) ServiceID { return ServiceID{Name: name, Names: []string{name}, Type: typ} }
	tests := []struct {
		name string
		docs []string
		want map[string][]ValueWithServiceIDs
	}{
		{
			name: "strings, numbers and booleans only",
			docs: []string{doc(`"id":"a000000000000001","name":"svc","start_time":10,"end_time":11,
				"annotations":{"s":"x","n":12.5,"b":false,"o":{"k":1},"a":[1],"z":null}`)},
			want: map[string][]ValueWithServiceIDs{
				"s": {{AnnotationValue: str("x"), ServiceIDs: []ServiceID{node("svc", "")}}},
				"n": {{AnnotationValue: num(12.5), ServiceIDs: []ServiceID{node("svc", "")}}},
				"b": {{AnnotationValue: boolean(false), ServiceIDs: []ServiceID{node("svc", "")}}},
			},
		},
		{
			name: "distinct values, in the order met, each with the nodes that carried it",
			docs: []string{
				doc(`"id":"a000000000000001","name":"front","origin":"AWS::EC2::Instance","start_time":10,"end_time":11,
					"annotations":{"k":"one"},
					"subsegments":[{"id":"a000000000000002","name":"sub","start_time":10.1,"end_time":10.2,"annotations":{"k":1}},
						{"id":"a000000000000003","name":"sub","start_time":10.3,"end_time":10.4,"annotations":{"k":"one"}}]`),
				doc(`"id":"b000000000000001","name":"back","start_time":10.5,"end_time":10.9,"annotations":{"k":"one"}`),
				doc(`"id":"b000000000000002","name":"back","start_time":10.6,"end_time":10.9,"annotations":{"k":true}`),
			},
			want: map[string][]ValueWithServiceIDs{
				"k": {
					{AnnotationValue: str("one"), ServiceIDs: []ServiceID{node("back", ""), node("front", "AWS::EC2::Instance")}},
					{AnnotationValue: num(1), ServiceIDs: []ServiceID{node("front", "AWS::EC2::Instance")}},
					{AnnotationValue: boolean(true), ServiceIDs: []ServiceID{node("back", "")}},
				},
			},
		},
		{
			name: "subsegments of a Lambda function count for its node; orphans for none",
			docs: []string{
				doc(`"id":"a000000000000001","name":"fn","origin":"AWS::Lambda::Function","aws":{"account_id":"123456789012"},"start_time":10,"end_time":11,
					"subsegments":[{"id":"a000000000000002","name":"Invocation","start_time":10,"end_time":11}]`),
				doc(`"type":"subsegment","id":"c000000000000001","name":"handler","parent_id":"a000000000000002","start_time":10,"end_time":11,"annotations":{"k":"attached"}`),
				doc(`"type":"subsegment","id":"c000000000000002","name":"handler","parent_id":"ffffffffffffffff","start_time":10,"end_time":11,"annotations":{"k":"orphan"}`),
			},
			want: map[string][]ValueWithServiceIDs{
				"k": {
					{AnnotationValue: str("attached"), ServiceIDs: []ServiceID{{Name: "fn", Names: []string{"fn"}, Type: "AWS::Lambda::Function", AccountID: "123456789012"}}},
					{AnnotationValue: str("orphan")},
				},
			},
		},
		{
			name: "none",
			docs: []string{doc(`"id":"a000000000000001","name":"svc","start_time":10,"end_time":11`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(t, tt.docs...).Annotations
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("documents:\n%s\n(-want +got):\n%s", strings.Join(tt.docs, "\n"), diff)
			}
		})
	}
}

func TestAnnotationKeyCap(t *testing.T) {
	annotations := func(prefix string, n int) string {
		var kv []string
		for i := range n {
			kv = append(kv, fmt.Sprintf(`"%s%02d":%d`, prefix, i, i))
		}
		return "{" + strings.Join(kv, ",") + "}"
	}
	keys := func(prefix string, from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("%s%02d", prefix, i))
		}
		return out
	}
	tests := []struct {
		name string
		docs []string
		want []string
	}{
		{
			name: "60 keys on one entity: the first 50 in key order",
			docs: []string{doc(`"id":"a000000000000001","name":"svc","start_time":10,"end_time":11,"annotations":` + annotations("k", 60))},
			want: keys("k", 0, 50),
		},
		{
			name: "first met wins: the earlier segment's keys, then the later's",
			docs: []string{
				doc(`"id":"b000000000000001","name":"late","start_time":12,"end_time":13,"annotations":` + annotations("b", 30)),
				doc(`"id":"a000000000000001","name":"early","start_time":10,"end_time":11,"annotations":` + annotations("a", 30)),
			},
			want: append(keys("a", 0, 30), keys("b", 0, 20)...),
		},
		{
			name: "exactly 50",
			docs: []string{doc(`"id":"a000000000000001","name":"svc","start_time":10,"end_time":11,"annotations":` + annotations("k", 50))},
			want: keys("k", 0, 50),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for k := range summarize(t, tt.docs...).Annotations {
				got = append(got, k)
			}
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("kept keys still collect values after the cap is reached", func(t *testing.T) {
		s := summarize(t,
			doc(`"id":"a000000000000001","name":"a","start_time":10,"end_time":11,"annotations":`+annotations("k", 50)),
			doc(`"id":"b000000000000001","name":"b","start_time":11,"end_time":12,"annotations":{"k00":"again","new":1}`),
		)
		if _, ok := s.Annotations["new"]; ok {
			t.Errorf("key over the cap was kept: %v", s.Annotations["new"])
		}
		if got := len(s.Annotations["k00"]); got != 2 {
			t.Errorf("k00 has %d values, want 2 (0 and \"again\")", got)
		}
	})
}

func TestServiceIDs(t *testing.T) {
	tests := []struct {
		name string
		docs []string
		want []string // nodeString of each, in order: by name, type, account
	}{
		{
			name: "instrumented identity is name, origin and account",
			docs: []string{
				doc(`"id":"a000000000000001","name":"svc","origin":"AWS::EC2::Instance","start_time":10,"end_time":11`),
				doc(`"id":"a000000000000002","name":"svc","origin":"AWS::EC2::Instance","start_time":11,"end_time":12`),
				doc(`"id":"a000000000000003","name":"svc","origin":"AWS::EC2::Instance","aws":{"account_id":"222222222222"},"start_time":12,"end_time":13`),
				doc(`"id":"a000000000000004","name":"svc","start_time":13,"end_time":14`),
			},
			want: []string{"svc", "AWS::EC2::Instance svc", "AWS::EC2::Instance svc 222222222222"},
		},
		{
			name: "only the outermost aws call makes a node",
			docs: []string{doc(`"id":"a000000000000001","name":"svc","start_time":10,"end_time":11,
				"subsegments":[{"id":"a000000000000002","name":"handler","start_time":10,"end_time":11,
					"subsegments":[{"id":"a000000000000003","name":"dynamodb","namespace":"aws","aws":{"table_name":"t1"},"start_time":10,"end_time":11,
						"subsegments":[{"id":"a000000000000004","name":"attempt","start_time":10,"end_time":11,
							"subsegments":[{"id":"a000000000000005","name":"sts","namespace":"aws","start_time":10,"end_time":11},
								{"id":"a000000000000006","name":"inner.example.com","namespace":"remote","start_time":10,"end_time":11}]}]}]}]`)},
			want: []string{"svc", "AWS::DynamoDB::Table t1"},
		},
		{
			name: "a call with a downstream segment makes no inferred node",
			docs: []string{
				doc(`"id":"a000000000000001","name":"api","origin":"AWS::ApiGateway::Stage","start_time":10,"end_time":11,
					"subsegments":[{"id":"a000000000000002","name":"Lambda","namespace":"aws","aws":{"operation":"Invoke","function_name":"other"},"start_time":10,"end_time":11}]`),
				doc(`"id":"b000000000000001","name":"fn","origin":"AWS::Lambda","parent_id":"a000000000000002","start_time":10.1,"end_time":10.9`),
			},
			want: []string{"AWS::ApiGateway::Stage api", "AWS::Lambda fn"},
		},
		{
			name: "remote HTTP and SQL; local and unnamed namespaces make none",
			docs: []string{doc(`"id":"a000000000000001","name":"svc","start_time":10,"end_time":11,
				"subsegments":[{"id":"a000000000000002","name":"api.example.com","namespace":"remote","http":{"request":{"url":"https://api.example.com/"}},"start_time":10,"end_time":11},
					{"id":"a000000000000003","name":"ebdb@db.example.com","namespace":"remote","sql":{"url":"jdbc:postgresql://db.example.com:5432/ebdb"},"start_time":10,"end_time":11},
					{"id":"a000000000000004","name":"compute","namespace":"local","start_time":10,"end_time":11},
					{"id":"a000000000000005","name":"misc","namespace":"invalidNs","start_time":10,"end_time":11},
					{"id":"a000000000000006","name":"plain","start_time":10,"end_time":11}]`)},
			want: []string{"remote api.example.com", "Database::SQL ebdb@db.example.com", "svc"},
		},
		{
			name: "the same resource called twice is one node",
			docs: []string{doc(`"id":"a000000000000001","name":"svc","start_time":10,"end_time":11,
				"subsegments":[{"id":"a000000000000002","name":"DynamoDB","namespace":"aws","aws":{"table_name":"t"},"start_time":10,"end_time":11},
					{"id":"a000000000000003","name":"dynamodb","namespace":"aws","aws":{"table_name":"t"},"start_time":10,"end_time":11}]`)},
			want: []string{"svc", "AWS::DynamoDB::Table t"},
		},
		{
			name: "an orphan's call is still a node",
			docs: []string{doc(`"type":"subsegment","id":"c000000000000001","name":"SNS","namespace":"aws","parent_id":"ffffffffffffffff","start_time":10,"end_time":11`)},
			want: []string{"AWS::SNS SNS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, id := range summarize(t, tt.docs...).ServiceIDs {
				got = append(got, nodeString(id))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("documents:\n%s\n(-want +got):\n%s", strings.Join(tt.docs, "\n"), diff)
			}
		})
	}
}

func TestResourceFields(t *testing.T) {
	type fields struct {
		Users                          []User
		ResourceARNs                   []string
		InstanceIDs, AvailabilityZones []string
	}
	node := func(name, typ string) ServiceID { return ServiceID{Name: name, Names: []string{name}, Type: typ} }
	tests := []struct {
		name string
		docs []string
		want fields
	}{
		{
			name: "distinct and sorted, from segments only",
			docs: []string{
				doc(`"id":"a000000000000001","name":"web","origin":"AWS::EC2::Instance","user":"bob","resource_arn":"arn:b",
					"aws":{"ec2":{"instance_id":"i-2","availability_zone":"us-east-1b"}},"start_time":10,"end_time":11`),
				doc(`"id":"a000000000000002","name":"web","origin":"AWS::EC2::Instance","user":"alice","resource_arn":"arn:a",
					"aws":{"ec2":{"instance_id":"i-1","availability_zone":"us-east-1a"}},"start_time":11,"end_time":12`),
				doc(`"id":"a000000000000003","name":"task","origin":"AWS::ECS::Container","user":"bob","resource_arn":"arn:b",
					"aws":{"ecs":{"container":"c","availability_zone":"us-east-1c"}},"start_time":12,"end_time":13`),
				doc(`"type":"subsegment","id":"c000000000000001","name":"x","parent_id":"ffffffffffffffff","user":"orphan","resource_arn":"arn:orphan","start_time":10,"end_time":11`),
			},
			want: fields{
				Users: []User{
					{UserName: "alice", ServiceIDs: []ServiceID{node("web", "AWS::EC2::Instance")}},
					{UserName: "bob", ServiceIDs: []ServiceID{node("task", "AWS::ECS::Container"), node("web", "AWS::EC2::Instance")}},
				},
				ResourceARNs:      []string{"arn:a", "arn:b"},
				InstanceIDs:       []string{"i-1", "i-2"},
				AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
			},
		},
		{
			name: "none",
			docs: []string{doc(`"id":"a000000000000001","name":"web","start_time":10,"end_time":11`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(t, tt.docs...)
			got := fields{s.Users, s.ResourceARNs, s.InstanceIDs, s.AvailabilityZones}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("documents:\n%s\n(-want +got):\n%s", strings.Join(tt.docs, "\n"), diff)
			}
		})
	}
}

func TestColdStart(t *testing.T) {
	function := func(id string, start int, subs ...string) string {
		var parts []string
		for i, name := range subs {
			parts = append(parts, fmt.Sprintf(`{"id":"%s%d","name":%q,"start_time":%d,"end_time":%d.5}`, id[:15], i+2, name, start, start))
		}
		return doc(fmt.Sprintf(`"id":%q,"name":"fn","origin":"AWS::Lambda::Function","start_time":%d,"end_time":%d.9,"subsegments":[%s]`,
			id, start, start, strings.Join(parts, ",")))
	}
	service := doc(`"id":"a000000000000001","name":"fn","origin":"AWS::Lambda","start_time":9,"end_time":30`)
	annotated := func(v string) string {
		return doc(`"type":"subsegment","id":"c000000000000001","name":"## handler","parent_id":"ffffffffffffffff","start_time":10,"end_time":11,"annotations":{"ColdStart":` + v + `}`)
	}
	tests := []struct {
		name string
		docs []string
		want string // coldString
	}{
		{"Initialization subsegment", []string{service, function("b000000000000001", 10, "Initialization", "Invocation", "Overhead")}, "true/initialization-subsegment"},
		{"Restore subsegment (SnapStart)", []string{service, function("b000000000000001", 10, "Restore", "Invocation", "Overhead")}, "true/restore-subsegment"},
		{"function segment without either: warm", []string{service, function("b000000000000001", 10, "Invocation", "Overhead")}, "false/platform-segments"},
		{
			"any cold invocation makes the trace cold",
			[]string{function("b000000000000001", 10, "Invocation"), function("b000000000000002", 20, "Initialization", "Invocation")},
			"true/initialization-subsegment",
		},
		{
			"the earliest cold invocation names the source",
			[]string{function("b000000000000001", 20, "Initialization", "Invocation"), function("b000000000000002", 10, "Restore", "Invocation")},
			"true/restore-subsegment",
		},
		{
			"Initialization deeper than the function segment does not count",
			[]string{doc(`"id":"b000000000000001","name":"fn","origin":"AWS::Lambda::Function","start_time":10,"end_time":11,
				"subsegments":[{"id":"b000000000000002","name":"Invocation","start_time":10,"end_time":11,
					"subsegments":[{"id":"b000000000000003","name":"Initialization","start_time":10,"end_time":11}]}]`)},
			"false/platform-segments",
		},
		{"platform segments outrank the annotation", []string{function("b000000000000001", 10, "Invocation"), annotated("true")}, "false/platform-segments"},
		{"only the service segment: annotation true", []string{service, annotated("true")}, "true/annotation"},
		{"annotation false", []string{annotated("false")}, "false/annotation"},
		{
			"any annotation true wins",
			[]string{annotated("false"), doc(`"type":"subsegment","id":"c000000000000002","name":"## handler","parent_id":"ffffffffffffffff","start_time":12,"end_time":13,"annotations":{"ColdStart":true}`)},
			"true/annotation",
		},
		{"annotation that is not a boolean", []string{annotated(`"true"`)}, ""},
		{"nothing to go by", []string{service}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := coldString(summarize(t, tt.docs...)); got != tt.want {
				t.Errorf("documents:\n%s\ncold start = %q, want %q", strings.Join(tt.docs, "\n"), got, tt.want)
			}
		})
	}
}

// TestComputeIndependentOfArrivalOrder checks that the summary depends on
// the documents, not on the order they arrived in, and that Compute leaves
// the trace as it found it.
func TestComputeIndependentOfArrivalOrder(t *testing.T) {
	for _, name := range goldenSamples {
		t.Run(name, func(t *testing.T) {
			bodies := sampleBodies(t, name)
			tr := buildTrace(t, bodies...)
			want := Compute(tr, 3)
			if again := Compute(tr, 3); !cmp.Equal(want, again) {
				t.Fatalf("second Compute differs:\n%s", cmp.Diff(want, again))
			}
			slices.Reverse(bodies)
			if diff := cmp.Diff(want, Compute(buildTrace(t, bodies...), 3)); diff != "" {
				t.Errorf("summary depends on document order (-in order +reversed):\n%s", diff)
			}
		})
	}
}

// BenchmarkCompute measures a summary, which the embedded store computes for
// every trace written: of a typical serverless trace from loadgen (API
// Gateway, Lambda, DynamoDB and an HTTP API; 6 documents), and of the
// 31-segment Step Functions sample.
func BenchmarkCompute(b *testing.B) {
	for _, bc := range benchTraces(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Compute(bc.trace, 1)
			}
		})
	}
}

// BenchmarkInferredCalls measures InferredCalls on the traces of
// BenchmarkCompute.
func BenchmarkInferredCalls(b *testing.B) {
	for _, bc := range benchTraces(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				InferredCalls(bc.trace)
			}
		})
	}
}

type benchTrace struct {
	name  string
	trace *segment.Trace
}

func benchTraces(b *testing.B) []benchTrace {
	return []benchTrace{
		{"loadgen", loadgenTrace(b)},
		{"stepfunctions", loadSample(b, "iatk-stepfunctions-express-trace.json")},
	}
}

// loadgenTrace assembles the first trace of loadgen's seed 1, as ingest
// decodes and the store assembles it.
func loadgenTrace(b *testing.B) *segment.Trace {
	b.Helper()
	tr := loadgen.New(1).Trace(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	var docs []segment.Document
	for _, raw := range tr.Docs {
		got, errs := segment.Decode(raw, 0)
		if len(errs) > 0 {
			b.Fatalf("decode %s: %v", raw, errs[0])
		}
		docs = append(docs, got...)
	}
	return segment.Assemble(segment.TraceID(tr.ID), docs)
}
