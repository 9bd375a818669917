package sampling

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// clock is a settable time source for one test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const t0 = 1700000000

// newRules returns an in-memory rule set at t0 with cfg's MaxRules (0: the
// default).
func newRules(t *testing.T, maxRules int, store RuleStore) (*Rules, *clock) {
	t.Helper()
	cfg := DefaultConfig()
	if maxRules > 0 {
		cfg.MaxRules = maxRules
	}
	r, err := Open(t.Context(), cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Unix(t0, 0)}
	r.now = c.now
	return r, c
}

// rule returns a valid rule to change in a test.
func rule(name string, priority int) xrayapi.SamplingRule {
	return xrayapi.SamplingRule{
		RuleName: name, ResourceARN: "*", Priority: priority, FixedRate: 0.1, ReservoirSize: 2,
		ServiceName: "Scorekeep", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*", Version: 1,
	}
}

func create(t *testing.T, r *Rules, rl xrayapi.SamplingRule) xrayapi.SamplingRuleRecord {
	t.Helper()
	out, err := r.CreateSamplingRule(t.Context(), xrayapi.CreateSamplingRuleInput{SamplingRule: rl})
	if err != nil {
		t.Fatalf("CreateSamplingRule(%+v): %v", rl, err)
	}
	return out.SamplingRuleRecord
}

// errType is the X-Ray error type of err, or "" for no error.
func errType(err error) string {
	if err == nil {
		return ""
	}
	var ae *xrayapi.Error
	if !errors.As(err, &ae) {
		return "untyped: " + err.Error()
	}
	return ae.Type
}

func names(t *testing.T, r *Rules) []string {
	t.Helper()
	out, err := r.GetSamplingRules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, rec := range out.SamplingRuleRecords {
		ns = append(ns, rec.SamplingRule.RuleName)
	}
	return ns
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*xrayapi.SamplingRule)
		want   string // error type; "" for success
	}{
		{"valid", func(*xrayapi.SamplingRule) {}, ""},
		{"name 32 chars", func(r *xrayapi.SamplingRule) { r.RuleName = strings.Repeat("n", 32) }, ""},
		{"name 33 chars", func(r *xrayapi.SamplingRule) { r.RuleName = strings.Repeat("n", 33) }, "InvalidRequestException"},
		{"empty name", func(r *xrayapi.SamplingRule) { r.RuleName = "" }, "InvalidRequestException"},
		{"name Default", func(r *xrayapi.SamplingRule) { r.RuleName = "Default" }, "InvalidRequestException"},
		{"priority 0", func(r *xrayapi.SamplingRule) { r.Priority = 0 }, "InvalidRequestException"},
		{"priority 1", func(r *xrayapi.SamplingRule) { r.Priority = 1 }, ""},
		{"priority 9999", func(r *xrayapi.SamplingRule) { r.Priority = 9999 }, ""},
		{"priority 10000", func(r *xrayapi.SamplingRule) { r.Priority = 10000 }, "InvalidRequestException"},
		{"rate 0", func(r *xrayapi.SamplingRule) { r.FixedRate = 0 }, ""},
		{"rate 1", func(r *xrayapi.SamplingRule) { r.FixedRate = 1 }, ""},
		{"rate 1.01", func(r *xrayapi.SamplingRule) { r.FixedRate = 1.01 }, "InvalidRequestException"},
		{"rate negative", func(r *xrayapi.SamplingRule) { r.FixedRate = -0.1 }, "InvalidRequestException"},
		{"reservoir 0", func(r *xrayapi.SamplingRule) { r.ReservoirSize = 0 }, ""},
		{"reservoir negative", func(r *xrayapi.SamplingRule) { r.ReservoirSize = -1 }, "InvalidRequestException"},
		{"version 0", func(r *xrayapi.SamplingRule) { r.Version = 0 }, "InvalidRequestException"},
		{"version 2", func(r *xrayapi.SamplingRule) { r.Version = 2 }, "InvalidRequestException"},
		{"service name 64", func(r *xrayapi.SamplingRule) { r.ServiceName = strings.Repeat("s", 64) }, ""},
		{"service name 65", func(r *xrayapi.SamplingRule) { r.ServiceName = strings.Repeat("s", 65) }, "InvalidRequestException"},
		{"service type 65", func(r *xrayapi.SamplingRule) { r.ServiceType = strings.Repeat("s", 65) }, "InvalidRequestException"},
		{"empty service type", func(r *xrayapi.SamplingRule) { r.ServiceType = "" }, "InvalidRequestException"},
		{"host 65", func(r *xrayapi.SamplingRule) { r.Host = strings.Repeat("h", 65) }, "InvalidRequestException"},
		{"method 10", func(r *xrayapi.SamplingRule) { r.HTTPMethod = strings.Repeat("M", 10) }, ""},
		{"method 11", func(r *xrayapi.SamplingRule) { r.HTTPMethod = strings.Repeat("M", 11) }, "InvalidRequestException"},
		{"path 128", func(r *xrayapi.SamplingRule) { r.URLPath = "/" + strings.Repeat("p", 127) }, ""},
		{"path 129", func(r *xrayapi.SamplingRule) { r.URLPath = "/" + strings.Repeat("p", 128) }, "InvalidRequestException"},
		{"resource ARN 501", func(r *xrayapi.SamplingRule) { r.ResourceARN = strings.Repeat("a", 501) }, "InvalidRequestException"},
		{"5 attributes", func(r *xrayapi.SamplingRule) {
			r.Attributes = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}
		}, ""},
		{"6 attributes", func(r *xrayapi.SamplingRule) {
			r.Attributes = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"}
		}, "InvalidRequestException"},
		{"attribute key 33", func(r *xrayapi.SamplingRule) { r.Attributes = map[string]string{strings.Repeat("k", 33): "v"} }, "InvalidRequestException"},
		{"attribute empty value", func(r *xrayapi.SamplingRule) { r.Attributes = map[string]string{"k": ""} }, "InvalidRequestException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _ := newRules(t, 0, nil)
			rl := rule("r", 100)
			tc.change(&rl)
			_, err := r.CreateSamplingRule(t.Context(), xrayapi.CreateSamplingRuleInput{SamplingRule: rl})
			if got := errType(err); got != tc.want {
				t.Errorf("CreateSamplingRule(%+v) error %v, want type %q", rl, err, tc.want)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	r, _ := newRules(t, 2, nil)
	in := rule("base-scorekeep", 9000)
	in.RuleARN = "arn:aws:xray:eu-west-1:123:sampling-rule/ignored"
	got := create(t, r, in)
	want := rule("base-scorekeep", 9000)
	want.RuleARN = "arn:aws:xray:us-east-1:000000000000:sampling-rule/base-scorekeep"
	want.Attributes = map[string]string{}
	if diff := cmp.Diff(xrayapi.SamplingRuleRecord{SamplingRule: want, CreatedAt: t0, ModifiedAt: t0}, got); diff != "" {
		t.Errorf("created record (-want +got):\n%s", diff)
	}

	_, err := r.CreateSamplingRule(t.Context(), xrayapi.CreateSamplingRuleInput{SamplingRule: rule("base-scorekeep", 1)})
	if errType(err) != "InvalidRequestException" {
		t.Errorf("duplicate name: error %v, want InvalidRequestException", err)
	}
	create(t, r, rule("second", 1))
	_, err = r.CreateSamplingRule(t.Context(), xrayapi.CreateSamplingRuleInput{SamplingRule: rule("third", 1)})
	if errType(err) != "RuleLimitExceededException" {
		t.Errorf("third rule with MaxRules 2: error %v, want RuleLimitExceededException", err)
	}
	var ae *xrayapi.Error
	if errors.As(err, &ae) && ae.Status != 400 {
		t.Errorf("RuleLimitExceededException status %d, want 400", ae.Status)
	}
	if diff := cmp.Diff([]string{"second", "base-scorekeep", "Default"}, names(t, r)); diff != "" {
		t.Errorf("rules after failed creates (-want +got):\n%s", diff)
	}
}

func TestListOrder(t *testing.T) {
	t.Parallel()
	r, _ := newRules(t, 0, nil)
	for _, rl := range []xrayapi.SamplingRule{rule("b", 5000), rule("z", 1), rule("a", 5000), rule("last", 9999)} {
		create(t, r, rl)
	}
	if diff := cmp.Diff([]string{"z", "a", "b", "last", "Default"}, names(t, r)); diff != "" {
		t.Errorf("rule order (-want +got):\n%s", diff)
	}
	// Changing a priority moves the rule.
	if _, err := r.UpdateSamplingRule(t.Context(), xrayapi.UpdateSamplingRuleInput{SamplingRuleUpdate: xrayapi.SamplingRuleUpdate{
		RuleName: ptr("z"), Priority: ptr(6000),
	}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "z", "last", "Default"}, names(t, r)); diff != "" {
		t.Errorf("rule order after update (-want +got):\n%s", diff)
	}
}

func TestListIsACopy(t *testing.T) {
	t.Parallel()
	r, _ := newRules(t, 0, nil)
	out, _ := r.GetSamplingRules(t.Context())
	out.SamplingRuleRecords[0].SamplingRule.Attributes["x"] = "y"
	out, _ = r.GetSamplingRules(t.Context())
	if len(out.SamplingRuleRecords[0].SamplingRule.Attributes) != 0 {
		t.Errorf("a caller changed the stored Default rule: %+v", out.SamplingRuleRecords[0])
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:xray:us-east-1:000000000000:sampling-rule/r"
	defaultARN := "arn:aws:xray:us-east-1:000000000000:sampling-rule/Default"
	for _, tc := range []struct {
		name    string
		update  xrayapi.SamplingRuleUpdate
		wantErr string
		want    func(*xrayapi.SamplingRule) // applied to rule("r", 100) or Default
	}{
		{
			name:   "by name, some members",
			update: xrayapi.SamplingRuleUpdate{RuleName: ptr("r"), FixedRate: ptr(0.5), URLPath: ptr("/api/*")},
			want:   func(r *xrayapi.SamplingRule) { r.FixedRate, r.URLPath = 0.5, "/api/*" },
		},
		{
			name:   "by ARN, attributes",
			update: xrayapi.SamplingRuleUpdate{RuleARN: ptr(arn), Attributes: map[string]string{"k": "v"}, ReservoirSize: ptr(0)},
			want:   func(r *xrayapi.SamplingRule) { r.Attributes, r.ReservoirSize = map[string]string{"k": "v"}, 0 },
		},
		{name: "name and ARN disagree", update: xrayapi.SamplingRuleUpdate{RuleName: ptr("r"), RuleARN: ptr(defaultARN)}, wantErr: "InvalidRequestException"},
		{name: "no name", update: xrayapi.SamplingRuleUpdate{FixedRate: ptr(0.5)}, wantErr: "InvalidRequestException"},
		{name: "unknown rule", update: xrayapi.SamplingRuleUpdate{RuleName: ptr("nope"), FixedRate: ptr(0.5)}, wantErr: "InvalidRequestException"},
		{name: "invalid value", update: xrayapi.SamplingRuleUpdate{RuleName: ptr("r"), Priority: ptr(0)}, wantErr: "InvalidRequestException"},
		{
			name:   "Default rate and reservoir",
			update: xrayapi.SamplingRuleUpdate{RuleName: ptr("Default"), FixedRate: ptr(0.2), ReservoirSize: ptr(7)},
			want:   func(r *xrayapi.SamplingRule) { r.FixedRate, r.ReservoirSize = 0.2, 7 },
		},
		{
			name:   "Default with unchanged members",
			update: xrayapi.SamplingRuleUpdate{RuleARN: ptr(defaultARN), FixedRate: ptr(0.2), Host: ptr("*"), Priority: ptr(10000), Attributes: map[string]string{}},
			want:   func(r *xrayapi.SamplingRule) { r.FixedRate = 0.2 },
		},
		{name: "Default priority", update: xrayapi.SamplingRuleUpdate{RuleName: ptr("Default"), Priority: ptr(1)}, wantErr: "InvalidRequestException"},
		{name: "Default host", update: xrayapi.SamplingRuleUpdate{RuleName: ptr("Default"), Host: ptr("example.com")}, wantErr: "InvalidRequestException"},
		{name: "Default attributes", update: xrayapi.SamplingRuleUpdate{RuleName: ptr("Default"), Attributes: map[string]string{"k": "v"}}, wantErr: "InvalidRequestException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, c := newRules(t, 0, nil)
			before := create(t, r, rule("r", 100))
			c.advance(1500 * time.Millisecond)
			out, err := r.UpdateSamplingRule(t.Context(), xrayapi.UpdateSamplingRuleInput{SamplingRuleUpdate: tc.update})
			if got := errType(err); got != tc.wantErr {
				t.Fatalf("UpdateSamplingRule(%+v) error %v, want type %q", tc.update, err, tc.wantErr)
			}
			rules, _ := r.GetSamplingRules(t.Context())
			if err != nil {
				// Nothing changed.
				if diff := cmp.Diff([]xrayapi.SamplingRuleRecord{before, Default()}, rules.SamplingRuleRecords); diff != "" {
					t.Errorf("rules after failed update (-want +got):\n%s", diff)
				}
				return
			}
			want := before
			if tc.update.RuleName != nil && *tc.update.RuleName == "Default" || tc.update.RuleARN != nil && *tc.update.RuleARN == defaultARN {
				want = Default()
			}
			tc.want(&want.SamplingRule)
			want.ModifiedAt = t0 + 1.5
			if diff := cmp.Diff(want, out.SamplingRuleRecord); diff != "" {
				t.Errorf("UpdateSamplingRule(%+v) (-want +got):\n%s", tc.update, diff)
			}
			if !cmp.Equal(want, rules.SamplingRuleRecords[0]) && !cmp.Equal(want, rules.SamplingRuleRecords[1]) {
				t.Errorf("GetSamplingRules after update = %+v, want it to hold %+v", rules.SamplingRuleRecords, want)
			}
			targets, _ := r.GetSamplingTargets(t.Context(), xrayapi.GetSamplingTargetsInput{})
			if targets.LastRuleModification != t0+1.5 {
				t.Errorf("LastRuleModification = %v, want %v", targets.LastRuleModification, t0+1.5)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	r, _ := newRules(t, 0, nil)
	a := create(t, r, rule("a", 1))
	create(t, r, rule("b", 2))
	if _, err := r.GetSamplingTargets(t.Context(), xrayapi.GetSamplingTargetsInput{
		SamplingStatisticsDocuments: []xrayapi.SamplingStatisticsDocument{doc("a", clientA, 5, t0)},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		in      xrayapi.DeleteSamplingRuleInput
		wantErr string
	}{
		{"Default by name", xrayapi.DeleteSamplingRuleInput{RuleName: ptr("Default")}, "InvalidRequestException"},
		{"Default by ARN", xrayapi.DeleteSamplingRuleInput{RuleARN: ptr(Default().SamplingRule.RuleARN)}, "InvalidRequestException"},
		{"unknown", xrayapi.DeleteSamplingRuleInput{RuleName: ptr("nope")}, "InvalidRequestException"},
		{"neither name nor ARN", xrayapi.DeleteSamplingRuleInput{}, "InvalidRequestException"},
		{"a by ARN", xrayapi.DeleteSamplingRuleInput{RuleARN: ptr(a.SamplingRule.RuleARN)}, ""},
		{"a again", xrayapi.DeleteSamplingRuleInput{RuleName: ptr("a")}, "InvalidRequestException"},
		{"b by name", xrayapi.DeleteSamplingRuleInput{RuleName: ptr("b")}, ""},
	} {
		out, err := r.DeleteSamplingRule(t.Context(), tc.in)
		if got := errType(err); got != tc.wantErr {
			t.Errorf("%s: DeleteSamplingRule(%+v) error %v, want type %q", tc.name, tc.in, err, tc.wantErr)
		}
		if err == nil && out.SamplingRuleRecord.SamplingRule.RuleName == "" {
			t.Errorf("%s: DeleteSamplingRule returned no record", tc.name)
		}
	}
	if diff := cmp.Diff([]string{"Default"}, names(t, r)); diff != "" {
		t.Errorf("rules after deletes (-want +got):\n%s", diff)
	}
	sum, _ := r.GetSamplingStatisticSummaries(t.Context(), xrayapi.GetSamplingStatisticSummariesInput{})
	if len(sum.SamplingStatisticSummaries) != 0 {
		t.Errorf("statistics of deleted rule kept: %+v", sum.SamplingStatisticSummaries)
	}
}
