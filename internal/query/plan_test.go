package query_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thawtrace/thaw/internal/loadgen"
	"github.com/thawtrace/thaw/internal/query"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/store/embedded"
	"github.com/thawtrace/thaw/internal/store/storetest"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// unindexed hides the store's term index: it drops every query's Match, so
// the store scans the whole window.
type unindexed struct{ store.Reader }

func (u unindexed) Summaries(ctx context.Context, q store.SummaryQuery) iter.Seq2[store.Hit, error] {
	q.Match = store.Match{}
	return u.Reader.Summaries(ctx, q)
}

// testGroups is a fixed set of groups for group.name in plans.
type testGroups map[string]xrayapi.Group

func (g testGroups) Lookup(key string) (xrayapi.Group, bool) {
	for _, grp := range g {
		if grp.GroupName == key || grp.GroupARN == key {
			return grp, true
		}
	}
	return xrayapi.Group{}, false
}

// planTraces writes a mixed trace set to db over ten minutes from t0: the
// load generator's register scenario (cold starts, failing third-party
// calls), the store suite's API → Lambda → DynamoDB traces (throttles), and
// single segments with typed annotations, users, statuses, flags and slow
// responses.
func planTraces(t *testing.T, db *embedded.DB, t0 time.Time) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 11))
	gen := loadgen.New(11)
	gen.ColdStartRate, gen.ErrorRate = 0.2, 0.2
	var docs []segment.Document
	decode := func(raw []byte) {
		ds, errs := segment.Decode(raw, 0)
		if len(errs) > 0 {
			t.Fatalf("Decode(%s): %v", raw, errs)
		}
		docs = append(docs, ds...)
	}
	for i := range 400 {
		at := t0.Add(time.Duration(rng.IntN(600_000)) * time.Millisecond)
		switch i % 3 {
		case 0:
			for _, d := range gen.Trace(at).Docs {
				decode(d)
			}
		case 1:
			docs = append(docs, storetest.GenTrace(rng, at)...)
		default:
			start := float64(at.UnixMicro()) / 1e6
			dur := []float64{0.004, 0.3, 0.8, 1.7, 7, 45}[rng.IntN(6)]
			flags := []string{``, `"fault":true,`, `"error":true,`, `"throttle":true,"error":true,`}[rng.IntN(4)]
			status := []int{200, 200, 404, 429, 500, 503}[rng.IntN(6)]
			decode(fmt.Appendf(nil, `{"trace_id":"1-%08x-%024x","id":"%016x","name":"svc-%d","start_time":%f,"end_time":%f,%s
				"user":"u%d","http":{"request":{"method":"GET","url":"https://x.example/%d"},"response":{"status":%d}},
				"annotations":{"tier":%q,"n":%d,"beta":%t,"ratio":%g}}`,
				at.Unix(), i, i+1, rng.IntN(3), start, start+dur, flags, rng.IntN(5), i, status,
				[]string{"gold", "silver", "Gold"}[rng.IntN(3)], rng.IntN(4)-1, rng.IntN(2) == 0, float64(rng.IntN(3))/2))
		}
	}
	if err := db.WriteDocuments(t.Context(), docs); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestPlanNeverNarrowsResults is the guard on the query planner: for every
// expression, searching with the term index returns exactly what scanning
// every summary returns, in the same order, for each time range type. A plan
// rule that admitted fewer traces than the evaluator matches fails here.
func TestPlanNeverNarrowsResults(t *testing.T) {
	t.Parallel()
	db := openEmbedded(t)
	t0 := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	planTraces(t, db, t0)

	groups := testGroups{
		"slow":   {GroupName: "slow", GroupARN: "arn:aws:xray:us-east-1:000000000000:group/slow/1", FilterExpression: "responsetime >= 2"},
		"gold":   {GroupName: "gold", GroupARN: "arn:aws:xray:us-east-1:000000000000:group/gold/2", FilterExpression: `annotation.tier = "gold" AND fault`},
		"all":    {GroupName: "all", GroupARN: "arn:aws:xray:us-east-1:000000000000:group/all/3"},
		"nested": {GroupName: "nested", GroupARN: "arn:aws:xray:us-east-1:000000000000:group/nested/4", FilterExpression: `group.name = "gold" OR user = "u1"`},
	}
	cfg := query.DefaultConfig()
	cfg.PageSize = 1000
	indexed := query.New(cfg, db, groups, nil)
	scanned := query.New(cfg, unindexed{db}, groups, nil)

	exprs := []string{
		`fault`, `error`, `throttle`, `partial`, `fault = true`, `!fault`, `fault = false`, `ok`,
		`error AND throttle`, `fault OR error`, `fault OR ok`, `!(fault OR error)`,
		`annotation.tier = "gold"`, `annotation.tier = "Gold"`, `annotation.tier != "gold"`, `annotation.tier CONTAINS "ol"`,
		`annotation.n = 0`, `annotation.n = -0`, `annotation.n = 1`, `annotation.n = -1`, `annotation.n > 0`, `annotation.n = "1"`,
		`annotation.beta = true`, `annotation.beta = false`, `annotation.beta`, `annotation.ratio = 0.5`,
		`annotation.ColdStart = true`, `annotation.user_id = "user-42"`, `annotation.plan = "pro" AND annotation.ColdStart = true`,
		`annotation.tier = "gold" annotation.beta = true`, `annotation.tier = "gold" OR annotation.tier = "silver"`,
		`responsetime > 1`, `responsetime >= 0.5`, `responsetime > 0.2`, `responsetime = 7`, `responsetime < 1`,
		`duration > 5`, `duration >= 45`, `duration > 1000`, `responsetime > 2 AND fault`,
		`http.status = 404`, `http.status = 500`, `http.status = 200`, `http.status = 404.5`, `http.status >= 500`, `http.status = 1e300`,
		`user = "u1"`, `user = "u1" OR user = "u2"`, `user = "u3" AND error`, `user != "u1"`, `user CONTAINS "u"`,
		`message CONTAINS "503"`, `message`, `message != "x"`,
		`rootcause.fault.service { name = "api.partner.example" }`, `rootcause.error.entity { remote }`, `rootcause.responsetime.service {}`,
		`service("svc-1") AND fault`, `service() { fault }`, `edge("svc-0", "svc-1")`, `service("svc-1") { fault }`, `!service("svc-0")`,
		`service("users")`, `service("users") { ok }`, `service("api.partner.example") { fault }`, `service("nope")`,
		`service(id(name: "register-1", type: "AWS::Lambda::Function"))`, `service(id(type: "AWS::Lambda"))`, `service(id(name: "users-api/prod"))`,
		`edge("register-1", "api.partner.example")`, `edge(id(name: "users-api/prod"), "register-2") { responsetime > 0.05 }`, `edge("users-api/prod", "users")`,
		`name = "svc-2"`, `name = "DynamoDB"`, `name != "svc-2"`, `type = "AWS::DynamoDB::Table"`,
		`group.name = "slow"`, `group.name = "gold"`, `group.name != "gold"`, `group.name = "all" AND fault`, `group.name = "nested"`,
		`group.arn = "arn:aws:xray:us-east-1:000000000000:group/slow/1"`,
		`(fault OR throttle) AND (user = "u0" OR annotation.tier = "gold")`,
		manyUsers(40), // more terms than a plan takes: scanned
		manyUsers(20),
	}
	start, end := float64(t0.Add(-time.Minute).Unix()), float64(t0.Add(11*time.Minute).Unix())
	nonEmpty, narrowed := 0, 0
	for _, expr := range exprs {
		for _, rt := range []string{"TraceId", "Event", "Service"} {
			in := xrayapi.GetTraceSummariesInput{StartTime: ptr(xrayapi.Time(start)), EndTime: ptr(xrayapi.Time(end)), FilterExpression: expr, TimeRangeType: rt}
			want, err := scanned.GetTraceSummaries(t.Context(), in)
			if err != nil {
				t.Fatalf("%s over %s without the index: %v", expr, rt, err)
			}
			got, err := indexed.GetTraceSummaries(t.Context(), in)
			if err != nil {
				t.Fatalf("%s over %s with the index: %v", expr, rt, err)
			}
			if w, g := summaryIDs(want), summaryIDs(got); !slices.Equal(w, g) {
				t.Errorf("%s over %s: the index finds %d traces, the scan %d\n index: %v\n scan:  %v", expr, rt, len(g), len(w), g, w)
			}
			if len(want.TraceSummaries) > 0 {
				nonEmpty++
			}
			if got.TracesProcessedCount < want.TracesProcessedCount {
				narrowed++
			}
		}
	}
	// The comparison proves something only if many expressions match
	// traces and many are narrowed by the index.
	if searches := 3 * len(exprs); nonEmpty < searches*3/4 || narrowed < searches/2 {
		t.Errorf("%d of %d searches matched traces and %d read fewer summaries with the index; the trace set no longer exercises the planner", nonEmpty, 3*len(exprs), narrowed)
	}
}

func summaryIDs(out *xrayapi.GetTraceSummariesOutput) []string {
	ids := make([]string, 0, len(out.TraceSummaries))
	for _, s := range out.TraceSummaries {
		ids = append(ids, s.ID)
	}
	return ids
}

// manyUsers is user = "u0" OR user = "u1" ... with n users.
func manyUsers(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(" OR ")
		}
		fmt.Fprintf(&b, "user = %q", fmt.Sprintf("u%d", i))
	}
	return b.String()
}
