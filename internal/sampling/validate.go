package sampling

import (
	"math"
	"unicode/utf8"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// Limits of spec/xray.md §2.13 and §4.6.1.
const (
	maxNameLen        = 32
	maxResourceARNLen = 500
	maxMatchLen       = 64 // ServiceName, ServiceType, Host
	maxMethodLen      = 10
	maxURLPathLen     = 128
	maxAttributes     = 5
	maxAttributeLen   = 32
	maxPriority       = 9999
	defaultPriority   = 10000
)

// validate checks rule against AWS's constraints and returns an
// InvalidRequestException naming the first member that breaks one.
func validate(rule xrayapi.SamplingRule) error {
	n := utf8.RuneCountInString
	for _, f := range []struct {
		name  string
		value string
		max   int
	}{
		{"RuleName", rule.RuleName, maxNameLen},
		{"ResourceARN", rule.ResourceARN, maxResourceARNLen},
		{"ServiceName", rule.ServiceName, maxMatchLen},
		{"ServiceType", rule.ServiceType, maxMatchLen},
		{"Host", rule.Host, maxMatchLen},
		{"HTTPMethod", rule.HTTPMethod, maxMethodLen},
		{"URLPath", rule.URLPath, maxURLPathLen},
	} {
		if l := n(f.value); l < 1 || l > f.max {
			return xrayapi.InvalidRequest("%s must be 1 to %d characters long, got %d", f.name, f.max, l)
		}
	}
	if rule.RuleName == DefaultRuleName {
		if rule.Priority != defaultPriority {
			return xrayapi.InvalidRequest("the Default rule's Priority is %d", defaultPriority)
		}
	} else if rule.Priority < 1 || rule.Priority > maxPriority {
		return xrayapi.InvalidRequest("Priority must be between 1 and %d, got %d", maxPriority, rule.Priority)
	}
	if math.IsNaN(rule.FixedRate) || rule.FixedRate < 0 || rule.FixedRate > 1 {
		return xrayapi.InvalidRequest("FixedRate must be between 0 and 1, got %v", rule.FixedRate)
	}
	if rule.ReservoirSize < 0 {
		return xrayapi.InvalidRequest("ReservoirSize must not be negative, got %d", rule.ReservoirSize)
	}
	// SDKs ignore rules of any other version.
	if rule.Version != 1 {
		return xrayapi.InvalidRequest("Version must be 1, got %d", rule.Version)
	}
	if len(rule.Attributes) > maxAttributes {
		return xrayapi.InvalidRequest("at most %d Attributes are allowed, got %d", maxAttributes, len(rule.Attributes))
	}
	for k, v := range rule.Attributes {
		if n(k) < 1 || n(k) > maxAttributeLen || n(v) < 1 || n(v) > maxAttributeLen {
			return xrayapi.InvalidRequest("attribute %q: keys and values must be 1 to %d characters long", k, maxAttributeLen)
		}
	}
	return nil
}
