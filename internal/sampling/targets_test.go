package sampling

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

const (
	clientA = "aaaaaaaaaaaaaaaaaaaaaaaa"
	clientB = "bbbbbbbbbbbbbbbbbbbbbbbb"
	clientC = "cccccccccccccccccccccccc"
)

func doc(ruleName, client string, requests int64, ts float64) xrayapi.SamplingStatisticsDocument {
	return xrayapi.SamplingStatisticsDocument{
		RuleName: ruleName, ClientID: client, RequestCount: requests, SampledCount: requests / 2, BorrowCount: 1, Timestamp: xrayapi.Time(ts),
	}
}

// targets reports one document and returns the quota of its rule's target.
func targets(t *testing.T, r *Rules, d xrayapi.SamplingStatisticsDocument) xrayapi.SamplingTargetDocument {
	t.Helper()
	out, err := r.GetSamplingTargets(t.Context(), xrayapi.GetSamplingTargetsInput{SamplingStatisticsDocuments: []xrayapi.SamplingStatisticsDocument{d}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SamplingTargetDocuments) != 1 {
		t.Fatalf("GetSamplingTargets(%+v) = %+v, want one target", d, out)
	}
	return out.SamplingTargetDocuments[0]
}

func TestQuotaSplit(t *testing.T) {
	t.Parallel()
	type report struct {
		client   string
		requests int64
		after    time.Duration // clock advance before the report
		want     int           // quota
	}
	for _, tc := range []struct {
		name      string
		reservoir int
		reports   []report
	}{
		{"lone client gets the whole reservoir", 4, []report{{clientA, 10, 0, 4}, {clientA, 0, 10 * time.Second, 4}}},
		{"3:1 of 4", 4, []report{{clientA, 30, 0, 4}, {clientB, 10, time.Second, 1}, {clientA, 0, time.Second, 3}}},
		{"3:1 of 5 rounds down", 5, []report{{clientA, 30, 0, 5}, {clientB, 10, time.Second, 1}, {clientA, 0, time.Second, 3}}},
		{"equal thirds of 2", 2, []report{{clientA, 5, 0, 2}, {clientB, 5, 0, 1}, {clientC, 5, 0, 0}, {clientA, 0, 0, 0}, {clientB, 0, 0, 0}}},
		{"no requests: even split", 5, []report{{clientA, 0, 0, 5}, {clientB, 0, 0, 2}, {clientA, 0, 0, 2}}},
		{"reservoir 0", 0, []report{{clientA, 10, 0, 0}, {clientB, 10, 0, 0}}},
		{"other client leaves the window", 4, []report{{clientA, 30, 0, 4}, {clientB, 10, 0, 1}, {clientB, 10, 31 * time.Second, 4}}},
		{"huge counts do not overflow", 1000, []report{{clientA, 1 << 62, 0, 1000}, {clientB, 1 << 62, 0, 500}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, c := newRules(t, 0, nil)
			rl := rule("r", 1)
			rl.ReservoirSize = tc.reservoir
			create(t, r, rl)
			for i, rep := range tc.reports {
				c.advance(rep.after)
				got := targets(t, r, doc("r", rep.client, rep.requests, float64(c.now().Unix())))
				if *got.ReservoirQuota != rep.want {
					t.Errorf("report %d %+v: quota %d, want %d", i, rep, *got.ReservoirQuota, rep.want)
				}
			}
		})
	}
}

// The quotas handed out for one window never add up to more than the
// reservoir, and follow the clients' shares.
func TestQuotaSum(t *testing.T) {
	t.Parallel()
	r, _ := newRules(t, 0, nil)
	rl := rule("r", 1)
	rl.ReservoirSize = 4
	create(t, r, rl)
	targets(t, r, doc("r", clientA, 30, t0))
	targets(t, r, doc("r", clientB, 10, t0))
	qa := *targets(t, r, doc("r", clientA, 0, t0)).ReservoirQuota
	qb := *targets(t, r, doc("r", clientB, 0, t0)).ReservoirQuota
	if qa+qb > 4 || qa != 3*qb {
		t.Errorf("quotas for 3:1 of 4: A %d, B %d; want a sum ≤ 4 in proportion 3:1", qa, qb)
	}
}

func TestTargetDocument(t *testing.T) {
	t.Parallel()
	r, c := newRules(t, 0, nil)
	rl := rule("base-scorekeep", 9000)
	create(t, r, rl)
	c.advance(97 * time.Second)
	out, err := r.GetSamplingTargets(t.Context(), xrayapi.GetSamplingTargetsInput{SamplingStatisticsDocuments: []xrayapi.SamplingStatisticsDocument{
		doc("base-scorekeep", clientA, 110, t0+97),
		doc("gone", clientA, 1, t0+97),
		doc("Default", "", 1, t0+97),
		doc("Default", clientA, -1, t0+97),
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := &xrayapi.GetSamplingTargetsOutput{
		SamplingTargetDocuments: []xrayapi.SamplingTargetDocument{{
			RuleName: "base-scorekeep", FixedRate: 0.1, ReservoirQuota: ptr(2), ReservoirQuotaTTL: ptr(t0 + 97 + 300.0), Interval: ptr(10),
		}},
		LastRuleModification: t0,
		UnprocessedStatistics: []xrayapi.UnprocessedStatistics{
			{RuleName: "gone", ErrorCode: "404", Message: "Rule not found"},
			{RuleName: "Default", ErrorCode: "400", Message: "ClientID is required and counts must not be negative"},
			{RuleName: "Default", ErrorCode: "400", Message: "ClientID is required and counts must not be negative"},
		},
	}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("GetSamplingTargets (-want +got):\n%s", diff)
	}
}

func TestStatisticSummaries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ts   float64 // document Timestamp; the clock is at t0+20
		want float64 // summary Timestamp
	}{
		{"seconds", t0 + 5, t0 + 5},
		{"milliseconds, as Java sends", (t0+5)*1000 + 250, t0 + 5.25},
		{"future: now", t0 + 3600, t0 + 20},
		{"before the window: now", t0 - 3600, t0 + 20},
		{"missing: now", 0, t0 + 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, c := newRules(t, 0, nil)
			create(t, r, rule("r", 1))
			c.advance(20 * time.Second)
			targets(t, r, doc("r", clientA, 10, tc.ts))
			targets(t, r, doc("r", clientB, 4, float64(c.now().Unix())))
			targets(t, r, doc("Default", clientB, 3, float64(c.now().Unix())))
			got, err := r.GetSamplingStatisticSummaries(t.Context(), xrayapi.GetSamplingStatisticSummariesInput{})
			if err != nil {
				t.Fatal(err)
			}
			want := &xrayapi.GetSamplingStatisticSummariesOutput{SamplingStatisticSummaries: []xrayapi.SamplingStatisticSummary{
				{RuleName: "r", Timestamp: tc.want, RequestCount: 14, SampledCount: 7, BorrowCount: 2},
				{RuleName: "Default", Timestamp: t0 + 20, RequestCount: 3, SampledCount: 1, BorrowCount: 1},
			}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("summaries after a document stamped %v (-want +got):\n%s", tc.ts, diff)
			}
		})
	}
}

func TestStatisticsExpire(t *testing.T) {
	t.Parallel()
	r, c := newRules(t, 0, nil)
	targets(t, r, doc("Default", clientA, 10, t0))
	c.advance(30 * time.Second)
	got, _ := r.GetSamplingStatisticSummaries(t.Context(), xrayapi.GetSamplingStatisticSummariesInput{})
	if len(got.SamplingStatisticSummaries) != 0 || len(r.stats) != 0 {
		t.Errorf("statistics older than the window kept: %+v, %v", got, r.stats)
	}
}

// Integers have no decimal point (aws-sdk-go-v2 reads them with Int64) and
// times are numbers (Node rejects anything else).
func TestWireNumbers(t *testing.T) {
	t.Parallel()
	r, c := newRules(t, 0, nil)
	c.advance(500 * time.Millisecond)
	create(t, r, rule("r", 9000))
	var outs []any
	rules, _ := r.GetSamplingRules(t.Context())
	tg, _ := r.GetSamplingTargets(t.Context(), xrayapi.GetSamplingTargetsInput{SamplingStatisticsDocuments: []xrayapi.SamplingStatisticsDocument{
		doc("r", clientA, 10, t0*1000),
	}})
	sum, _ := r.GetSamplingStatisticSummaries(t.Context(), xrayapi.GetSamplingStatisticSummariesInput{})
	outs = append(outs, rules, tg, sum)
	member := regexp.MustCompile(`"(\w+)":([^,}\]]*)`)
	integer := regexp.MustCompile(`^\d+$`)
	number := regexp.MustCompile(`^\d+(\.\d+)?$`)
	kinds := map[string]*regexp.Regexp{
		"Priority": integer, "ReservoirSize": integer, "Version": integer, "ReservoirQuota": integer, "Interval": integer,
		"RequestCount": integer, "SampledCount": integer, "BorrowCount": integer,
		"CreatedAt": number, "ModifiedAt": number, "LastRuleModification": number, "ReservoirQuotaTTL": number, "Timestamp": number,
	}
	seen := map[string]bool{}
	for _, o := range outs {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range member.FindAllStringSubmatch(string(b), -1) {
			if re, ok := kinds[m[1]]; ok {
				seen[m[1]] = true
				if !re.MatchString(m[2]) {
					t.Errorf("%s is %s, want it to match %s, in %s", m[1], m[2], re, b)
				}
			}
		}
	}
	if len(seen) != len(kinds) {
		t.Errorf("members checked: %v, want all of %v", seen, kinds)
	}
	b, _ := json.Marshal(tg)
	want := `{"SamplingTargetDocuments":[{"RuleName":"r","FixedRate":0.1,"ReservoirQuota":2,"ReservoirQuotaTTL":1700000300,"Interval":10}],"LastRuleModification":1700000000.5,"UnprocessedStatistics":[]}`
	if string(b) != want {
		t.Errorf("targets JSON:\n got %s\nwant %s", b, want)
	}
}
