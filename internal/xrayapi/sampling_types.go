package xrayapi

import "encoding/json"

// CreateSamplingRuleInput is the body of POST /CreateSamplingRule.
type CreateSamplingRuleInput struct {
	SamplingRule SamplingRule `json:"SamplingRule"`
	// Tags is accepted for compatibility and not kept: thaw has no tagging
	// of sampling rules.
	Tags json.RawMessage `json:"Tags,omitempty"`
}

// CreateSamplingRuleOutput answers CreateSamplingRule.
type CreateSamplingRuleOutput struct {
	SamplingRuleRecord SamplingRuleRecord `json:"SamplingRuleRecord"`
}

// SamplingRuleUpdate names a rule by RuleName or RuleARN and carries the
// members to change; a nil member is left as it is.
type SamplingRuleUpdate struct {
	RuleName      *string  `json:"RuleName,omitempty"`
	RuleARN       *string  `json:"RuleARN,omitempty"`
	ResourceARN   *string  `json:"ResourceARN,omitempty"`
	Priority      *int     `json:"Priority,omitempty"`
	FixedRate     *float64 `json:"FixedRate,omitempty"`
	ReservoirSize *int     `json:"ReservoirSize,omitempty"`
	Host          *string  `json:"Host,omitempty"`
	ServiceName   *string  `json:"ServiceName,omitempty"`
	ServiceType   *string  `json:"ServiceType,omitempty"`
	HTTPMethod    *string  `json:"HTTPMethod,omitempty"`
	URLPath       *string  `json:"URLPath,omitempty"`
	// Attributes replaces all attributes when non-nil; {} clears them.
	Attributes map[string]string `json:"Attributes,omitempty"`
}

// UpdateSamplingRuleInput is the body of POST /UpdateSamplingRule.
type UpdateSamplingRuleInput struct {
	SamplingRuleUpdate SamplingRuleUpdate `json:"SamplingRuleUpdate"`
}

// UpdateSamplingRuleOutput answers UpdateSamplingRule.
type UpdateSamplingRuleOutput struct {
	SamplingRuleRecord SamplingRuleRecord `json:"SamplingRuleRecord"`
}

// DeleteSamplingRuleInput is the body of POST /DeleteSamplingRule: one of
// RuleName and RuleARN.
type DeleteSamplingRuleInput struct {
	RuleName *string `json:"RuleName,omitempty"`
	RuleARN  *string `json:"RuleARN,omitempty"`
}

// DeleteSamplingRuleOutput answers DeleteSamplingRule with the deleted rule.
type DeleteSamplingRuleOutput struct {
	SamplingRuleRecord SamplingRuleRecord `json:"SamplingRuleRecord"`
}

// GetSamplingStatisticSummariesInput is the body of POST
// /SamplingStatisticSummaries.
type GetSamplingStatisticSummariesInput struct {
	NextToken *string `json:"NextToken,omitempty"`
}

// SamplingStatisticSummary is one rule's counts, over all clients, in the
// current statistics window.
type SamplingStatisticSummary struct {
	RuleName     string  `json:"RuleName"`
	Timestamp    float64 `json:"Timestamp"`
	RequestCount int64   `json:"RequestCount"`
	BorrowCount  int64   `json:"BorrowCount"`
	SampledCount int64   `json:"SampledCount"`
}

// GetSamplingStatisticSummariesOutput answers GetSamplingStatisticSummaries.
type GetSamplingStatisticSummariesOutput struct {
	SamplingStatisticSummaries []SamplingStatisticSummary `json:"SamplingStatisticSummaries"`
	NextToken                  *string                    `json:"NextToken,omitempty"`
}
