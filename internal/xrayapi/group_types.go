package xrayapi

import "encoding/json"

// InsightsConfiguration says whether X-Ray Insights runs for a group and
// whether it sends notifications. Both members are always emitted: SDKs
// read a missing boolean as false, but the console shows the pair.
type InsightsConfiguration struct {
	InsightsEnabled      bool `json:"InsightsEnabled"`
	NotificationsEnabled bool `json:"NotificationsEnabled"`
}

// Group is a named filter expression over traces (spec/xray.md §4.7). The
// built-in Default group has no FilterExpression and matches every trace.
type Group struct {
	GroupName string `json:"GroupName"`
	// GroupARN is arn:aws:xray:REGION:ACCOUNT:group/NAME/ID, with ID fixed
	// when the group is created; the Default group's ARN has no ID.
	GroupARN string `json:"GroupARN"`
	// FilterExpression is omitted when empty, as AWS omits it for Default.
	FilterExpression      string                `json:"FilterExpression,omitempty"`
	InsightsConfiguration InsightsConfiguration `json:"InsightsConfiguration"`
}

// GroupSummary is a group as GetGroups lists it; it has the members of
// Group.
type GroupSummary Group

// CreateGroupInput is the body of POST /CreateGroup.
type CreateGroupInput struct {
	GroupName        string  `json:"GroupName"`
	FilterExpression *string `json:"FilterExpression,omitempty"`
	// InsightsConfiguration, when present, is taken whole: a missing
	// member is false.
	InsightsConfiguration *InsightsConfiguration `json:"InsightsConfiguration,omitempty"`
	// Tags is accepted for compatibility and not kept: thaw has no tagging
	// of groups yet.
	Tags json.RawMessage `json:"Tags,omitempty"`
}

// CreateGroupOutput answers CreateGroup.
type CreateGroupOutput struct {
	Group Group `json:"Group"`
}

// GetGroupInput is the body of POST /GetGroup: GroupName or GroupARN; when
// both are given they must name the same group.
type GetGroupInput struct {
	GroupName *string `json:"GroupName,omitempty"`
	GroupARN  *string `json:"GroupARN,omitempty"`
}

// GetGroupOutput answers GetGroup.
type GetGroupOutput struct {
	Group Group `json:"Group"`
}

// GetGroupsInput is the body of POST /Groups.
type GetGroupsInput struct {
	NextToken *string `json:"NextToken,omitempty"`
}

// GetGroupsOutput answers GetGroups. Groups is always emitted, [] when
// there are none.
type GetGroupsOutput struct {
	Groups    []GroupSummary `json:"Groups"`
	NextToken *string        `json:"NextToken,omitempty"`
}

// UpdateGroupInput is the body of POST /UpdateGroup: the group, by
// GroupName or GroupARN, and the members to change; a nil member is left
// as it is.
type UpdateGroupInput struct {
	GroupName *string `json:"GroupName,omitempty"`
	GroupARN  *string `json:"GroupARN,omitempty"`
	// FilterExpression replaces the filter when non-nil; "" clears it.
	FilterExpression *string `json:"FilterExpression,omitempty"`
	// InsightsConfiguration replaces the whole configuration when non-nil.
	InsightsConfiguration *InsightsConfiguration `json:"InsightsConfiguration,omitempty"`
}

// UpdateGroupOutput answers UpdateGroup with the changed group.
type UpdateGroupOutput struct {
	Group Group `json:"Group"`
}

// DeleteGroupInput is the body of POST /DeleteGroup: GroupName or GroupARN.
type DeleteGroupInput struct {
	GroupName *string `json:"GroupName,omitempty"`
	GroupARN  *string `json:"GroupARN,omitempty"`
}

// DeleteGroupOutput answers DeleteGroup; it is always {}.
type DeleteGroupOutput struct{}
