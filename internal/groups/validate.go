package groups

import (
	"github.com/thawtrace/thaw/internal/filter"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// maxNameLen is the longest group name (spec/xray.md §2.13).
const maxNameLen = 32

// validate checks gr against AWS's constraints and returns an
// InvalidRequestException naming the first member that breaks one. It does
// not check GroupARN, which the group set assigns.
func validate(gr xrayapi.Group) error {
	if err := validateName(gr.GroupName); err != nil {
		return err
	}
	// An empty filter matches every trace, as Default's does.
	if gr.FilterExpression != "" {
		if _, err := filter.Parse(gr.FilterExpression); err != nil {
			return xrayapi.InvalidRequest("invalid FilterExpression: %v", err)
		}
	}
	ic := gr.InsightsConfiguration
	if ic.NotificationsEnabled && !ic.InsightsEnabled {
		return xrayapi.InvalidRequest("notifications can only be enabled on a group with InsightsEnabled set to true")
	}
	return nil
}

// validateName checks a group name: 1 to 32 ASCII letters, digits and
// dashes.
func validateName(name string) error {
	if len(name) < 1 || len(name) > maxNameLen {
		return xrayapi.InvalidRequest("GroupName must be 1 to %d characters long, got %d", maxNameLen, len(name))
	}
	for i := range len(name) {
		if !nameByte(name[i]) {
			return xrayapi.InvalidRequest("GroupName %q may contain only letters, digits and dashes", name)
		}
	}
	return nil
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-'
}
