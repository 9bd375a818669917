package summary

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/thawtrace/thaw/internal/segment"
)

// goldenSamples are traces in testdata/: the real samples of
// spec/samples/ copied byte for byte, and one hand-written trace. Each has a
// golden summary beside it, <name>.summary.golden.json, which
// UPDATE_GOLDEN=1 go test rewrites.
var goldenSamples = []string{
	"awsdocs-batch-get-traces-response-lambda.json",
	"handwritten-apigateway-lambda-cold.json",
	"iatk-apigateway-stage-segment.json",
	"iatk-lambda-cold-start-with-links-trace.json",
	"iatk-stepfunctions-express-trace.json",
	"otel-go-sdk-dynamodb-errors.json",
}

func TestGolden(t *testing.T) {
	update := os.Getenv("UPDATE_GOLDEN") != ""
	for _, name := range goldenSamples {
		t.Run(name, func(t *testing.T) {
			tr := loadSample(t, name)
			b, err := json.MarshalIndent(Compute(tr, 1), "", "  ")
			if err != nil {
				t.Fatalf("marshal summary: %v", err)
			}
			got := string(b) + "\n"
			path := filepath.Join("testdata", strings.TrimSuffix(name, ".json")+".summary.golden.json")
			if update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("summary of %s differs from %s (-want +got):\n%s", name, path, diff)
			}
		})
	}
}

// figures are the parts of a summary the spec pins down for a sample; they
// are checked independently of the golden files so that regenerating those
// cannot hide a wrong figure.
type figures struct {
	StartTime, Duration, ResponseTime float64
	HasFault, HasError, HasThrottle   bool
	IsPartial                         bool
	EntryPoint                        string
	ServiceIDs                        []string // "Type Name AccountId"
	Users                             []string
	AnnotationKeys                    []string
	ResourceARNs                      []string
	InstanceIDs, AvailabilityZones    []string
	HTTPStatus                        int
	ColdStart                         string // "true/source", "false/source" or ""
}

func figuresOf(s Summary) figures {
	f := figures{
		StartTime: s.StartTime, Duration: s.Duration, ResponseTime: s.ResponseTime,
		HasFault: s.HasFault, HasError: s.HasError, HasThrottle: s.HasThrottle, IsPartial: s.IsPartial,
		ResourceARNs: s.ResourceARNs, InstanceIDs: s.InstanceIDs, AvailabilityZones: s.AvailabilityZones,
		ColdStart: coldString(s),
	}
	if s.EntryPoint != nil {
		f.EntryPoint = nodeString(*s.EntryPoint)
	}
	for _, id := range s.ServiceIDs {
		f.ServiceIDs = append(f.ServiceIDs, nodeString(id))
	}
	for _, u := range s.Users {
		f.Users = append(f.Users, u.UserName)
	}
	for k := range s.Annotations {
		f.AnnotationKeys = append(f.AnnotationKeys, k)
	}
	if s.HTTP != nil {
		f.HTTPStatus = s.HTTP.HTTPStatus
	}
	return f
}

func nodeString(id ServiceID) string {
	return strings.TrimSpace(id.Type + " " + id.Name + " " + id.AccountID)
}

func coldString(s Summary) string {
	if s.ColdStart == nil {
		return ""
	}
	if *s.ColdStart {
		return "true/" + s.ColdStartSource
	}
	return "false/" + s.ColdStartSource
}

func TestSampleFigures(t *testing.T) {
	tests := []struct {
		sample string
		want   figures
	}{
		{
			// The GetTraceSummaries example of the AWS docs summarises this
			// very trace: Duration and ResponseTime 3.232, user 5M388M1E,
			// annotations UserID and Name. The BatchGetTraces output it
			// comes from shows inferred DynamoDB (table scorekeep-user) and
			// SNS segments.
			sample: "awsdocs-batch-get-traces-response-lambda.json",
			want: figures{
				StartTime: 1499473411.562, Duration: 3.232, ResponseTime: 3.232,
				EntryPoint: "AWS::ElasticBeanstalk::Environment Scorekeep",
				ServiceIDs: []string{
					"AWS::SNS SNS",
					"AWS::ElasticBeanstalk::Environment Scorekeep",
					"AWS::Lambda random-name",
					"AWS::Lambda::Function random-name 123456789012",
					"AWS::DynamoDB::Table scorekeep-user",
				},
				Users:             []string{"5M388M1E"},
				AnnotationKeys:    []string{"Name", "UserID"},
				ResourceARNs:      []string{"arn:aws:lambda:us-west-2:123456789012:function:random-name"},
				InstanceIDs:       []string{"i-0cd9e448944061b4a"},
				AvailabilityZones: []string{"us-west-2c"},
				HTTPStatus:        200,
				ColdStart:         "true/initialization-subsegment",
			},
		},
		{
			sample: "handwritten-apigateway-lambda-cold.json",
			want: figures{
				StartTime: 1716560306.000, Duration: 0.950, ResponseTime: 0.950,
				HasFault:   true, // API Gateway answered 502
				EntryPoint: "AWS::ApiGateway::Stage my-api/Prod",
				ServiceIDs: []string{
					"remote api.example.com",
					"AWS::ApiGateway::Stage my-api/Prod",
					"AWS::Lambda my-function",
					"AWS::Lambda::Function my-function 123456789012",
					"AWS::DynamoDB::Table orders",
				},
				AnnotationKeys: []string{"ColdStart", "aws:api_id", "aws:api_stage", "order_id", "service"},
				ResourceARNs: []string{
					"arn:aws:apigateway:us-east-1::/restapis/abc123/stages/Prod",
					"arn:aws:lambda:us-east-1:123456789012:function:my-function",
				},
				HTTPStatus: 502,
				ColdStart:  "true/initialization-subsegment",
			},
		},
		{
			// No AWS::Lambda segment arrived for the Invoke subsegment, so
			// the function is an inferred node.
			sample: "iatk-apigateway-stage-segment.json",
			want: figures{
				StartTime: 1692291184.114, Duration: 0.488, ResponseTime: 0.488,
				EntryPoint:     "AWS::ApiGateway::Stage some-app/Prod",
				ServiceIDs:     []string{"AWS::Lambda my-function", "AWS::ApiGateway::Stage some-app/Prod"},
				AnnotationKeys: []string{"aws:api_id", "aws:api_stage"},
				ResourceARNs:   []string{"arn:aws:apigateway:us-east-1::/restapis/xxx/stages/Prod"},
				HTTPStatus:     200,
			},
		},
		{
			// spec/xray.md §7.3 worked example: service segment 0.781 s, cold.
			sample: "iatk-lambda-cold-start-with-links-trace.json",
			want: figures{
				StartTime: 1699480919.389, Duration: 0.781, ResponseTime: 0.781,
				EntryPoint: "AWS::Lambda xray-stuff-ProducerA-LbbjYUkcchrB",
				ServiceIDs: []string{
					"AWS::Lambda xray-stuff-ProducerA-LbbjYUkcchrB",
					"AWS::Lambda::Function xray-stuff-ProducerA-LbbjYUkcchrB 123456789012",
				},
				ResourceARNs: []string{"arn:aws:lambda:us-west-2:123456789012:function:xray-stuff-ProducerA-LbbjYUkcchrB"},
				HTTPStatus:   200,
				ColdStart:    "true/initialization-subsegment",
			},
		},
		{
			// AWS reported Duration 6.413 for this trace. Its inferred
			// segments (Lambda, Sfn, CloudWatchLogs) are rebuilt from the
			// calling subsegments; some subsegments are still in progress.
			sample: "iatk-stepfunctions-express-trace.json",
			want: figures{
				StartTime: 1694461252.453, Duration: 6.413, ResponseTime: 6.413,
				IsPartial:  true,
				EntryPoint: "AWS::StepFunctions::StateMachine state-machine-01",
				ServiceIDs: []string{
					"AWS::CloudWatchLogs CloudWatchLogs",
					"AWS::Lambda Lambda",
					"AWS::Sfn Sfn",
					"AWS::StepFunctions::StateMachine state-machine-01",
					"AWS::StepFunctions::StateMachine state-machine-02",
				},
				ResourceARNs: []string{
					"arn:aws:states:us-east-1:123456789012:stateMachine:state-machine-01",
					"arn:aws:states:us-east-1:123456789012:stateMachine:state-machine-02",
				},
			},
		},
		{
			// Go SDK: two dynamodb calls on two tables, each with SDK child
			// subsegments that make no nodes; the root segment faulted.
			sample: "otel-go-sdk-dynamodb-errors.json",
			want: figures{
				StartTime: 1596566305.535414, Duration: 0.0574405, ResponseTime: 0.0574405,
				HasFault:   true,
				EntryPoint: "DDB",
				ServiceIDs: []string{
					"DDB",
					"AWS::DynamoDB::Table does_not_exist",
					"AWS::DynamoDB::Table xray_sample_table",
				},
				Users:          []string{"xraysegmentdump"},
				AnnotationKeys: []string{"DDB.DescribeExistingTableAndPutToMissingTable.Annotation"},
			},
		},
	}
	opts := cmp.Options{
		cmpopts.EquateApprox(0, 1e-6),
		cmpopts.SortSlices(func(a, b string) bool { return a < b }),
		cmpopts.EquateEmpty(),
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			got := figuresOf(Compute(loadSample(t, tt.sample), 1))
			if diff := cmp.Diff(tt.want, got, opts); diff != "" {
				t.Errorf("figures of %s (-want +got):\n%s", tt.sample, diff)
			}
		})
	}
}

// loadSample builds a trace from a file in testdata/ in any of the shapes the
// samples use: a BatchGetTraces response (Traces[].Segments[].Document
// strings), a parsed trace (Segments[] objects, as in the iatk samples), or
// a single document. Each document goes through segment.Decode, then all
// through segment.Assemble, as ingest does.
func loadSample(t testing.TB, name string) *segment.Trace {
	t.Helper()
	return buildTrace(t, sampleBodies(t, name)...)
}

// sampleBodies returns the document bodies of a file in testdata/.
func sampleBodies(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var shape struct {
		Traces []struct {
			Segments []struct{ Document string }
		}
		Segments []json.RawMessage
	}
	if err := json.Unmarshal(b, &shape); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var bodies []string
	switch {
	case len(shape.Traces) > 0:
		for _, s := range shape.Traces[0].Segments {
			bodies = append(bodies, s.Document)
		}
	case len(shape.Segments) > 0:
		for _, s := range shape.Segments {
			bodies = append(bodies, string(bytes.TrimSpace(s)))
		}
	default:
		bodies = []string{string(b)}
	}
	return bodies
}
