package sampling

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// The Default rule as spec/xray.md §3.6 prints it.
const defaultRuleJSON = `{
  "SamplingRule": {
    "RuleName": "Default",
    "RuleARN": "arn:aws:xray:us-east-1:000000000000:sampling-rule/Default",
    "ResourceARN": "*", "Priority": 10000, "FixedRate": 0.05, "ReservoirSize": 1,
    "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*",
    "Version": 1, "Attributes": {}
  },
  "CreatedAt": 0.0,
  "ModifiedAt": 1529959993.0
}`

func TestDefaultRule(t *testing.T) {
	t.Parallel()
	got, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	var gotMap, wantMap map[string]any
	if err := json.Unmarshal(got, &gotMap); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(defaultRuleJSON), &wantMap); err != nil {
		t.Fatal(err)
	}
	// Same members and values: every member SDKs require is present, and
	// Attributes is {} (Node rejects a rule without it, Java a null map).
	if diff := cmp.Diff(wantMap, gotMap); diff != "" {
		t.Errorf("Default rule JSON (-spec +got):\n%s\ngot %s", diff, got)
	}
}

func TestGetSamplingRules(t *testing.T) {
	t.Parallel()
	out, err := New().GetSamplingRules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&xrayapi.GetSamplingRulesOutput{SamplingRuleRecords: []xrayapi.SamplingRuleRecord{Default()}}, out); diff != "" {
		t.Errorf("GetSamplingRules (-want +got):\n%s", diff)
	}
}

func stats(rule, client string) xrayapi.SamplingStatisticsDocument {
	return xrayapi.SamplingStatisticsDocument{RuleName: rule, ClientID: client, RequestCount: 31, SampledCount: 2, BorrowCount: 1, Timestamp: 1700000010}
}

func ptr[T any](v T) *T { return &v }

func TestGetSamplingTargets(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000010, 0)
	defaultTarget := xrayapi.SamplingTargetDocument{
		RuleName: "Default", FixedRate: 0.05, ReservoirQuota: ptr(1), ReservoirQuotaTTL: ptr(1700000310.0), Interval: ptr(10),
	}
	for _, tc := range []struct {
		name string
		in   []xrayapi.SamplingStatisticsDocument
		want xrayapi.GetSamplingTargetsOutput
	}{
		{
			name: "no statistics",
			want: xrayapi.GetSamplingTargetsOutput{
				SamplingTargetDocuments: []xrayapi.SamplingTargetDocument{},
				LastRuleModification:    1529959993,
				UnprocessedStatistics:   []xrayapi.UnprocessedStatistics{},
			},
		},
		{
			name: "Default",
			in:   []xrayapi.SamplingStatisticsDocument{stats("Default", "a1b2c3d4e5f60718293a4b5c")},
			want: xrayapi.GetSamplingTargetsOutput{
				SamplingTargetDocuments: []xrayapi.SamplingTargetDocument{defaultTarget},
				LastRuleModification:    1529959993,
				UnprocessedStatistics:   []xrayapi.UnprocessedStatistics{},
			},
		},
		{
			name: "unknown rule and Default twice",
			in: []xrayapi.SamplingStatisticsDocument{
				stats("base-scorekeep", "a1b2c3d4e5f60718293a4b5c"),
				stats("Default", "a1b2c3d4e5f60718293a4b5c"),
				stats("Default", "a1b2c3d4e5f60718293a4b5c"),
			},
			want: xrayapi.GetSamplingTargetsOutput{
				SamplingTargetDocuments: []xrayapi.SamplingTargetDocument{defaultTarget},
				LastRuleModification:    1529959993,
				UnprocessedStatistics: []xrayapi.UnprocessedStatistics{
					{RuleName: "base-scorekeep", ErrorCode: "404", Message: "Rule not found"},
				},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := New()
			r.now = func() time.Time { return now }
			out, err := r.GetSamplingTargets(t.Context(), xrayapi.GetSamplingTargetsInput{SamplingStatisticsDocuments: tc.in})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tc.want, out); diff != "" {
				t.Errorf("GetSamplingTargets(%+v) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// The answer the spec shows an SDK receiving (§3.4) decodes into the same
// shape thaw answers with.
func TestTargetsWireExample(t *testing.T) {
	t.Parallel()
	r := New()
	r.now = func() time.Time { return time.Unix(1700000010, 0) }
	out, err := r.GetSamplingTargets(t.Context(), xrayapi.GetSamplingTargetsInput{
		SamplingStatisticsDocuments: []xrayapi.SamplingStatisticsDocument{stats("Default", "a1b2c3d4e5f60718293a4b5c")},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	// As in the spec's wire example, with the Default rule's ModifiedAt.
	want := `{"SamplingTargetDocuments":[{"RuleName":"Default","FixedRate":0.05,"ReservoirQuota":1,"ReservoirQuotaTTL":1700000310,"Interval":10}],"LastRuleModification":1529959993,"UnprocessedStatistics":[]}`
	if string(got) != want {
		t.Errorf("wire answer:\n got %s\nwant %s", got, want)
	}
}
