package sampling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// ErrNoRules is what a RuleStore returns when no rules have been saved yet.
var ErrNoRules = errors.New("sampling: no saved rules")

// RuleStore keeps the rule set across restarts as one opaque document.
type RuleStore interface {
	// LoadRules returns the document last passed to SaveRules; the caller
	// owns the bytes. It returns an error matching ErrNoRules (errors.Is),
	// or empty data and a nil error, when nothing has been saved yet.
	LoadRules(ctx context.Context) ([]byte, error)
	// SaveRules replaces the saved document with data, atomically: a later
	// LoadRules sees either the old document or the new one. It does not
	// keep data after it returns. An error means the document may not have
	// been saved, and the rule set keeps its previous rules.
	SaveRules(ctx context.Context, data []byte) error
}

// rulesFormat is the version of the saved document; older versions stay
// readable when it changes.
const rulesFormat = 1

// savedRules is the document a RuleStore keeps.
type savedRules struct {
	Format int                          `json:"Format"`
	Rules  []xrayapi.SamplingRuleRecord `json:"Rules"`
}

func encodeRules(rules []xrayapi.SamplingRuleRecord) ([]byte, error) {
	data, err := json.Marshal(savedRules{Format: rulesFormat, Rules: rules})
	if err != nil {
		return nil, fmt.Errorf("encode sampling rules: %w", err)
	}
	return data, nil
}

// decodeRules reads a saved document and checks every rule in it, so a
// damaged document stops the start instead of serving rules SDKs reject.
func decodeRules(data []byte) ([]xrayapi.SamplingRuleRecord, error) {
	var doc savedRules
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode sampling rules: %w", err)
	}
	if doc.Format != rulesFormat {
		return nil, fmt.Errorf("decode sampling rules: format %d is not supported", doc.Format)
	}
	seen := make(map[string]bool, len(doc.Rules))
	for i, rec := range doc.Rules {
		if rec.SamplingRule.Attributes == nil {
			doc.Rules[i].SamplingRule.Attributes = map[string]string{}
		}
		if err := validate(rec.SamplingRule); err != nil {
			return nil, fmt.Errorf("decode sampling rule %q: %w", rec.SamplingRule.RuleName, err)
		}
		if seen[rec.SamplingRule.RuleName] {
			return nil, fmt.Errorf("decode sampling rules: rule %q appears twice", rec.SamplingRule.RuleName)
		}
		seen[rec.SamplingRule.RuleName] = true
	}
	return doc.Rules, nil
}
