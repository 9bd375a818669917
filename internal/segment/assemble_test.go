package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const asmTrace TraceID = "1-654c0557-5611b044040fc7224c4790b6"

// doc returns an entity document of trace asmTrace. fields is the rest of
// the JSON object, without braces.
func doc(id, name string, start, end float64, fields string) string {
	s := fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":%q,"start_time":%v`, asmTrace, id, name, start)
	if end != 0 {
		s += fmt.Sprintf(`,"end_time":%v`, end)
	} else {
		s += `,"in_progress":true`
	}
	if fields != "" {
		s += "," + fields
	}
	return s + "}"
}

// sub returns an independent subsegment document.
func sub(id, parent, name string, start, end float64, fields string) string {
	f := fmt.Sprintf(`"type":"subsegment","parent_id":%q`, parent)
	if fields != "" {
		f += "," + fields
	}
	return doc(id, name, start, end, f)
}

// decodeAll decodes bodies that must all be accepted.
func decodeAll(t *testing.T, bodies []string) []Document {
	t.Helper()
	var docs []Document
	for _, b := range bodies {
		ds, errs := Decode([]byte(b), 0)
		if len(errs) != 0 {
			t.Fatalf("Decode(%s): %v", b, errs[0])
		}
		docs = append(docs, ds...)
	}
	return docs
}

// outline prints a generic JSON entity as name(child child ...).
func outline(m map[string]any) string {
	name, _ := m["name"].(string)
	subs, _ := m["subsegments"].([]any)
	if len(subs) == 0 {
		return name
	}
	parts := make([]string, 0, len(subs))
	for _, s := range subs {
		sm, _ := s.(map[string]any)
		parts = append(parts, outline(sm))
	}
	return name + "(" + strings.Join(parts, " ") + ")"
}

// entityOutline prints an entity tree like outline.
func entityOutline(e *Entity) string {
	if len(e.Subsegments) == 0 {
		return e.Name
	}
	parts := make([]string, 0, len(e.Subsegments))
	for _, s := range e.Subsegments {
		parts = append(parts, entityOutline(s))
	}
	return e.Name + "(" + strings.Join(parts, " ") + ")"
}

// assembled is what the Assemble tests compare.
type assembled struct {
	Root     string   // name of Root(), "" for nil
	Segments []string // names, in order
	Orphans  []string
	// Documents outlines Documents(), one per output document.
	Documents []string
}

// assemble runs Assemble, Root and Documents on docs and describes the
// result. It checks invariants every trace must hold: Documents is valid
// JSON whose outline matches the linked entity trees, and each output
// document decodes as an accepted document.
func assemble(t *testing.T, docs []Document) assembled {
	t.Helper()
	tr := Assemble(asmTrace, docs)
	var got assembled
	if r := tr.Root(); r != nil {
		got.Root = r.Entity.Name
	}
	var fromEntities []string
	for _, d := range tr.Segments {
		got.Segments = append(got.Segments, d.Entity.Name)
		fromEntities = append(fromEntities, entityOutline(d.Entity))
	}
	for _, d := range tr.Orphans {
		got.Orphans = append(got.Orphans, d.Entity.Name)
		fromEntities = append(fromEntities, entityOutline(d.Entity))
	}
	out, err := tr.Documents()
	if err != nil {
		t.Fatalf("Documents() error: %v", err)
	}
	if diff := sameDocuments(tr); diff != "" {
		t.Errorf("Documents() and the decode-and-encode oracle differ: %s", diff)
	}
	for _, od := range out {
		var m map[string]any
		if err := json.Unmarshal(od.JSON, &m); err != nil {
			t.Fatalf("Documents(): document %s is not valid JSON: %v\n%s", od.ID, err, od.JSON)
		}
		if id, _ := m["id"].(string); !strings.EqualFold(id, od.ID) {
			t.Errorf("Documents(): document with id %q is labelled %q", id, od.ID)
		}
		if ds, errs := Decode(od.JSON, 1<<20); len(errs) != 0 || len(ds) != 1 {
			t.Errorf("Documents(): document %s does not decode: %v\n%s", od.ID, errs, od.JSON)
		}
		got.Documents = append(got.Documents, outline(m))
	}
	if diff := cmp.Diff(fromEntities, got.Documents); diff != "" {
		t.Errorf("entity trees and Documents() disagree (-entities +documents):\n%s", diff)
	}
	return got
}

func TestAssemble(t *testing.T) {
	t.Parallel()
	const (
		fn, svc, api = "17e84e76450d1777", "0285bf1261be05ff", "2b4e0ef3499cd781"
		inv          = "7869f11198c79dd1"
	)
	svcSeg := doc(svc, "svc", 100, 101, `"origin":"AWS::Lambda"`)
	tests := []struct {
		name string
		in   []string
		want assembled
	}{
		{
			name: "in progress then complete",
			in:   []string{doc(svc, "svc-open", 100, 0, ""), doc(svc, "svc-done", 100, 101, "")},
			want: assembled{Root: "svc-done", Segments: []string{"svc-done"}, Documents: []string{"svc-done"}},
		},
		{
			name: "complete then in progress",
			in:   []string{doc(svc, "svc-done", 100, 101, ""), doc(svc, "svc-open", 100, 0, "")},
			want: assembled{Root: "svc-done", Segments: []string{"svc-done"}, Documents: []string{"svc-done"}},
		},
		{
			name: "in_progress true with end_time is not complete",
			in:   []string{doc(svc, "svc-done", 100, 101, ""), doc(svc, "svc-open", 100, 101, `"in_progress":true`)},
			want: assembled{Root: "svc-done", Segments: []string{"svc-done"}, Documents: []string{"svc-done"}},
		},
		{
			name: "two completes, last wins",
			in:   []string{doc(svc, "svc-1", 100, 101, ""), doc(svc, "svc-2", 100, 102, "")},
			want: assembled{Root: "svc-2", Segments: []string{"svc-2"}, Documents: []string{"svc-2"}},
		},
		{
			name: "two in progress, last wins",
			in:   []string{doc(svc, "svc-1", 100, 0, ""), doc(svc, "svc-2", 100, 0, "")},
			want: assembled{Root: "svc-2", Segments: []string{"svc-2"}, Documents: []string{"svc-2"}},
		},
		{
			name: "independent subsegment in progress then complete",
			in: []string{
				svcSeg,
				sub("1111111111111111", svc, "call-done", 100.2, 100.3, ""),
				sub("1111111111111111", svc, "call-open", 100.2, 0, ""),
			},
			want: assembled{Root: "svc", Segments: []string{"svc"}, Documents: []string{"svc(call-done)"}},
		},
		{
			name: "orphan whose parent never arrives",
			in: []string{
				svcSeg,
				sub("1111111111111111", "9999999999999999", "lost", 100.2, 100.3, ""),
				sub("2222222222222222", "1111111111111111", "lost-child", 100.21, 100.22, ""),
			},
			want: assembled{
				Root: "svc", Segments: []string{"svc"}, Orphans: []string{"lost"},
				Documents: []string{"svc", "lost(lost-child)"},
			},
		},
		{
			name: "upper-case parent_id and id",
			in: []string{
				sub("1111111111111111", "0285BF1261BE05FF", "call", 100.2, 100.3, ""),
				doc("0285BF1261BE05FF", "svc", 100, 101, ""),
				sub("AAAAAAAAAAAAAAAA", "1111111111111111", "call-child", 100.21, 100.22, ""),
				sub("bbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaa", "grandchild", 100.21, 100.22, ""),
			},
			want: assembled{Root: "svc", Segments: []string{"svc"}, Documents: []string{"svc(call(call-child(grandchild)))"}},
		},
		{
			name: "only orphans",
			in:   []string{sub("1111111111111111", inv, "a", 100.2, 100.3, ""), sub("2222222222222222", inv, "b", 100.1, 100.3, "")},
			want: assembled{Orphans: []string{"b", "a"}, Documents: []string{"b", "a"}},
		},
		{
			name: "duplicates are idempotent",
			in: []string{
				sub("1111111111111111", inv, "handler", 100.2, 100.5, ""),
				sub("1111111111111111", inv, "handler", 100.2, 100.5, ""),
				doc(fn, "fn", 100, 101, `"parent_id":"`+svc+`","subsegments":[{"id":"`+inv+`","name":"Invocation","start_time":100.1,"end_time":100.9}]`),
				sub("1111111111111111", inv, "handler", 100.2, 100.5, ""),
				doc(fn, "fn", 100, 101, `"parent_id":"`+svc+`","subsegments":[{"id":"`+inv+`","name":"Invocation","start_time":100.1,"end_time":100.9}]`),
			},
			want: assembled{Root: "fn", Segments: []string{"fn"}, Documents: []string{"fn(Invocation(handler))"}},
		},
		{
			name: "cycle between two independent subsegments",
			in: []string{
				svcSeg,
				sub("1111111111111111", "2222222222222222", "x", 100.2, 100.3, ""),
				sub("2222222222222222", "1111111111111111", "y", 100.1, 100.3, ""),
			},
			want: assembled{Root: "svc", Segments: []string{"svc"}, Orphans: []string{"y", "x"}, Documents: []string{"svc", "y", "x"}},
		},
		{
			name: "subsegment hanging off a cycle",
			in: []string{
				sub("1111111111111111", "2222222222222222", "x", 100.2, 100.3, ""),
				sub("2222222222222222", "3333333333333333", "y", 100.1, 100.3, ""),
				sub("3333333333333333", "1111111111111111", "z", 100.3, 100.3, ""),
				sub("4444444444444444", "1111111111111111", "w", 100.25, 100.3, ""),
			},
			want: assembled{Orphans: []string{"y", "x", "z"}, Documents: []string{"y", "x(w)", "z"}},
		},
		{
			name: "subsegment that is its own ancestor through an embedded child",
			in: []string{
				sub("1111111111111111", "2222222222222222", "x", 100.2, 100.3, `"subsegments":[{"id":"2222222222222222","name":"x-child","start_time":100.2,"end_time":100.3}]`),
			},
			want: assembled{Orphans: []string{"x"}, Documents: []string{"x(x-child)"}},
		},
		{
			name: "subsegment also embedded in its parent",
			in: []string{
				sub("1111111111111111", svc, "call", 100.2, 100.3, `"independent_copy":true`),
				doc(svc, "svc", 100, 101, `"subsegments":[{"id":"1111111111111111","name":"call","start_time":100.2,"end_time":100.3}]`),
				sub("2222222222222222", "1111111111111111", "call-child", 100.21, 100.22, ""),
			},
			want: assembled{Root: "svc", Segments: []string{"svc"}, Documents: []string{"svc(call(call-child))"}},
		},
		{
			name: "subsegment also embedded in another subsegment",
			in: []string{
				svcSeg,
				sub("1111111111111111", "2222222222222222", "inner", 100.2, 100.3, ""),
				sub("2222222222222222", svc, "outer", 100.1, 100.4, `"subsegments":[{"id":"1111111111111111","name":"inner","start_time":100.2,"end_time":100.3}]`),
			},
			want: assembled{Root: "svc", Segments: []string{"svc"}, Documents: []string{"svc(outer(inner))"}},
		},
		{
			name: "subsegments embedding each other",
			in: []string{
				svcSeg,
				sub("1111111111111111", svc, "a", 100.2, 100.3, `"subsegments":[{"id":"2222222222222222","name":"b-copy","start_time":100.2,"end_time":100.3}]`),
				sub("2222222222222222", svc, "b", 100.2, 100.3, `"subsegments":[{"id":"1111111111111111","name":"a-copy","start_time":100.2,"end_time":100.3}]`),
			},
			want: assembled{Root: "svc", Segments: []string{"svc"}, Documents: []string{"svc(a(b-copy))"}},
		},
		{
			name: "attached to an entity embedded deep in another document",
			in: []string{
				sub("3333333333333333", "2222222222222222", "deep-call", 100.3, 100.4, ""),
				doc(svc, "svc", 100, 101, `"subsegments":[{"id":"1111111111111111","name":"a","start_time":100.1,"end_time":100.9,"subsegments":[{"id":"2222222222222222","name":"b","start_time":100.2,"end_time":100.8}]}]`),
			},
			want: assembled{Root: "svc", Segments: []string{"svc"}, Documents: []string{"svc(a(b(deep-call)))"}},
		},
		{
			name: "attached subsegments follow embedded ones in start order",
			in: []string{
				sub("3333333333333333", svc, "late", 100.6, 100.7, ""),
				sub("2222222222222222", svc, "early", 100.3, 100.4, ""),
				doc(svc, "svc", 100, 101, `"subsegments":[{"id":"1111111111111111","name":"embedded","start_time":100.5,"end_time":100.9}]`),
			},
			want: assembled{Root: "svc", Segments: []string{"svc"}, Documents: []string{"svc(embedded early late)"}},
		},
		{
			name: "older Lambda runtime: subsegments under the function segment",
			in: []string{
				sub("1111111111111111", fn, "SNS", 100.3, 100.4, `"namespace":"aws"`),
				doc(fn, "fn", 100.1, 100.9, `"parent_id":"`+svc+`","origin":"AWS::Lambda::Function","subsegments":[{"id":"36297616ffd7bf54","name":"Initialization","start_time":100.01,"end_time":100.09}]`),
				svcSeg,
			},
			want: assembled{Root: "svc", Segments: []string{"svc", "fn"}, Documents: []string{"svc", "fn(Initialization SNS)"}},
		},

		// Root selection (§2.14 rule 5).
		{
			name: "root is the segment without parent",
			in: []string{
				doc(fn, "fn", 99, 101, `"parent_id":"`+svc+`"`), // earlier, but its parent is here
				svcSeg,
			},
			want: assembled{Root: "svc", Segments: []string{"fn", "svc"}, Documents: []string{"fn", "svc"}},
		},
		{
			name: "root is the segment whose parent is not in the trace",
			in: []string{
				doc(svc, "svc", 100, 101, `"parent_id":"aaaaaaaaaaaaaaaa"`),
				doc(fn, "fn", 100.1, 100.9, `"parent_id":"`+svc+`"`),
			},
			want: assembled{Root: "svc", Segments: []string{"svc", "fn"}, Documents: []string{"svc", "fn"}},
		},
		{
			name: "parent is an entity of an orphan",
			in: []string{
				sub("1111111111111111", "9999999999999999", "lost", 100.2, 100.3, ""),
				doc(fn, "fn", 100.1, 100.9, `"parent_id":"1111111111111111"`),
				doc(api, "api", 100.5, 100.6, `"parent_id":"8888888888888888"`),
			},
			want: assembled{Root: "api", Segments: []string{"fn", "api"}, Orphans: []string{"lost"}, Documents: []string{"fn", "api", "lost"}},
		},
		{
			name: "several roots: earliest wins",
			in: []string{
				doc(svc, "late", 102, 103, ""),
				doc(api, "early", 101, 103, `"parent_id":"aaaaaaaaaaaaaaaa"`),
				doc(fn, "middle", 101.5, 103, ""),
			},
			want: assembled{Root: "early", Segments: []string{"early", "middle", "late"}, Documents: []string{"early", "middle", "late"}},
		},
		{
			name: "segments whose parents form a cycle: earliest segment",
			in: []string{
				doc(svc, "svc", 100.2, 101, `"parent_id":"1111111111111111","subsegments":[{"id":"2222222222222222","name":"svc-call","start_time":100.3,"end_time":100.4}]`),
				doc(api, "api", 100.1, 101, `"parent_id":"2222222222222222","subsegments":[{"id":"1111111111111111","name":"api-call","start_time":100.3,"end_time":100.4}]`),
			},
			want: assembled{Root: "api", Segments: []string{"api", "svc"}, Documents: []string{"api(api-call)", "svc(svc-call)"}},
		},
		{name: "empty", in: nil, want: assembled{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			docs := decodeAll(t, tt.in)
			got := assemble(t, docs)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Assemble(%s) mismatch (-want +got):\n%s", strings.Join(tt.in, "\n  "), diff)
			}
			// Assembling the same documents again gives the same trace:
			// Assemble must not leave its links in the inputs.
			if again := assemble(t, docs); !cmp.Equal(again, got) {
				t.Errorf("Assemble(%s) the second time = %+v; the first time %+v", strings.Join(tt.in, "\n  "), again, got)
			}
		})
	}
}

// TestAssembleLambdaStream feeds what a Python function in Lambda emits: the
// SDK streams each subsegment as an independent subsegment when it closes,
// children before parents, the top-level ones parented to the Parent of the
// Lambda trace header (§7.2); the Lambda-generated segments come later
// (§7.1). Everything must end up under Invocation, with every field kept.
func TestAssembleLambdaStream(t *testing.T) {
	t.Parallel()
	h := ParseHeader("Root=1-654c0557-5611b044040fc7224c4790b6;Parent=7869f11198c79dd1;Sampled=1;Lineage=1:2c8a7a0a:0")
	if h.Root != asmTrace || h.Parent != "7869f11198c79dd1" {
		t.Fatalf("ParseHeader: %+v", h)
	}
	py := func(id, parent, name string, start, end float64, fields string) string {
		return fmt.Sprintf(`{"id": %q, "name": %q, "start_time": %v, "end_time": %v, "in_progress": false, "type": "subsegment", "trace_id": %q, "parent_id": %q, "namespace": %s}`,
			id, name, start, end, h.Root, parent, fields)
	}
	stream := []string{
		py("a1a1a1a1a1a1a1a1", "c3c3c3c3c3c3c3c3", "dynamodb", 1699480919.95, 1699480919.99,
			`"aws", "aws": {"operation": "PutItem", "region": "us-west-2", "table_name": "orders", "request_id": "RQ1", "retries": 0, "consumed_capacity": null}, "http": {"response": {"status": 200, "content_length": 2}}`),
		py("b2b2b2b2b2b2b2b2", "c3c3c3c3c3c3c3c3", "api.example.com", 1699480920.0, 1699480920.05,
			`"remote", "http": {"request": {"method": "GET", "url": "https://api.example.com/x"}, "response": {"status": 503}}, "fault": true, "cause": {"exceptions": [{"id": "e1e1e1e1e1e1e1e1", "message": "503", "remote": true}]}`),
		py("c3c3c3c3c3c3c3c3", h.Parent, "handle_order", 1699480919.92, 1699480920.1,
			`"local", "annotations": {"order_id": "o-1", "ColdStart": true}, "metadata": {"default": {"items": [1, 2, 3]}}, "fault": true, "cause": "e1e1e1e1e1e1e1e1"`),
		py("d4d4d4d4d4d4d4d4", h.Parent, "s3", 1699480920.11, 1699480920.13,
			`"aws", "aws": {"operation": "PutObject", "bucket_name": "b", "key": "k", "id_2": "xyz"}`),
		// Later, from the Lambda service (imported from AWS or synthesized).
		`{"id":"0285bf1261be05ff","name":"orders","start_time":1699480919.389,"trace_id":"1-654c0557-5611b044040fc7224c4790b6","end_time":1699480920.17,"http":{"response":{"status":200}},"aws":{"request_id":"74ba6aea"},"origin":"AWS::Lambda","resource_arn":"arn:aws:lambda:us-west-2:123456789012:function:orders"}`,
		`{"id":"17e84e76450d1777","name":"orders","start_time":1699480919.9095895,"trace_id":"1-654c0557-5611b044040fc7224c4790b6","end_time":1699480920.1668363,"parent_id":"0285bf1261be05ff","aws":{"account_id":"123456789012","function_arn":"arn:aws:lambda:us-west-2:123456789012:function:orders","cloudwatch_logs":[{"log_group":"/aws/lambda/orders"}]},"origin":"AWS::Lambda::Function","subsegments":[` +
			`{"id":"36297616ffd7bf54","name":"Initialization","start_time":1699480919.5493197,"end_time":1699480919.9040341,"aws":{"function_arn":"arn:aws:lambda:us-west-2:123456789012:function:orders"}},` +
			`{"id":"7869f11198c79dd1","name":"Invocation","start_time":1699480919.9098928,"end_time":1699480920.1662896,"aws":{"function_arn":"arn:aws:lambda:us-west-2:123456789012:function:orders"},"links":[{"trace_id":"1-654c0556-4cd2b2d3a8a2a8c0b0e1e2f3","id":"aaaaaaaaaaaaaaaa","attributes":{"aws.xray.reserved.link_type":"parent"}}]},` +
			`{"id":"876dd8d327ff70a3","name":"Overhead","start_time":1699480920.1663911,"end_time":1699480920.166695,"aws":{"function_arn":"arn:aws:lambda:us-west-2:123456789012:function:orders"}}]}`,
	}
	docs := decodeAll(t, stream)
	got := assemble(t, docs)
	want := assembled{
		Root:     "orders",
		Segments: []string{"orders", "orders"},
		Documents: []string{
			"orders",
			"orders(Initialization Invocation(handle_order(dynamodb api.example.com) s3) Overhead)",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Assemble(Lambda stream) mismatch (-want +got):\n%s", diff)
	}

	tr := Assemble(asmTrace, docs)
	if r := tr.Root(); r == nil || r.ID != "0285bf1261be05ff" {
		t.Errorf("Root() = %+v; want the AWS::Lambda segment 0285bf1261be05ff", r)
	}
	out, err := tr.Documents()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].ID != "0285bf1261be05ff" || out[1].ID != "17e84e76450d1777" {
		t.Fatalf("Documents() ids = %v; want [0285bf1261be05ff 17e84e76450d1777]", out)
	}
	// The service segment has nothing attached: it is returned as sent.
	if string(out[0].JSON) != stream[4] {
		t.Errorf("Documents()[0] = %s; want the document as sent: %s", out[0].JSON, stream[4])
	}

	// Decode the function segment as a reader would, and check that every
	// field sent, modelled or not, is there.
	fnJSON := out[1].JSON
	decoded, errs := Decode(fnJSON, 1<<20)
	if len(errs) != 0 || len(decoded) != 1 {
		t.Fatalf("Decode(Documents()[1]) = %v, %v; want one document\n%s", decoded, errs, fnJSON)
	}
	byName := map[string]*Entity{}
	decoded[0].Entity.Walk(func(e, _ *Entity) bool { byName[e.Name] = e; return true })
	checks := []struct {
		what      string
		got, want any
	}{
		{"dynamodb aws.operation", byName["dynamodb"].AWS.Operation, "PutItem"},
		{"dynamodb aws.table_name", byName["dynamodb"].AWS.TableName, "orders"},
		{"dynamodb namespace", byName["dynamodb"].Namespace, "aws"},
		{"dynamodb parent_id", byName["dynamodb"].ParentID, "c3c3c3c3c3c3c3c3"},
		{"api.example.com status", byName["api.example.com"].HTTP.Response.Status, 503},
		{"api.example.com cause", byName["api.example.com"].Cause.Exceptions[0].ID, "e1e1e1e1e1e1e1e1"},
		{"handle_order cause", byName["handle_order"].Cause.ExceptionID, "e1e1e1e1e1e1e1e1"},
		{"handle_order annotation", byName["handle_order"].Annotations["order_id"], "o-1"},
		{"handle_order metadata", byName["handle_order"].Metadata["default"], map[string]any{"items": []any{1.0, 2.0, 3.0}}},
		{"Invocation links", len(byName["Invocation"].Links), 1},
		{"s3 bucket", byName["s3"].AWS.BucketName, "b"},
	}
	for _, c := range checks {
		if !cmp.Equal(c.got, c.want) {
			t.Errorf("Documents()[1] %s = %v; want %v\n%s", c.what, c.got, c.want, fnJSON)
		}
	}
	var generic map[string]any
	if err := json.Unmarshal(fnJSON, &generic); err != nil {
		t.Fatal(err)
	}
	// Fields thaw does not model survive, and numbers keep their digits.
	// (Documents keeps each document's bytes as sent, spacing included.)
	var compact bytes.Buffer
	if err := json.Compact(&compact, fnJSON); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`"cloudwatch_logs":[{"log_group":"/aws/lambda/orders"}]`,
		`"consumed_capacity":null`,
		`"id_2":"xyz"`,
		`"key":"k"`,
		`"in_progress":false`,
		`"type":"subsegment"`,
		`"aws.xray.reserved.link_type":"parent"`,
		`"start_time":1699480919.9098928`,
		`"end_time":1699480920.1668363`,
		`"retries":0`,
	} {
		if !strings.Contains(compact.String(), s) {
			t.Errorf("Documents()[1] lacks %s:\n%s", s, compact.String())
		}
	}

	// The entity tree analysis walks agrees.
	var names []string
	tr.Root().Entity.Walk(func(e, _ *Entity) bool { names = append(names, e.Name); return true })
	if len(names) != 1 {
		t.Errorf("Root() entity tree = %v; want the service segment alone", names)
	}
	names = nil
	tr.Segments[1].Entity.Walk(func(e, _ *Entity) bool { names = append(names, e.Name); return true })
	want2 := []string{"orders", "Initialization", "Invocation", "handle_order", "dynamodb", "api.example.com", "s3", "Overhead"}
	if !slices.Equal(names, want2) {
		t.Errorf("function segment entity tree = %v; want %v", names, want2)
	}

	// Any arrival order gives the same documents.
	for i := range stream {
		rotated := append(slices.Clone(stream[i:]), stream[:i]...)
		if got := assemble(t, decodeAll(t, rotated)); !cmp.Equal(got, want) {
			t.Errorf("Assemble(stream rotated by %d) = %+v; want %+v", i, got, want)
		}
	}
}

// TestAssembleDoesNotModifyInput checks that docs keep their entities.
func TestAssembleDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	docs := decodeAll(t, []string{
		doc("0285bf1261be05ff", "svc", 100, 101, ""),
		sub("1111111111111111", "0285bf1261be05ff", "call", 100.2, 100.3, ""),
	})
	tr := Assemble(asmTrace, docs)
	if got := len(tr.Segments[0].Entity.Subsegments); got != 1 {
		t.Errorf("Assemble: trace segment has %d subsegments; want 1 (attached)", got)
	}
	if got := len(docs[0].Entity.Subsegments); got != 0 {
		t.Errorf("Assemble: input segment now has %d subsegments; want 0", got)
	}
}

func BenchmarkAssembleDocuments(b *testing.B) {
	const tid = "1-654c0557-5611b044040fc7224c4790b6"
	bodies := []string{
		`{"id":"0285bf1261be05ff","name":"orders","start_time":1699480919.389,"trace_id":"` + tid + `","end_time":1699480920.17,"origin":"AWS::Lambda"}`,
		lambdaSegment,
	}
	for i := range 20 {
		bodies = append(bodies, fmt.Sprintf(`{"type":"subsegment","trace_id":%q,"id":"%016x","parent_id":"7869f11198c79dd1","name":"dynamodb","namespace":"aws","start_time":1699480919.95,"end_time":1699480919.99,"aws":{"operation":"PutItem","table_name":"orders"}}`, tid, i+1))
	}
	var docs []Document
	for _, s := range bodies {
		ds, errs := Decode([]byte(s), 0)
		if len(errs) != 0 {
			b.Fatalf("Decode(%s): %v", s, errs[0])
		}
		docs = append(docs, ds...)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Assemble(tid, docs).Documents(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAssembleParentKeySpelling covers a parent whose entity has an id that
// its JSON does not hold under "id" (here it is spelled "ID", which the
// encoding/json decoder of earlier builds read; Decode now matches keys
// exactly, so the document is built by hand). The entity tree links the
// child, but the parent's JSON has no "id" to nest it under. The child must
// not be lost.
func TestAssembleParentKeySpelling(t *testing.T) {
	t.Parallel()
	in := []string{
		doc("0285bf1261be05ff", "svc", 100, 101, ""),
		sub("1111111111111111", "0285bf1261be05ff", "call", 100.2, 100.3, ""),
		sub("2222222222222222", "1111111111111111", "call-child", 100.21, 100.22, ""),
	}
	docs := decodeAll(t, in)
	docs[0].Raw = []byte(strings.Replace(in[0], `"id":`, `"ID":`, 1))
	tr := Assemble(asmTrace, docs)
	if got, want := entityOutline(tr.Segments[0].Entity), "svc(call(call-child))"; got != want {
		t.Errorf("Assemble(%q): segment entity tree = %s; want %s", in, got, want)
	}
	out, err := tr.Documents()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, od := range out {
		var m map[string]any
		if err := json.Unmarshal(od.JSON, &m); err != nil {
			t.Fatalf("Documents(): %v\n%s", err, od.JSON)
		}
		got = append(got, outline(m))
	}
	if want := []string{"svc", "call(call-child)"}; !slices.Equal(got, want) {
		t.Errorf("Assemble(%q).Documents() = %q; want %q", in, got, want)
	}
}
