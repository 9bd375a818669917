package e2etest

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// awsCLI runs /usr/bin/aws against thaw with dummy credentials and no user configuration.
type awsCLI struct {
	t        *testing.T
	endpoint string
	env      []string
}

func newAWSCLI(t *testing.T, endpoint string) *awsCLI {
	t.Helper()
	requireAWSCLI(t)
	home := t.TempDir()
	return &awsCLI{t: t, endpoint: endpoint, env: []string{
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_CLI_AUTO_PROMPT=off",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
	}}
}

// run runs `aws xray ARGS... --endpoint-url URL --output json`.
func (c *awsCLI) run(args ...string) runResult {
	c.t.Helper()
	args = append([]string{"xray"}, args...)
	args = append(args, "--endpoint-url", c.endpoint, "--output", "json")
	return runProgram(c.t, 2*time.Minute, c.env, c.t.TempDir(), awsPath, args...)
}

// cliCall is one CLI invocation and its result.
type cliCall struct {
	name string
	args []string
	res  runResult
}

// runAll runs independent CLI calls two at a time: each spends 2-4 s starting up.
func (c *awsCLI) runAll(calls []*cliCall) {
	c.t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, call := range calls {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			call.res = c.run(call.args...)
		})
	}
	wg.Wait()
}

// decodeCLI decodes a successful call's JSON output, or reports why it cannot.
func decodeCLI(call *cliCall, out any) error {
	if call.res.Err != nil {
		return fmt.Errorf("aws xray %s: %w\nstderr:\n%s", strings.Join(call.args, " "), call.res.Err, call.res.Stderr)
	}
	if err := json.Unmarshal([]byte(call.res.Stdout), out); err != nil {
		return fmt.Errorf("aws xray %s: output is not the expected JSON: %w\n%s", strings.Join(call.args, " "), err, call.res.Stdout)
	}
	return nil
}

// cliErrorRE matches the CLI's report of a service error.
var cliErrorRE = regexp.MustCompile(`An error occurred \((\w+)\) when calling the (\w+) operation: (.*)`)

// TestAWSCLI drives thaw with AWS CLI v2: put-trace-segments with a good and a bad document,
// batch-get-traces, get-trace-summaries over each time-range type, and an error answer.
func TestAWSCLI(t *testing.T) {
	requireAWSCLI(t)
	th := startThaw(t, t.TempDir())
	cli := newAWSCLI(t, th.URL)

	now := time.Now()
	traceID, segID, badID := newTraceID(now), newID(), newID()
	good := segmentDoc(traceID, segID, "cli-svc", now.Add(-300*time.Millisecond), 250*time.Millisecond, map[string]any{
		"http": map[string]any{
			"request":  map[string]any{"method": "GET", "url": "https://cli.example.com/items"},
			"response": map[string]any{"status": 200},
		},
		"annotations": map[string]any{"source": "cli"},
	})
	bad := segmentDoc("not-a-trace-id", badID, "cli-bad", now, time.Millisecond, nil)

	put := &cliCall{name: "put-trace-segments", args: []string{"put-trace-segments", "--trace-segment-documents", good, bad}}
	cli.runAll([]*cliCall{put})
	var putOut struct {
		UnprocessedTraceSegments []unprocessedSegment
	}
	if err := decodeCLI(put, &putOut); err != nil {
		t.Fatal(err)
	}
	if n := len(putOut.UnprocessedTraceSegments); n != 1 {
		t.Fatalf("put-trace-segments: %d unprocessed segments, want 1 (the bad document): %+v", n, putOut.UnprocessedTraceSegments)
	}
	un := putOut.UnprocessedTraceSegments[0]
	if un.Id != badID || un.ErrorCode != "InvalidTraceId" || un.Message == "" {
		t.Errorf("put-trace-segments: unprocessed %+v, want Id %s, ErrorCode InvalidTraceId and a Message", un, badID)
	}

	// Summaries are eventually consistent (about a second): wait until every
	// time-range type finds the trace before asking the CLI.
	for _, rt := range []string{"TraceId", "Event", "Service"} {
		req := summariesRequest{StartTime: float64(now.Add(-time.Minute).Unix()), EndTime: float64(now.Add(time.Minute).Unix()), TimeRangeType: rt}
		waitForSummaries(t, th.API(), req, func(sums []traceSummary) error {
			for _, s := range sums {
				if s.Id == traceID {
					return nil
				}
			}
			return fmt.Errorf("no summary of %s yet", traceID)
		})
	}

	start := strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)
	end := strconv.FormatInt(now.Add(time.Minute).Unix(), 10)
	batch := &cliCall{name: "batch-get-traces", args: []string{"batch-get-traces", "--trace-ids", traceID}}
	sums := []*cliCall{
		{name: "get-trace-summaries (TraceId)", args: []string{"get-trace-summaries", "--start-time", start, "--end-time", end}},
		{name: "get-trace-summaries (Event)", args: []string{"get-trace-summaries", "--start-time", start, "--end-time", end, "--time-range-type", "Event"}},
		{name: "get-trace-summaries (Service)", args: []string{"get-trace-summaries", "--start-time", start, "--end-time", end, "--time-range-type", "Service"}},
	}
	// Filter expressions: one the trace (0.25 s, annotation source=cli)
	// matches, one it does not, and a broken one, refused at its column.
	filterHit := &cliCall{name: "get-trace-summaries (matching filter)", args: []string{"get-trace-summaries", "--start-time", start, "--end-time", end,
		"--filter-expression", `service("cli-svc") AND responsetime > 0.2 AND annotation.source = "cli"`}}
	filterMiss := &cliCall{name: "get-trace-summaries (filter that misses)", args: []string{"get-trace-summaries", "--start-time", start, "--end-time", end, "--filter-expression", "responsetime > 1"}}
	filter := &cliCall{name: "get-trace-summaries (broken filter)", args: []string{"get-trace-summaries", "--start-time", start, "--end-time", end, "--filter-expression", "responsetime >"}}
	cli.runAll(append([]*cliCall{batch, filter, filterHit, filterMiss}, sums...))

	t.Run("batch-get-traces", func(t *testing.T) {
		var out struct {
			Traces []struct {
				Id       string
				Duration float64
				Segments []struct{ Id, Document string }
			}
			UnprocessedTraceIds []string
		}
		if err := decodeCLI(batch, &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Traces) != 1 || out.Traces[0].Id != traceID || len(out.Traces[0].Segments) != 1 {
			t.Fatalf("batch-get-traces = %s, want trace %s with its one segment", batch.res.Stdout, traceID)
		}
		tr := out.Traces[0]
		if math.Abs(tr.Duration-0.25) > 1e-3 {
			t.Errorf("batch-get-traces: Duration = %v, want 0.25", tr.Duration)
		}
		var d doc
		if err := json.Unmarshal([]byte(tr.Segments[0].Document), &d); err != nil {
			t.Fatalf("batch-get-traces: Document %q: %v", tr.Segments[0].Document, err)
		}
		if tr.Segments[0].Id != segID || str(d, "id") != segID || str(d, "name") != "cli-svc" || str(d, "annotations", "source") != "cli" {
			t.Errorf("batch-get-traces: segment %s document %s, want id %s name cli-svc with annotation source=cli", tr.Segments[0].Id, tr.Segments[0].Document, segID)
		}
	})

	for _, call := range sums {
		t.Run(call.name, func(t *testing.T) {
			var out struct {
				TraceSummaries []struct {
					Id               string
					ResponseTime     float64
					HasFault         bool
					MatchedEventTime any // the CLI prints timestamps as ISO 8601 strings
					Http             struct {
						HttpURL    string
						HttpStatus int
					}
				}
				ApproximateTime      any
				TracesProcessedCount *int64
			}
			if err := decodeCLI(call, &out); err != nil {
				t.Fatal(err)
			}
			if len(out.TraceSummaries) != 1 || out.TraceSummaries[0].Id != traceID {
				t.Fatalf("%s = %s, want the summary of %s alone", call.name, call.res.Stdout, traceID)
			}
			s := out.TraceSummaries[0]
			if math.Abs(s.ResponseTime-0.25) > 1e-3 || s.HasFault || s.Http.HttpStatus != 200 || s.Http.HttpURL != "https://cli.example.com/items" {
				t.Errorf("%s: summary %s, want ResponseTime 0.25, HasFault false, HttpStatus 200, HttpURL https://cli.example.com/items", call.name, call.res.Stdout)
			}
			// MatchedEventTime belongs to Event time ranges only.
			if event := strings.Contains(call.name, "Event"); event != (s.MatchedEventTime != nil) {
				t.Errorf("%s: summary MatchedEventTime = %v, want it set only for --time-range-type Event", call.name, s.MatchedEventTime)
			}
			if out.ApproximateTime == nil || out.TracesProcessedCount == nil {
				t.Errorf("%s: ApproximateTime %v, TracesProcessedCount %v, want both", call.name, out.ApproximateTime, deref(out.TracesProcessedCount))
			}
		})
	}

	t.Run("filter", func(t *testing.T) {
		for _, tc := range []struct {
			call *cliCall
			want int
		}{{filterHit, 1}, {filterMiss, 0}} {
			var out struct{ TraceSummaries []struct{ Id string } }
			if err := decodeCLI(tc.call, &out); err != nil {
				t.Fatal(err)
			}
			if len(out.TraceSummaries) != tc.want || (tc.want == 1 && out.TraceSummaries[0].Id != traceID) {
				t.Errorf("%s: %+v, want %d summaries (of %s)", tc.call.name, out.TraceSummaries, tc.want, traceID)
			}
		}
	})

	t.Run("broken filter rejected", func(t *testing.T) {
		if filter.res.Err == nil {
			t.Fatalf("get-trace-summaries --filter-expression 'responsetime >' succeeded with %s, want InvalidRequestException", filter.res.Stdout)
		}
		m := cliErrorRE.FindStringSubmatch(filter.res.Stderr)
		if m == nil || m[1] != "InvalidRequestException" || m[2] != "GetTraceSummaries" || !strings.Contains(m[3], "col 15") {
			t.Errorf("get-trace-summaries --filter-expression: stderr %q, want an InvalidRequestException naming column 15", filter.res.Stderr)
		}
	})
}
