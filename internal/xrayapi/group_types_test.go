package xrayapi_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

func TestGroupJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"Default group", xrayapi.GetGroupOutput{Group: xrayapi.Group{GroupName: "Default", GroupARN: "arn:aws:xray:us-east-1:0:group/Default"}},
			`{"Group":{"GroupName":"Default","GroupARN":"arn:aws:xray:us-east-1:0:group/Default","InsightsConfiguration":{"InsightsEnabled":false,"NotificationsEnabled":false}}}`},
		{"group with filter and insights", xrayapi.CreateGroupOutput{Group: xrayapi.Group{
			GroupName: "a", GroupARN: "arn:aws:xray:us-east-1:0:group/a/ID", FilterExpression: "fault",
			InsightsConfiguration: xrayapi.InsightsConfiguration{InsightsEnabled: true, NotificationsEnabled: true},
		}}, `{"Group":{"GroupName":"a","GroupARN":"arn:aws:xray:us-east-1:0:group/a/ID","FilterExpression":"fault","InsightsConfiguration":{"InsightsEnabled":true,"NotificationsEnabled":true}}}`},
		{"no groups", xrayapi.GetGroupsOutput{Groups: []xrayapi.GroupSummary{}}, `{"Groups":[]}`},
		{"groups", xrayapi.GetGroupsOutput{Groups: []xrayapi.GroupSummary{{GroupName: "a", GroupARN: "x"}}},
			`{"Groups":[{"GroupName":"a","GroupARN":"x","InsightsConfiguration":{"InsightsEnabled":false,"NotificationsEnabled":false}}]}`},
		{"delete", xrayapi.DeleteGroupOutput{}, `{}`},
		{"update output", xrayapi.UpdateGroupOutput{Group: xrayapi.Group{GroupName: "a", GroupARN: "x"}},
			`{"Group":{"GroupName":"a","GroupARN":"x","InsightsConfiguration":{"InsightsEnabled":false,"NotificationsEnabled":false}}}`},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, string(b)); diff != "" {
			t.Errorf("%s: json.Marshal(%+v) (-want +got):\n%s", tc.name, tc.v, diff)
		}
	}
}

func TestGroupInputJSON(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	var create xrayapi.CreateGroupInput
	body := `{"GroupName":"a","FilterExpression":"fault","InsightsConfiguration":{"InsightsEnabled":true},"Tags":[{"Key":"k","Value":"v"}],"Unknown":1}`
	if err := json.Unmarshal([]byte(body), &create); err != nil {
		t.Fatal(err)
	}
	wantCreate := xrayapi.CreateGroupInput{
		GroupName: "a", FilterExpression: s("fault"),
		InsightsConfiguration: &xrayapi.InsightsConfiguration{InsightsEnabled: true},
		Tags:                  json.RawMessage(`[{"Key":"k","Value":"v"}]`),
	}
	if diff := cmp.Diff(wantCreate, create); diff != "" {
		t.Errorf("CreateGroupInput from %s (-want +got):\n%s", body, diff)
	}

	for _, tc := range []struct {
		body string
		want xrayapi.UpdateGroupInput
	}{
		{`{"GroupName":"a"}`, xrayapi.UpdateGroupInput{GroupName: s("a")}},
		{`{"GroupARN":"x","FilterExpression":""}`, xrayapi.UpdateGroupInput{GroupARN: s("x"), FilterExpression: s("")}},
		{`{"GroupName":"a","InsightsConfiguration":{"NotificationsEnabled":false}}`,
			xrayapi.UpdateGroupInput{GroupName: s("a"), InsightsConfiguration: &xrayapi.InsightsConfiguration{}}},
	} {
		var got xrayapi.UpdateGroupInput
		if err := json.Unmarshal([]byte(tc.body), &got); err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("UpdateGroupInput from %s (-want +got):\n%s", tc.body, diff)
		}
	}

	for _, body := range []string{`{}`, `{"GroupName":"a"}`, `{"GroupARN":"x"}`} {
		var get xrayapi.GetGroupInput
		var del xrayapi.DeleteGroupInput
		var list xrayapi.GetGroupsInput
		if err := json.Unmarshal([]byte(body), &get); err != nil {
			t.Errorf("GetGroupInput from %s: %v", body, err)
		}
		if err := json.Unmarshal([]byte(body), &del); err != nil {
			t.Errorf("DeleteGroupInput from %s: %v", body, err)
		}
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Errorf("GetGroupsInput from %s: %v", body, err)
		}
	}
}
