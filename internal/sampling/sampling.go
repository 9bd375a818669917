// Package sampling answers the X-Ray sampling API that SDKs poll through the
// daemon port (spec/xray.md §3.4–3.6). For now it serves the non-deletable
// Default rule only (1 request per second, then 5 %), which is what an SDK
// would apply on its own; central rule management is a later step.
package sampling

import (
	"context"
	"time"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// defaultModifiedAt is the Default rule's ModifiedAt, as AWS documents it.
const defaultModifiedAt = 1529959993.0

// Rules serves the sampling rules.
type Rules struct {
	now func() time.Time
}

// New returns the rule set with only the Default rule.
func New() *Rules { return &Rules{now: time.Now} }

// Default is the Default rule of spec/xray.md §3.6.
func Default() xrayapi.SamplingRuleRecord {
	return xrayapi.SamplingRuleRecord{
		SamplingRule: xrayapi.SamplingRule{
			RuleName: "Default", RuleARN: "arn:aws:xray:us-east-1:000000000000:sampling-rule/Default",
			ResourceARN: "*", Priority: 10000, FixedRate: 0.05, ReservoirSize: 1,
			ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*",
			Version: 1, Attributes: map[string]string{},
		},
		CreatedAt:  0,
		ModifiedAt: defaultModifiedAt,
	}
}

// GetSamplingRules returns every rule in one page: SDK pollers never follow
// NextToken.
func (r *Rules) GetSamplingRules(context.Context) (*xrayapi.GetSamplingRulesOutput, error) {
	return &xrayapi.GetSamplingRulesOutput{SamplingRuleRecords: []xrayapi.SamplingRuleRecord{Default()}}, nil
}

// GetSamplingTargets gives each reporting client the Default rule's whole
// reservoir for the next interval; unknown rules are returned unprocessed.
func (r *Rules) GetSamplingTargets(_ context.Context, in xrayapi.GetSamplingTargetsInput) (*xrayapi.GetSamplingTargetsOutput, error) {
	out := &xrayapi.GetSamplingTargetsOutput{
		SamplingTargetDocuments: []xrayapi.SamplingTargetDocument{},
		LastRuleModification:    defaultModifiedAt,
		UnprocessedStatistics:   []xrayapi.UnprocessedStatistics{},
	}
	def := Default().SamplingRule
	seen := map[string]bool{}
	for _, st := range in.SamplingStatisticsDocuments {
		if st.RuleName != def.RuleName {
			out.UnprocessedStatistics = append(out.UnprocessedStatistics,
				xrayapi.UnprocessedStatistics{RuleName: st.RuleName, ErrorCode: "404", Message: "Rule not found"})
			continue
		}
		if seen[st.RuleName] {
			continue
		}
		seen[st.RuleName] = true
		quota, interval := def.ReservoirSize, 10
		ttl := float64(r.now().Add(5 * time.Minute).Unix())
		out.SamplingTargetDocuments = append(out.SamplingTargetDocuments, xrayapi.SamplingTargetDocument{
			RuleName: def.RuleName, FixedRate: def.FixedRate, ReservoirQuota: &quota, ReservoirQuotaTTL: &ttl, Interval: &interval,
		})
	}
	return out, nil
}
