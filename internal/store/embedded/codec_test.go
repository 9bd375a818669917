package embedded

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/loadgen"
	"github.com/thawtrace/thaw/internal/segment"
)

const codecTrace = segment.TraceID("1-5f187253-6a106696d56b1f4ef9eba2ed")

// codecSamples are summaries that exercise every field: generated serverless
// traces as Compute sees them, and a hand-made one with the odd cases.
func codecSamples(t testing.TB) []summary.Summary {
	t.Helper()
	var out []summary.Summary
	g := loadgen.New(9)
	g.ColdStartRate, g.ErrorRate = 0.5, 0.5
	for range 8 {
		tr := g.Trace(time.Unix(1_800_000_000, 0))
		var docs []segment.Document
		for _, raw := range tr.Docs {
			ds, errs := segment.Decode(raw, 0)
			if len(errs) > 0 {
				t.Fatalf("decode generated document: %v", errs[0])
			}
			docs = append(docs, ds...)
		}
		s := summary.Compute(segment.Assemble(segment.TraceID(tr.ID), docs), 3)
		s.ID = string(codecTrace)
		out = append(out, s)
	}
	ids, docs := genTraces(rand.New(rand.NewPCG(7, 7)), 1, t0)
	s := summary.Compute(segment.Assemble(ids[0], docs), 1)
	s.ID = string(codecTrace)
	out = append(out, s)

	num, yes, str, empty := 12.5, true, "pro", ""
	cold := false
	fn := summary.ServiceID{Name: "fn", Names: []string{"fn"}, Type: "AWS::Lambda::Function", AccountID: "123456789012"}
	odd := summary.ServiceID{Name: "api", Names: []string{"api", "api-alias"}}
	bare := summary.ServiceID{Name: "legacy"}
	out = append(out, summary.Summary{
		ID: string(codecTrace), StartTime: 1.5, EndTime: 2.75, Duration: 1.25, ResponseTime: 1, HasDuration: true, HasResponse: true,
		HasFault: true, HasError: true, HasThrottle: true, IsPartial: true,
		HTTP: &summary.HTTP{HTTPURL: "https://x/é", HTTPStatus: 503, HTTPMethod: "POST", UserAgent: "ua", ClientIP: "::1"},
		Annotations: map[string][]summary.ValueWithServiceIDs{
			"n":     {{AnnotationValue: summary.AnnotationValue{NumberValue: &num}, ServiceIDs: []summary.ServiceID{fn}}},
			"b":     {{AnnotationValue: summary.AnnotationValue{BooleanValue: &yes}}},
			"s":     {{AnnotationValue: summary.AnnotationValue{StringValue: &str}, ServiceIDs: []summary.ServiceID{fn, odd}}, {AnnotationValue: summary.AnnotationValue{StringValue: &empty}}},
			"aws:k": {{AnnotationValue: summary.AnnotationValue{BooleanValue: new(bool)}, ServiceIDs: []summary.ServiceID{bare}}},
		},
		Users:        []summary.User{{UserName: "u1", ServiceIDs: []summary.ServiceID{odd}}, {UserName: "u2"}},
		ServiceIDs:   []summary.ServiceID{bare, fn, odd},
		ResourceARNs: []string{"arn:a", "arn:b"}, InstanceIDs: []string{"i-1"}, AvailabilityZones: []string{"us-east-1a"},
		EntryPoint: &odd, Revision: 1 << 40, ColdStart: &cold, ColdStartSource: "annotation",
		Events: []summary.Event{{Start: 1.5, End: 2.75}, {Start: 2}},
		FaultRootCauses: []summary.RootCause{{ClientImpacting: true, Services: []summary.RootCauseService{
			{Name: "api", Names: []string{"api", "api-alias"}, EntityPath: []summary.RootCauseEntity{{Name: "api"}, {Name: "ddb", Remote: true}}},
			{Name: "users", Names: []string{"users"}, Type: "AWS::DynamoDB::Table", Inferred: true, EntityPath: []summary.RootCauseEntity{
				{Name: "DynamoDB", Remote: true, Exceptions: []summary.RootCauseException{{Name: "ResourceNotFoundException", Message: "no table"}, {Name: "x"}}},
			}},
		}}},
		ErrorRootCauses: []summary.RootCause{{Services: []summary.RootCauseService{{Name: "legacy"}}}},
		ResponseTimeRootCauses: []summary.RootCause{{ClientImpacting: true, Services: []summary.RootCauseService{
			{Name: "fn", Names: []string{"fn"}, Type: "AWS::Lambda::Function", AccountID: "123456789012",
				EntityPath: []summary.RootCauseEntity{{Name: "fn", Coverage: &num}, {Name: "Invocation", Coverage: new(float64)}}},
		}}},
	})
	out = append(out, summary.Summary{ID: string(codecTrace)}) // the zero summary
	return out
}

func TestSummaryCodecRoundTrip(t *testing.T) {
	t.Parallel()
	for i, s := range codecSamples(t) {
		v := encodeSummary(s)
		got, err := decodeSummary(codecTrace, v)
		if err != nil {
			t.Fatalf("sample %d: decode: %v", i, err)
		}
		if diff := gocmp.Diff(s, got, microseconds); diff != "" {
			t.Errorf("sample %d: round trip (-want +got):\n%s", i, diff)
		}
		js, _ := json.Marshal(s)
		if len(v) >= len(js)/2 {
			t.Errorf("sample %d: compact form is %d bytes, JSON %d; want under half", i, len(v), len(js))
		}
		// Every truncation is an error, never a panic or a wrong summary.
		for n := 1; n < len(v); n++ {
			if _, err := decodeSummary(codecTrace, v[:n]); err == nil {
				t.Errorf("sample %d: decoding the first %d of %d bytes succeeded", i, n, len(v))
				break
			}
		}
	}
}

func TestSummaryCodecReadsVersion1(t *testing.T) {
	t.Parallel()
	s := codecSamples(t)[0]
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSummary(codecTrace, append([]byte{1}, js...))
	if err != nil {
		t.Fatalf("decode version 1: %v", err)
	}
	if diff := gocmp.Diff(s, got); diff != "" {
		t.Errorf("version 1 (-want +got):\n%s", diff)
	}
	if _, err := decodeSummary(codecTrace, []byte{9, 1, 2}); err == nil {
		t.Error("decoding an unknown version succeeded")
	}
}

func FuzzDecodeSummary(f *testing.F) {
	for _, s := range codecSamples(f) {
		f.Add(encodeSummary(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		s, err := decodeSummary(codecTrace, v)
		if err != nil || len(v) == 0 || v[0] != summaryVersion {
			return
		}
		again, err := decodeSummary(codecTrace, encodeSummary(s))
		if err != nil {
			t.Fatalf("re-encoded summary does not decode: %v", err)
		}
		if diff := gocmp.Diff(s, again, microseconds); diff != "" {
			t.Fatalf("decode → encode → decode changed the summary (-first +second):\n%s", diff)
		}
	})
}

func BenchmarkSummaryCodec(b *testing.B) {
	s := codecSamples(b)[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeSummary(codecTrace, encodeSummary(s)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSummaryEncode(b *testing.B) {
	s := codecSamples(b)[0]
	b.ReportAllocs()
	for b.Loop() {
		encodeSummary(s)
	}
}

func BenchmarkSummaryEncodeJSON(b *testing.B) {
	s := codecSamples(b)[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
}

// microseconds compares times as the store keeps event times: to the
// microsecond.
var microseconds = cmpopts.EquateApprox(0, 1e-6)
