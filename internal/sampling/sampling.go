// Package sampling is X-Ray central sampling (spec/xray.md §3.4–3.6, §4.6):
// the rule set with its AWS validation and the non-deletable Default rule,
// the reservoir quotas handed to reporting SDKs, and per-rule statistics.
// It imports only the wire types of xrayapi, never a store: persistence goes
// through the RuleStore it declares.
package sampling

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// DefaultRuleName is the name of the rule that always exists.
const DefaultRuleName = "Default"

// defaultModifiedAt is the Default rule's ModifiedAt, as AWS documents it.
const defaultModifiedAt = 1529959993.0

// Config sets the limits and timings of a rule set.
type Config struct {
	// MaxRules is how many rules besides Default may exist; creating one
	// more fails with RuleLimitExceededException.
	MaxRules int
	// Window is how far back client statistics count towards quota shares
	// and statistic summaries.
	Window time.Duration
	// QuotaTTL is how long a reservoir quota stays valid (at most 5 min).
	QuotaTTL time.Duration
	// Interval is the polling interval suggested to SDKs, in whole seconds.
	Interval time.Duration
	// Region and Account go into rule ARNs.
	Region, Account string
}

// DefaultConfig returns AWS's values: 25 rules, 10 s polling, 5 min quotas,
// and a 30 s window so that a client polling every 10 s with jitter always
// has a report in it.
func DefaultConfig() Config {
	return Config{
		MaxRules: 25,
		Window:   30 * time.Second,
		QuotaTTL: 5 * time.Minute,
		Interval: 10 * time.Second,
		Region:   "us-east-1",
		Account:  "000000000000",
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.MaxRules < 0:
		return fmt.Errorf("sampling: MaxRules %d is negative", c.MaxRules)
	case c.Window <= 0:
		return fmt.Errorf("sampling: Window %s must be positive", c.Window)
	case c.QuotaTTL <= 0 || c.QuotaTTL > 5*time.Minute:
		return fmt.Errorf("sampling: QuotaTTL %s must be in (0, 5m]", c.QuotaTTL)
	case c.Interval < time.Second || c.Interval%time.Second != 0:
		return fmt.Errorf("sampling: Interval %s must be a whole number of seconds", c.Interval)
	case c.Region == "" || c.Account == "":
		return errors.New("sampling: Region and Account must be set")
	}
	return nil
}

// Rules is a sampling rule set with its client statistics. It is safe for
// concurrent use.
type Rules struct {
	cfg   Config
	store RuleStore // nil: in memory only
	now   func() time.Time

	// writeMu serialises changes, so that a slow SaveRules never blocks the
	// readers, which take only mu.
	writeMu sync.Mutex

	mu sync.Mutex
	// rules is ordered by priority then name, and replaced, never changed
	// in place, so a snapshot taken under mu can be read without it.
	rules []xrayapi.SamplingRuleRecord
	stats map[string]map[string][]report // rule name → client ID → reports
}

// New returns an in-memory rule set with only the Default rule and
// DefaultConfig.
func New() *Rules {
	r, err := Open(context.Background(), DefaultConfig(), nil)
	if err != nil {
		panic(err) // the default config is valid and there is no store to fail
	}
	return r
}

// Open returns a rule set that loads its rules from store and saves them
// there after each change. With a nil store the rules live in memory only.
// Without saved rules it starts with only the Default rule.
func Open(ctx context.Context, cfg Config, store RuleStore) (*Rules, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Rules{cfg: cfg, store: store, now: time.Now, stats: map[string]map[string][]report{}}
	r.rules = []xrayapi.SamplingRuleRecord{r.defaultRule()}
	if store == nil {
		return r, nil
	}
	data, err := store.LoadRules(ctx)
	if errors.Is(err, ErrNoRules) || (err == nil && len(data) == 0) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load sampling rules: %w", err)
	}
	rules, err := decodeRules(data)
	if err != nil {
		return nil, fmt.Errorf("load sampling rules: %w", err)
	}
	if !slices.ContainsFunc(rules, isDefault) {
		rules = append(rules, r.defaultRule())
	}
	sortRules(rules)
	r.rules = rules
	return r, nil
}

// Default is the Default rule of spec/xray.md §3.6.
func Default() xrayapi.SamplingRuleRecord {
	return xrayapi.SamplingRuleRecord{
		SamplingRule: xrayapi.SamplingRule{
			RuleName: DefaultRuleName, RuleARN: "arn:aws:xray:us-east-1:000000000000:sampling-rule/Default",
			ResourceARN: "*", Priority: 10000, FixedRate: 0.05, ReservoirSize: 1,
			ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*",
			Version: 1, Attributes: map[string]string{},
		},
		CreatedAt:  0,
		ModifiedAt: defaultModifiedAt,
	}
}

func (r *Rules) defaultRule() xrayapi.SamplingRuleRecord {
	d := Default()
	d.SamplingRule.RuleARN = r.arn(DefaultRuleName)
	return d
}

func (r *Rules) arn(name string) string {
	return "arn:aws:xray:" + r.cfg.Region + ":" + r.cfg.Account + ":sampling-rule/" + name
}

// stamp is now in epoch seconds to the millisecond: whole seconds would let
// a change in the same second as an SDK's rule poll go unnoticed, since SDKs
// re-fetch only when LastRuleModification is newer than their last poll.
func (r *Rules) stamp() float64 { return float64(r.now().UnixMilli()) / 1000 }

func isDefault(rec xrayapi.SamplingRuleRecord) bool {
	return rec.SamplingRule.RuleName == DefaultRuleName
}

func sortRules(rules []xrayapi.SamplingRuleRecord) {
	slices.SortFunc(rules, func(a, b xrayapi.SamplingRuleRecord) int {
		return cmp.Or(cmp.Compare(a.SamplingRule.Priority, b.SamplingRule.Priority),
			cmp.Compare(a.SamplingRule.RuleName, b.SamplingRule.RuleName))
	})
}

// clone returns rec with its own Attributes map, so callers cannot change
// the stored rule.
func clone(rec xrayapi.SamplingRuleRecord) xrayapi.SamplingRuleRecord {
	rec.SamplingRule.Attributes = maps.Clone(rec.SamplingRule.Attributes)
	if rec.SamplingRule.Attributes == nil {
		rec.SamplingRule.Attributes = map[string]string{}
	}
	return rec
}

func (r *Rules) snapshot() []xrayapi.SamplingRuleRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rules
}

// GetSamplingRules returns every rule in one page, ordered by priority then
// name: SDK pollers never follow NextToken. The records are the caller's.
func (r *Rules) GetSamplingRules(context.Context) (*xrayapi.GetSamplingRulesOutput, error) {
	rules := r.snapshot()
	out := &xrayapi.GetSamplingRulesOutput{SamplingRuleRecords: make([]xrayapi.SamplingRuleRecord, len(rules))}
	for i, rec := range rules {
		out.SamplingRuleRecords[i] = clone(rec)
	}
	return out, nil
}

// CreateSamplingRule adds a rule. A duplicate name, the name Default or an
// invalid member is an InvalidRequestException; one rule over MaxRules is a
// RuleLimitExceededException.
func (r *Rules) CreateSamplingRule(ctx context.Context, in xrayapi.CreateSamplingRuleInput) (*xrayapi.CreateSamplingRuleOutput, error) {
	rule := in.SamplingRule
	if rule.RuleName == DefaultRuleName {
		return nil, xrayapi.InvalidRequest("the Default sampling rule exists already and cannot be created")
	}
	if rule.Attributes == nil {
		rule.Attributes = map[string]string{}
	}
	rule.RuleARN = r.arn(rule.RuleName)
	if err := validate(rule); err != nil {
		return nil, err
	}
	var rec xrayapi.SamplingRuleRecord
	err := r.change(ctx, func(rules []xrayapi.SamplingRuleRecord) ([]xrayapi.SamplingRuleRecord, error) {
		if slices.ContainsFunc(rules, func(x xrayapi.SamplingRuleRecord) bool { return x.SamplingRule.RuleName == rule.RuleName }) {
			return nil, xrayapi.InvalidRequest("sampling rule %q exists already", rule.RuleName)
		}
		if len(rules)-1 >= r.cfg.MaxRules {
			return nil, &xrayapi.Error{Status: http.StatusBadRequest, Type: "RuleLimitExceededException",
				Message: fmt.Sprintf("at most %d sampling rules besides Default are allowed", r.cfg.MaxRules)}
		}
		now := r.stamp()
		rec = clone(xrayapi.SamplingRuleRecord{SamplingRule: rule, CreatedAt: now, ModifiedAt: now})
		return append(rules, rec), nil
	})
	if err != nil {
		return nil, err
	}
	return &xrayapi.CreateSamplingRuleOutput{SamplingRuleRecord: clone(rec)}, nil
}

// UpdateSamplingRule changes the members the update carries of the rule it
// names by RuleName or RuleARN, and bumps ModifiedAt. Of the Default rule
// only FixedRate and ReservoirSize may change.
func (r *Rules) UpdateSamplingRule(ctx context.Context, in xrayapi.UpdateSamplingRuleInput) (*xrayapi.UpdateSamplingRuleOutput, error) {
	u := in.SamplingRuleUpdate
	var rec xrayapi.SamplingRuleRecord
	err := r.change(ctx, func(rules []xrayapi.SamplingRuleRecord) ([]xrayapi.SamplingRuleRecord, error) {
		i, err := find(rules, u.RuleName, u.RuleARN)
		if err != nil {
			return nil, err
		}
		old := rules[i]
		rule := clone(old).SamplingRule
		applyUpdate(&rule, u)
		if isDefault(old) {
			// Unchanged values are fine: clients may send the whole rule.
			want, got := old.SamplingRule, rule
			want.FixedRate, want.ReservoirSize, got.FixedRate, got.ReservoirSize = 0, 0, 0, 0
			if !sameRule(want, got) {
				return nil, xrayapi.InvalidRequest("only FixedRate and ReservoirSize of the Default sampling rule can be changed")
			}
		}
		if err := validate(rule); err != nil {
			return nil, err
		}
		rec = xrayapi.SamplingRuleRecord{SamplingRule: rule, CreatedAt: old.CreatedAt, ModifiedAt: r.stamp()}
		rules[i] = rec
		return rules, nil
	})
	if err != nil {
		return nil, err
	}
	return &xrayapi.UpdateSamplingRuleOutput{SamplingRuleRecord: clone(rec)}, nil
}

// DeleteSamplingRule removes the rule named by RuleName or RuleARN, with its
// statistics, and returns it. The Default rule cannot be deleted.
func (r *Rules) DeleteSamplingRule(ctx context.Context, in xrayapi.DeleteSamplingRuleInput) (*xrayapi.DeleteSamplingRuleOutput, error) {
	var rec xrayapi.SamplingRuleRecord
	err := r.change(ctx, func(rules []xrayapi.SamplingRuleRecord) ([]xrayapi.SamplingRuleRecord, error) {
		i, err := find(rules, in.RuleName, in.RuleARN)
		if err != nil {
			return nil, err
		}
		if isDefault(rules[i]) {
			return nil, xrayapi.InvalidRequest("the Default sampling rule cannot be deleted")
		}
		rec = rules[i]
		return slices.Delete(rules, i, i+1), nil
	})
	if err != nil {
		return nil, err
	}
	return &xrayapi.DeleteSamplingRuleOutput{SamplingRuleRecord: clone(rec)}, nil
}

// change applies f to a copy of the rules, saves the result and only then
// makes it current, so a failed save leaves the rule set as it was.
func (r *Rules) change(ctx context.Context, f func([]xrayapi.SamplingRuleRecord) ([]xrayapi.SamplingRuleRecord, error)) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	rules, err := f(slices.Clone(r.snapshot()))
	if err != nil {
		return err
	}
	sortRules(rules)
	if r.store != nil {
		data, err := encodeRules(rules)
		if err != nil {
			return err
		}
		if err := r.store.SaveRules(ctx, data); err != nil {
			return fmt.Errorf("save sampling rules: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules = rules
	// A deleted rule's statistics go with it, so a new rule of the same
	// name starts afresh.
	for name := range r.stats {
		if !slices.ContainsFunc(rules, func(x xrayapi.SamplingRuleRecord) bool { return x.SamplingRule.RuleName == name }) {
			delete(r.stats, name)
		}
	}
	return nil
}

// find returns the index of the rule named by name or arn; when both are
// given they must name the same rule.
func find(rules []xrayapi.SamplingRuleRecord, name, arn *string) (int, error) {
	if name == nil && arn == nil {
		return 0, xrayapi.InvalidRequest("RuleName or RuleARN is required")
	}
	i := slices.IndexFunc(rules, func(x xrayapi.SamplingRuleRecord) bool {
		return (name == nil || x.SamplingRule.RuleName == *name) && (arn == nil || x.SamplingRule.RuleARN == *arn)
	})
	if i < 0 {
		key := ""
		if name != nil {
			key = *name
		} else {
			key = *arn
		}
		return 0, xrayapi.InvalidRequest("sampling rule %q not found", key)
	}
	return i, nil
}

func applyUpdate(rule *xrayapi.SamplingRule, u xrayapi.SamplingRuleUpdate) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&rule.ResourceARN, u.ResourceARN)
	set(&rule.Host, u.Host)
	set(&rule.ServiceName, u.ServiceName)
	set(&rule.ServiceType, u.ServiceType)
	set(&rule.HTTPMethod, u.HTTPMethod)
	set(&rule.URLPath, u.URLPath)
	if u.Priority != nil {
		rule.Priority = *u.Priority
	}
	if u.FixedRate != nil {
		rule.FixedRate = *u.FixedRate
	}
	if u.ReservoirSize != nil {
		rule.ReservoirSize = *u.ReservoirSize
	}
	if u.Attributes != nil {
		rule.Attributes = maps.Clone(u.Attributes)
	}
}

// sameRule reports whether a and b are equal, a nil Attributes map being
// equal to an empty one.
func sameRule(a, b xrayapi.SamplingRule) bool {
	if !maps.Equal(a.Attributes, b.Attributes) {
		return false
	}
	a.Attributes, b.Attributes = nil, nil
	return reflect.DeepEqual(a, b)
}
