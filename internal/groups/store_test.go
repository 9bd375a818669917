package groups

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// fakeStore is a Store of func fields.
type fakeStore struct {
	load func(context.Context) ([]byte, error)
	save func(context.Context, []byte) error
}

func (f fakeStore) LoadGroups(ctx context.Context) ([]byte, error) { return f.load(ctx) }
func (f fakeStore) SaveGroups(ctx context.Context, b []byte) error { return f.save(ctx, b) }

var _ Store = fakeStore{}

// memStore keeps the last saved document; fail makes the next saves fail.
type memStore struct {
	mu    sync.Mutex
	data  []byte
	saves int
	fail  error
}

func (m *memStore) store() fakeStore {
	return fakeStore{
		load: func(context.Context) ([]byte, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.data == nil {
				return nil, fmt.Errorf("read groups key: %w", ErrNoGroups)
			}
			return append([]byte(nil), m.data...), nil
		},
		save: func(_ context.Context, b []byte) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.fail != nil {
				return m.fail
			}
			m.data, m.saves = append([]byte(nil), b...), m.saves+1
			return nil
		},
	}
}

func groupsOf(t *testing.T, g *Groups) []xrayapi.GroupSummary {
	t.Helper()
	out, err := g.GetGroups(t.Context(), xrayapi.GetGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	return out.Groups
}

func TestPersistenceRoundTrip(t *testing.T) {
	t.Parallel()
	m := &memStore{}
	g := newGroups(t, 0, m.store())
	if diff := cmp.Diff([]string{"Default"}, names(t, g)); diff != "" {
		t.Errorf("groups without a saved document (-want +got):\n%s", diff)
	}
	create(t, g, "kept", `service("api") { fault }`)
	create(t, g, "gone", "")
	create(t, g, "plain", "")
	on := &xrayapi.InsightsConfiguration{InsightsEnabled: true, NotificationsEnabled: true}
	if _, err := g.UpdateGroup(t.Context(), xrayapi.UpdateGroupInput{GroupName: ptr("Default"), InsightsConfiguration: on}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.UpdateGroup(t.Context(), xrayapi.UpdateGroupInput{GroupName: ptr("kept"), InsightsConfiguration: on}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.DeleteGroup(t.Context(), xrayapi.DeleteGroupInput{GroupName: ptr("gone")}); err != nil {
		t.Fatal(err)
	}
	if m.saves != 6 {
		t.Errorf("%d saves after 6 changes", m.saves)
	}
	reopened, err := Open(t.Context(), DefaultConfig(), m.store())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(groupsOf(t, g), groupsOf(t, reopened)); diff != "" {
		t.Errorf("groups after reopening (-before +after):\n%s", diff)
	}
}

func TestFailedSaveKeepsGroups(t *testing.T) {
	t.Parallel()
	m := &memStore{}
	g := newGroups(t, 0, m.store())
	create(t, g, "a", "fault")
	before := groupsOf(t, g)
	m.fail = errors.New("disk full")
	for what, call := range map[string]func() error{
		"CreateGroup": func() error {
			_, err := g.CreateGroup(t.Context(), xrayapi.CreateGroupInput{GroupName: "b"})
			return err
		},
		"UpdateGroup": func() error {
			_, err := g.UpdateGroup(t.Context(), xrayapi.UpdateGroupInput{GroupName: ptr("a"), FilterExpression: ptr("error")})
			return err
		},
		"DeleteGroup": func() error {
			_, err := g.DeleteGroup(t.Context(), xrayapi.DeleteGroupInput{GroupName: ptr("a")})
			return err
		},
	} {
		err := call()
		if !errors.Is(err, m.fail) || !strings.HasPrefix(fmt.Sprint(err), "save groups: ") {
			t.Errorf("%s with a failing store: error %v, want save groups: disk full", what, err)
		}
		if diff := cmp.Diff(before, groupsOf(t, g)); diff != "" {
			t.Errorf("groups after a failed %s (-want +got):\n%s", what, diff)
		}
	}
}

func TestOpenWithoutSavedGroups(t *testing.T) {
	t.Parallel()
	for name, load := range map[string]func(context.Context) ([]byte, error){
		"ErrNoGroups": func(context.Context) ([]byte, error) { return nil, ErrNoGroups },
		"wrapped":     func(context.Context) ([]byte, error) { return nil, fmt.Errorf("get: %w", ErrNoGroups) },
		"empty":       func(context.Context) ([]byte, error) { return []byte{}, nil },
	} {
		g, err := Open(t.Context(), DefaultConfig(), fakeStore{load: load})
		if err != nil {
			t.Errorf("%s: Open: %v", name, err)
			continue
		}
		if diff := cmp.Diff([]string{"Default"}, names(t, g)); diff != "" {
			t.Errorf("%s: groups (-want +got):\n%s", name, diff)
		}
	}
}

func TestOpenAddsMissingDefault(t *testing.T) {
	t.Parallel()
	doc := `{"Format":1,"Groups":[{"GroupName":"a","GroupARN":"arn:aws:xray:us-east-1:000000000000:group/a/X","InsightsConfiguration":{"InsightsEnabled":false,"NotificationsEnabled":false}}]}`
	g, err := Open(t.Context(), DefaultConfig(), fakeStore{load: func(context.Context) ([]byte, error) { return []byte(doc), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Default", "a"}, names(t, g)); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	const arn = `"GroupARN":"arn:aws:xray:us-east-1:000000000000:group/`
	for _, tc := range []struct {
		name string
		doc  string
		load error
		want string
	}{
		{"load error", "", errors.New("io error"), "load groups: io error"},
		{"not JSON", `{`, nil, "load groups: decode groups: "},
		{"unknown format", `{"Format":2,"Groups":[]}`, nil, "format 2 is not supported"},
		{"bad name", `{"Format":1,"Groups":[{"GroupName":"a b",` + arn + `a b/X"}]}`, nil, `decode group "a b": InvalidRequestException`},
		{"bad filter", `{"Format":1,"Groups":[{"GroupName":"a",` + arn + `a/X","FilterExpression":"("}]}`, nil, `decode group "a": InvalidRequestException: invalid FilterExpression`},
		{"no ARN", `{"Format":1,"Groups":[{"GroupName":"a"}]}`, nil, `decode group "a": GroupARN is empty`},
		{"Default with filter", `{"Format":1,"Groups":[{"GroupName":"Default",` + arn + `Default","FilterExpression":"fault"}]}`, nil, "the Default group has a filter expression"},
		{"twice", `{"Format":1,"Groups":[{"GroupName":"a",` + arn + `a/X"},{"GroupName":"a",` + arn + `a/Y"}]}`, nil, `group "a" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := fakeStore{load: func(context.Context) ([]byte, error) { return []byte(tc.doc), tc.load }}
			_, err := Open(t.Context(), DefaultConfig(), store)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open with %s: error %v, want one containing %q", tc.doc, err, tc.want)
			}
		})
	}
}

func TestSavedDocument(t *testing.T) {
	t.Parallel()
	m := &memStore{}
	g := newGroups(t, 0, m.store())
	create(t, g, "a", "fault")
	want := `{"Format":1,"Groups":[` +
		`{"GroupName":"Default","GroupARN":"arn:aws:xray:us-east-1:000000000000:group/Default","InsightsConfiguration":{"InsightsEnabled":false,"NotificationsEnabled":false}},` +
		`{"GroupName":"a","GroupARN":"arn:aws:xray:us-east-1:000000000000:group/a/ID1","FilterExpression":"fault","InsightsConfiguration":{"InsightsEnabled":false,"NotificationsEnabled":false}}]}`
	if diff := cmp.Diff(want, string(m.data)); diff != "" {
		t.Errorf("saved document (-want +got):\n%s", diff)
	}
}
