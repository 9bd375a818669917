package groups

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/filter"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

func ptr[T any](v T) *T { return &v }

// newGroups returns an in-memory group set whose ids count up from ID1,
// with cfg's MaxGroups (0: the default).
func newGroups(t *testing.T, maxGroups int, store Store) *Groups {
	t.Helper()
	cfg := DefaultConfig()
	if maxGroups > 0 {
		cfg.MaxGroups = maxGroups
	}
	g, err := Open(t.Context(), cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	g.newID = func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("ID%d", n)
	}
	return g
}

const arnPrefix = "arn:aws:xray:us-east-1:000000000000:group/"

func create(t *testing.T, g *Groups, name, expr string) xrayapi.Group {
	t.Helper()
	out, err := g.CreateGroup(t.Context(), xrayapi.CreateGroupInput{GroupName: name, FilterExpression: ptr(expr)})
	if err != nil {
		t.Fatalf("CreateGroup(%q, %q): %v", name, expr, err)
	}
	return out.Group
}

// names returns the names GetGroups lists, in order.
func names(t *testing.T, g *Groups) []string {
	t.Helper()
	out, err := g.GetGroups(t.Context(), xrayapi.GetGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, s := range out.Groups {
		ns = append(ns, s.GroupName)
	}
	return ns
}

// checkInvalid fails unless err is an InvalidRequestException whose
// message contains want.
func checkInvalid(t *testing.T, what string, err error, want string) {
	t.Helper()
	var ae *xrayapi.Error
	if !errors.As(err, &ae) || ae.Type != "InvalidRequestException" || ae.Status != 400 {
		t.Errorf("%s: error %v, want an InvalidRequestException containing %q", what, err, want)
		return
	}
	if !strings.Contains(ae.Message, want) {
		t.Errorf("%s: message %q, want it to contain %q", what, ae.Message, want)
	}
}

func parseError(t *testing.T, expr string) string {
	t.Helper()
	_, err := filter.Parse(expr)
	if err == nil {
		t.Fatalf("filter.Parse(%q) succeeded; the test needs an invalid expression", expr)
	}
	return err.Error()
}

func TestCreateGroup(t *testing.T) {
	t.Parallel()
	g := newGroups(t, 0, nil)
	out, err := g.CreateGroup(t.Context(), xrayapi.CreateGroupInput{
		GroupName:             "slow-api",
		FilterExpression:      ptr(`service("api") AND responsetime > 5`),
		InsightsConfiguration: &xrayapi.InsightsConfiguration{InsightsEnabled: true, NotificationsEnabled: true},
		Tags:                  []byte(`[{"Key":"team","Value":"a"}]`),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := xrayapi.Group{
		GroupName: "slow-api", GroupARN: arnPrefix + "slow-api/ID1",
		FilterExpression:      `service("api") AND responsetime > 5`,
		InsightsConfiguration: xrayapi.InsightsConfiguration{InsightsEnabled: true, NotificationsEnabled: true},
	}
	if diff := cmp.Diff(want, out.Group); diff != "" {
		t.Errorf("CreateGroup (-want +got):\n%s", diff)
	}
	got, err := g.GetGroup(t.Context(), xrayapi.GetGroupInput{GroupName: ptr("slow-api")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Group); diff != "" {
		t.Errorf("GetGroup after CreateGroup (-want +got):\n%s", diff)
	}

	// Without a filter or Insights settings the group matches everything.
	if got := create(t, g, "all", ""); got.FilterExpression != "" || got.InsightsConfiguration != (xrayapi.InsightsConfiguration{}) {
		t.Errorf("CreateGroup without filter: %+v", got)
	}
}

func TestCreateGroupRejects(t *testing.T) {
	t.Parallel()
	badExpr := `service("api") AND`
	for _, tc := range []struct {
		name string
		in   xrayapi.CreateGroupInput
		want string
	}{
		{"empty name", xrayapi.CreateGroupInput{GroupName: ""}, "GroupName must be 1 to 32 characters long, got 0"},
		{"33 characters", xrayapi.CreateGroupInput{GroupName: strings.Repeat("a", 33)}, "got 33"},
		{"underscore", xrayapi.CreateGroupInput{GroupName: "my_group"}, "only letters, digits and dashes"},
		{"space", xrayapi.CreateGroupInput{GroupName: "my group"}, "only letters, digits and dashes"},
		{"slash", xrayapi.CreateGroupInput{GroupName: "a/b"}, "only letters, digits and dashes"},
		{"non-ASCII letter", xrayapi.CreateGroupInput{GroupName: "grüppe"}, "only letters, digits and dashes"},
		{"Default", xrayapi.CreateGroupInput{GroupName: "Default"}, `group "Default" already exists`},
		{"duplicate", xrayapi.CreateGroupInput{GroupName: "taken"}, `group "taken" already exists`},
		{"bad filter", xrayapi.CreateGroupInput{GroupName: "bad", FilterExpression: &badExpr}, "invalid FilterExpression: " + parseError(t, badExpr)},
		{"unknown keyword", xrayapi.CreateGroupInput{GroupName: "bad", FilterExpression: ptr("nosuchkeyword = 1")}, "invalid FilterExpression: "},
		{"notifications without insights", xrayapi.CreateGroupInput{
			GroupName: "quiet", InsightsConfiguration: &xrayapi.InsightsConfiguration{NotificationsEnabled: true},
		}, "InsightsEnabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGroups(t, 0, nil)
			create(t, g, "taken", "")
			before := names(t, g)
			_, err := g.CreateGroup(t.Context(), tc.in)
			checkInvalid(t, fmt.Sprintf("CreateGroup(%+v)", tc.in), err, tc.want)
			if diff := cmp.Diff(before, names(t, g)); diff != "" {
				t.Errorf("groups after a rejected CreateGroup (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateGroupNames(t *testing.T) {
	t.Parallel()
	g := newGroups(t, 0, nil)
	// Names are case-sensitive: these are all distinct from Default.
	for _, name := range []string{"a", "A-1", "default", "DEFAULT", strings.Repeat("Z9-", 10) + "xy"} {
		create(t, g, name, "")
	}
	want := []string{"A-1", "DEFAULT", "Default", strings.Repeat("Z9-", 10) + "xy", "a", "default"}
	if diff := cmp.Diff(want, names(t, g)); diff != "" {
		t.Errorf("GetGroups names (-want +got):\n%s", diff)
	}
}

func TestCreateGroupLimit(t *testing.T) {
	t.Parallel()
	g := newGroups(t, 2, nil)
	create(t, g, "one", "")
	create(t, g, "two", "")
	_, err := g.CreateGroup(t.Context(), xrayapi.CreateGroupInput{GroupName: "three"})
	checkInvalid(t, "third group with MaxGroups 2", err, "at most 2 groups besides Default")
	if _, err := g.DeleteGroup(t.Context(), xrayapi.DeleteGroupInput{GroupName: ptr("one")}); err != nil {
		t.Fatal(err)
	}
	create(t, g, "three", "")
}

func TestRandomID(t *testing.T) {
	t.Parallel()
	g := New()
	a, err := g.CreateGroup(t.Context(), xrayapi.CreateGroupInput{GroupName: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.CreateGroup(t.Context(), xrayapi.CreateGroupInput{GroupName: "b"})
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^arn:aws:xray:us-east-1:000000000000:group/([ab])/([A-Z2-7]{24})$`)
	ma, mb := re.FindStringSubmatch(a.Group.GroupARN), re.FindStringSubmatch(b.Group.GroupARN)
	if ma == nil || mb == nil {
		t.Fatalf("ARNs %q and %q do not match %s", a.Group.GroupARN, b.Group.GroupARN, re)
	}
	if ma[2] == mb[2] {
		t.Errorf("two groups got the same id %s", ma[2])
	}
	// The id is the group's for life: an update keeps it.
	u, err := g.UpdateGroup(t.Context(), xrayapi.UpdateGroupInput{GroupName: ptr("a"), FilterExpression: ptr("ok")})
	if err != nil {
		t.Fatal(err)
	}
	if u.Group.GroupARN != a.Group.GroupARN {
		t.Errorf("ARN after UpdateGroup: %q, want %q", u.Group.GroupARN, a.Group.GroupARN)
	}
}

func TestGetGroups(t *testing.T) {
	t.Parallel()
	g := newGroups(t, 0, nil)
	create(t, g, "zeta", "fault")
	create(t, g, "alpha", "error")
	out, err := g.GetGroups(t.Context(), xrayapi.GetGroupsInput{NextToken: ptr("ignored")})
	if err != nil {
		t.Fatal(err)
	}
	want := &xrayapi.GetGroupsOutput{Groups: []xrayapi.GroupSummary{
		{GroupName: "Default", GroupARN: arnPrefix + "Default"},
		{GroupName: "alpha", GroupARN: arnPrefix + "alpha/ID2", FilterExpression: "error"},
		{GroupName: "zeta", GroupARN: arnPrefix + "zeta/ID1", FilterExpression: "fault"},
	}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("GetGroups (-want +got):\n%s", diff)
	}
	// The caller owns the answer.
	out.Groups[0].GroupName = "changed"
	if got := names(t, g)[0]; got != "Default" {
		t.Errorf("GetGroups after changing its answer: first group %q", got)
	}
}

func TestGetGroup(t *testing.T) {
	t.Parallel()
	g := newGroups(t, 0, nil)
	a := create(t, g, "a", "ok")
	create(t, g, "b", "")
	for _, tc := range []struct {
		name      string
		in        xrayapi.GetGroupInput
		want      string // group name; "" when an error is wanted
		wantError string
	}{
		{"by name", xrayapi.GetGroupInput{GroupName: ptr("a")}, "a", ""},
		{"by ARN", xrayapi.GetGroupInput{GroupARN: ptr(a.GroupARN)}, "a", ""},
		{"by both", xrayapi.GetGroupInput{GroupName: ptr("a"), GroupARN: ptr(a.GroupARN)}, "a", ""},
		{"Default by name", xrayapi.GetGroupInput{GroupName: ptr("Default")}, "Default", ""},
		{"Default by ARN", xrayapi.GetGroupInput{GroupARN: ptr(arnPrefix + "Default")}, "Default", ""},
		{"both naming different groups", xrayapi.GetGroupInput{GroupName: ptr("b"), GroupARN: ptr(a.GroupARN)}, "", "Group not found"},
		{"unknown name", xrayapi.GetGroupInput{GroupName: ptr("c")}, "", "Group not found"},
		{"wrong case", xrayapi.GetGroupInput{GroupName: ptr("A")}, "", "Group not found"},
		{"unknown ARN", xrayapi.GetGroupInput{GroupARN: ptr(arnPrefix + "a/OTHER")}, "", "Group not found"},
		{"neither", xrayapi.GetGroupInput{}, "", "GroupName or GroupARN is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := g.GetGroup(t.Context(), tc.in)
			if tc.wantError != "" {
				checkInvalid(t, fmt.Sprintf("GetGroup(%+v)", tc.in), err, tc.wantError)
				return
			}
			if err != nil {
				t.Fatalf("GetGroup(%+v): %v", tc.in, err)
			}
			if out.Group.GroupName != tc.want {
				t.Errorf("GetGroup(%+v) = %+v, want group %q", tc.in, out.Group, tc.want)
			}
		})
	}
}

func TestUpdateGroup(t *testing.T) {
	t.Parallel()
	on := &xrayapi.InsightsConfiguration{InsightsEnabled: true, NotificationsEnabled: true}
	for _, tc := range []struct {
		name string
		in   xrayapi.UpdateGroupInput
		want xrayapi.Group
	}{
		{"nothing", xrayapi.UpdateGroupInput{GroupName: ptr("g")}, xrayapi.Group{
			GroupName: "g", GroupARN: arnPrefix + "g/ID1", FilterExpression: "fault",
		}},
		{"filter", xrayapi.UpdateGroupInput{GroupName: ptr("g"), FilterExpression: ptr("error")}, xrayapi.Group{
			GroupName: "g", GroupARN: arnPrefix + "g/ID1", FilterExpression: "error",
		}},
		{"clear filter", xrayapi.UpdateGroupInput{GroupName: ptr("g"), FilterExpression: ptr("")}, xrayapi.Group{
			GroupName: "g", GroupARN: arnPrefix + "g/ID1",
		}},
		{"insights by ARN", xrayapi.UpdateGroupInput{GroupARN: ptr(arnPrefix + "g/ID1"), InsightsConfiguration: on}, xrayapi.Group{
			GroupName: "g", GroupARN: arnPrefix + "g/ID1", FilterExpression: "fault", InsightsConfiguration: *on,
		}},
		{"Default insights", xrayapi.UpdateGroupInput{GroupName: ptr("Default"), InsightsConfiguration: on}, xrayapi.Group{
			GroupName: "Default", GroupARN: arnPrefix + "Default", InsightsConfiguration: *on,
		}},
		{"Default empty filter", xrayapi.UpdateGroupInput{GroupName: ptr("Default"), FilterExpression: ptr("")}, xrayapi.Group{
			GroupName: "Default", GroupARN: arnPrefix + "Default",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGroups(t, 0, nil)
			create(t, g, "g", "fault")
			out, err := g.UpdateGroup(t.Context(), tc.in)
			if err != nil {
				t.Fatalf("UpdateGroup(%+v): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, out.Group); diff != "" {
				t.Errorf("UpdateGroup(%+v) (-want +got):\n%s", tc.in, diff)
			}
			got, ok := g.Lookup(tc.want.GroupName)
			if diff := cmp.Diff(tc.want, got); !ok || diff != "" {
				t.Errorf("Lookup after UpdateGroup (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateGroupRejects(t *testing.T) {
	t.Parallel()
	badExpr := `responsetime >`
	for _, tc := range []struct {
		name string
		in   xrayapi.UpdateGroupInput
		want string
	}{
		{"bad filter", xrayapi.UpdateGroupInput{GroupName: ptr("g"), FilterExpression: &badExpr}, "invalid FilterExpression: " + parseError(t, badExpr)},
		{"notifications without insights", xrayapi.UpdateGroupInput{
			GroupName: ptr("g"), InsightsConfiguration: &xrayapi.InsightsConfiguration{NotificationsEnabled: true},
		}, "InsightsEnabled"},
		{"Default filter", xrayapi.UpdateGroupInput{GroupName: ptr("Default"), FilterExpression: ptr("fault")}, "Default group cannot be changed"},
		{"unknown", xrayapi.UpdateGroupInput{GroupName: ptr("nope"), FilterExpression: ptr("fault")}, "Group not found"},
		{"neither name nor ARN", xrayapi.UpdateGroupInput{FilterExpression: ptr("fault")}, "GroupName or GroupARN is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGroups(t, 0, nil)
			want := create(t, g, "g", "fault")
			_, err := g.UpdateGroup(t.Context(), tc.in)
			checkInvalid(t, fmt.Sprintf("UpdateGroup(%+v)", tc.in), err, tc.want)
			got, _ := g.Lookup("g")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("group after a rejected UpdateGroup (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeleteGroup(t *testing.T) {
	t.Parallel()
	g := newGroups(t, 0, nil)
	a := create(t, g, "a", "")
	create(t, g, "b", "")
	out, err := g.DeleteGroup(t.Context(), xrayapi.DeleteGroupInput{GroupName: ptr("a")})
	if err != nil {
		t.Fatal(err)
	}
	if *out != (xrayapi.DeleteGroupOutput{}) {
		t.Errorf("DeleteGroup = %+v, want {}", out)
	}
	if _, err := g.DeleteGroup(t.Context(), xrayapi.DeleteGroupInput{GroupARN: ptr(arnPrefix + "b/ID2")}); err != nil {
		t.Fatalf("DeleteGroup by ARN: %v", err)
	}
	if diff := cmp.Diff([]string{"Default"}, names(t, g)); diff != "" {
		t.Errorf("groups after deleting a and b (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		in   xrayapi.DeleteGroupInput
		want string
	}{
		{xrayapi.DeleteGroupInput{GroupName: ptr("Default")}, "the Default group cannot be deleted"},
		{xrayapi.DeleteGroupInput{GroupARN: ptr(arnPrefix + "Default")}, "the Default group cannot be deleted"},
		{xrayapi.DeleteGroupInput{GroupName: ptr("a")}, "Group not found"},
		{xrayapi.DeleteGroupInput{GroupARN: ptr(a.GroupARN)}, "Group not found"},
		{xrayapi.DeleteGroupInput{}, "GroupName or GroupARN is required"},
	} {
		_, err := g.DeleteGroup(t.Context(), tc.in)
		checkInvalid(t, fmt.Sprintf("DeleteGroup(%+v)", tc.in), err, tc.want)
	}
	// A new group of a deleted one's name is a new group, with a new ARN.
	if again := create(t, g, "a", ""); again.GroupARN == a.GroupARN {
		t.Errorf("recreated group kept the ARN %q", a.GroupARN)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	g := newGroups(t, 0, nil)
	a := create(t, g, "a", "fault")
	for _, tc := range []struct {
		key  string
		want xrayapi.Group
		ok   bool
	}{
		{"a", a, true},
		{a.GroupARN, a, true},
		{"Default", xrayapi.Group{GroupName: "Default", GroupARN: arnPrefix + "Default"}, true},
		{arnPrefix + "Default", xrayapi.Group{GroupName: "Default", GroupARN: arnPrefix + "Default"}, true},
		{"A", xrayapi.Group{}, false},
		{"", xrayapi.Group{}, false},
	} {
		got, ok := g.Lookup(tc.key)
		if ok != tc.ok || got != tc.want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"default", func(*Config) {}, ""},
		{"no groups besides Default", func(c *Config) { c.MaxGroups = 0 }, ""},
		{"negative MaxGroups", func(c *Config) { c.MaxGroups = -1 }, "MaxGroups -1 is negative"},
		{"no region", func(c *Config) { c.Region = "" }, "Region and Account must be set"},
		{"no account", func(c *Config) { c.Account = "" }, "Region and Account must be set"},
	} {
		cfg := DefaultConfig()
		tc.edit(&cfg)
		err := cfg.Validate()
		if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && !strings.Contains(got, tc.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.want)
		}
		if _, err := Open(t.Context(), cfg, nil); (err == nil) != (tc.want == "") {
			t.Errorf("%s: Open error %v", tc.name, err)
		}
	}
}

func TestARNUsesConfig(t *testing.T) {
	t.Parallel()
	g, err := Open(t.Context(), Config{MaxGroups: 1, Region: "eu-west-1", Account: "123456789012"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := g.Lookup("Default")
	if want := "arn:aws:xray:eu-west-1:123456789012:group/Default"; d.GroupARN != want {
		t.Errorf("Default ARN %q, want %q", d.GroupARN, want)
	}
}

func TestConcurrentChanges(t *testing.T) {
	t.Parallel()
	g := newGroups(t, 100, nil)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			name := fmt.Sprintf("g%d", i)
			if _, err := g.CreateGroup(t.Context(), xrayapi.CreateGroupInput{GroupName: name}); err != nil {
				t.Error(err)
			}
			g.Lookup(name)
			if _, err := g.GetGroups(t.Context(), xrayapi.GetGroupsInput{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(names(t, g)); n != 21 {
		t.Errorf("%d groups after 20 concurrent creates, want 21", n)
	}
}
