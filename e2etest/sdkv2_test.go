package e2etest

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// newXRayClient returns an aws-sdk-go-v2 X-Ray client for thaw with dummy credentials and
// no retries, so that every failure shows.
func newXRayClient(t *testing.T, endpoint string) *xray.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(t.Context(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("x", "y", "")),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatal(err)
	}
	return xray.NewFromConfig(cfg, func(o *xray.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// sdkV2Traces is how many traces TestAWSSDKGoV2 writes: more than one page of summaries.
const sdkV2Traces = 260

// TestAWSSDKGoV2 writes traces with aws-sdk-go-v2's PutTraceSegments, reads them with
// BatchGetTraces and walks GetTraceSummaries with the SDK's paginator.
func TestAWSSDKGoV2(t *testing.T) {
	th := startThaw(t, t.TempDir())
	client := newXRayClient(t, th.URL)
	ctx := t.Context()

	base := time.Now().Add(-2 * time.Minute)
	var ids []string
	var docs []string
	segIDs := map[string]string{}
	for i := range sdkV2Traces {
		start := base.Add(time.Duration(i) * 100 * time.Millisecond)
		id, seg := newTraceID(start), newID()
		ids = append(ids, id)
		segIDs[id] = seg
		docs = append(docs, segmentDoc(id, seg, fmt.Sprintf("svc-%d", i%3), start, time.Duration(10+i%7)*time.Millisecond, map[string]any{
			"http": map[string]any{
				"request":  map[string]any{"method": "GET", "url": fmt.Sprintf("https://svc.example.com/item/%d", i)},
				"response": map[string]any{"status": 200 + 300*(i%2)}, // every other one a 500
			},
		}))
	}
	for len(docs) > 0 {
		n := min(len(docs), 50)
		out, err := client.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs[:n]})
		if err != nil {
			t.Fatalf("PutTraceSegments: %v", err)
		}
		if len(out.UnprocessedTraceSegments) > 0 {
			t.Fatalf("PutTraceSegments: unprocessed %+v", out.UnprocessedTraceSegments)
		}
		docs = docs[n:]
	}

	t.Run("BatchGetTraces", func(t *testing.T) {
		want := ids[:batchGetMax]
		var got *xray.BatchGetTracesOutput
		eventually(t, visibleTimeout, func() error {
			out, err := client.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: want})
			if err != nil {
				return fmt.Errorf("BatchGetTraces: %w", err)
			}
			if len(out.Traces) != len(want) {
				return fmt.Errorf("BatchGetTraces(%v) returned %d traces, want %d", want, len(out.Traces), len(want))
			}
			got = out
			return nil
		})
		for _, tr := range got.Traces {
			id := aws.ToString(tr.Id)
			if _, ok := segIDs[id]; !ok {
				t.Errorf("BatchGetTraces returned trace %s that was not asked for", id)
				continue
			}
			if len(tr.Segments) != 1 || aws.ToString(tr.Segments[0].Id) != segIDs[id] {
				t.Errorf("trace %s: segments %+v, want the one segment %s", id, tr.Segments, segIDs[id])
			}
			if tr.Duration == nil || *tr.Duration <= 0 {
				t.Errorf("trace %s: Duration %v, want > 0", id, tr.Duration)
			}
		}

		// More than the AWS limit of 5 ids is an InvalidRequestException.
		_, err := client.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: ids[:batchGetMax+1]})
		var ire *types.InvalidRequestException
		if !errors.As(err, &ire) || aws.ToString(ire.Message) == "" {
			t.Errorf("BatchGetTraces with %d ids: error %v, want an InvalidRequestException with a message", batchGetMax+1, err)
		}
	})

	t.Run("GetTraceSummaries paginated", func(t *testing.T) {
		input := &xray.GetTraceSummariesInput{
			StartTime: aws.Time(base.Add(-time.Minute)),
			EndTime:   aws.Time(time.Now().Add(time.Minute)),
		}
		var seen map[string]int
		var pages int
		var last []types.TraceSummary
		eventually(t, visibleTimeout, func() error {
			seen, pages, last = map[string]int{}, 0, nil
			p := xray.NewGetTraceSummariesPaginator(client, input, func(o *xray.GetTraceSummariesPaginatorOptions) {
				o.StopOnDuplicateToken = true
			})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return fmt.Errorf("GetTraceSummaries page %d: %w", pages+1, err)
				}
				pages++
				for _, s := range out.TraceSummaries {
					seen[aws.ToString(s.Id)]++
				}
				last = out.TraceSummaries
			}
			if len(seen) < len(ids) {
				return fmt.Errorf("GetTraceSummaries returned %d distinct traces in %d pages, want %d", len(seen), pages, len(ids))
			}
			return nil
		})
		t.Logf("GetTraceSummaries: %d summaries in %d pages", len(seen), pages)
		missing := 0
		for _, id := range ids {
			switch n := seen[id]; {
			case n == 0:
				missing++
			case n > 1:
				t.Errorf("trace %s returned %d times across pages", id, n)
			}
		}
		if missing > 0 || len(seen) != len(ids) {
			t.Errorf("GetTraceSummaries returned %d distinct traces with %d of ours missing, want exactly our %d", len(seen), missing, len(ids))
		}
		if pages < 2 {
			t.Errorf("GetTraceSummaries returned %d traces in %d page(s); want NextToken pagination to be exercised", len(seen), pages)
		}
		// Every summary decoded with the SDK's strict types; spot-check one page's fields.
		for _, s := range last {
			if s.ResponseTime == nil || *s.ResponseTime <= 0 || s.Http == nil || s.Http.HttpStatus == nil {
				t.Errorf("summary %s: ResponseTime %v, Http %+v, want both set", aws.ToString(s.Id), s.ResponseTime, s.Http)
				continue
			}
			wantFault := aws.ToInt32(s.Http.HttpStatus) >= 500
			if aws.ToBool(s.HasFault) != wantFault {
				t.Errorf("summary %s: HasFault %v with HttpStatus %d", aws.ToString(s.Id), aws.ToBool(s.HasFault), aws.ToInt32(s.Http.HttpStatus))
			}
			if d := *s.ResponseTime; d < 0.010-1e-6 || d > 0.016+1e-6 || math.IsNaN(d) {
				t.Errorf("summary %s: ResponseTime %v, want 0.010..0.016", aws.ToString(s.Id), d)
			}
		}
	})
}
