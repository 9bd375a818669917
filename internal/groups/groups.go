// Package groups is X-Ray groups (spec/xray.md §2.13, §4.7): named filter
// expressions over traces with their Insights settings, the built-in
// Default group that cannot be deleted, and Lookup for the query layer's
// group-scoped graphs and group.name filters. It imports only filter and
// the wire types of xrayapi, never a store: persistence goes through the
// Store it declares.
package groups

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// DefaultGroupName is the name of the group that always exists.
const DefaultGroupName = "Default"

// Config sets the limits of a group set and the names in its ARNs.
type Config struct {
	// MaxGroups is how many groups besides Default may exist; creating one
	// more fails with InvalidRequestException.
	MaxGroups int
	// Region and Account go into group ARNs.
	Region, Account string
}

// DefaultConfig returns AWS's default quota of 25 groups and the region
// and account sampling uses.
func DefaultConfig() Config {
	return Config{MaxGroups: 25, Region: "us-east-1", Account: "000000000000"}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.MaxGroups < 0:
		return fmt.Errorf("groups: MaxGroups %d is negative", c.MaxGroups)
	case c.Region == "" || c.Account == "":
		return errors.New("groups: Region and Account must be set")
	}
	return nil
}

// Groups is a set of X-Ray groups. It is safe for concurrent use.
type Groups struct {
	cfg   Config
	store Store // nil: in memory only
	newID func() string

	// writeMu serialises changes, so that a slow SaveGroups never blocks
	// the readers, which take only mu.
	writeMu sync.Mutex

	mu sync.Mutex
	// groups is ordered by name and replaced, never changed in place, so a
	// snapshot taken under mu can be read without it. Group has no
	// reference members, so copies handed out share nothing with it.
	groups []xrayapi.Group
}

// New returns an in-memory group set with only the Default group and
// DefaultConfig.
func New() *Groups {
	g, err := Open(context.Background(), DefaultConfig(), nil)
	if err != nil {
		panic(err) // the default config is valid and there is no store to fail
	}
	return g
}

// Open returns a group set that loads its groups from store and saves them
// there after each change. With a nil store the groups live in memory only.
// Without saved groups it starts with only the Default group.
func Open(ctx context.Context, cfg Config, store Store) (*Groups, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Groups{cfg: cfg, store: store, newID: randomID}
	g.groups = []xrayapi.Group{g.defaultGroup()}
	if store == nil {
		return g, nil
	}
	data, err := store.LoadGroups(ctx)
	if errors.Is(err, ErrNoGroups) || (err == nil && len(data) == 0) {
		return g, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load groups: %w", err)
	}
	groups, err := decodeGroups(data)
	if err != nil {
		return nil, fmt.Errorf("load groups: %w", err)
	}
	if !slices.ContainsFunc(groups, isDefault) {
		groups = append(groups, g.defaultGroup())
	}
	sortGroups(groups)
	g.groups = groups
	return g, nil
}

func (g *Groups) defaultGroup() xrayapi.Group {
	return xrayapi.Group{GroupName: DefaultGroupName, GroupARN: g.arnPrefix() + DefaultGroupName}
}

func (g *Groups) arnPrefix() string {
	return "arn:aws:xray:" + g.cfg.Region + ":" + g.cfg.Account + ":group/"
}

// idAlphabet is RFC 4648 base32, the alphabet of AWS's group ARN ids.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// idLen is the length of the id that ends a group's ARN.
const idLen = 24

// randomID returns a new group id of idLen base32 characters.
func randomID() string {
	var b [idLen]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	for i := range b {
		b[i] = idAlphabet[b[i]%byte(len(idAlphabet))] // 32 divides 256: no bias
	}
	return string(b[:])
}

func isDefault(gr xrayapi.Group) bool { return gr.GroupName == DefaultGroupName }

func sortGroups(groups []xrayapi.Group) {
	slices.SortFunc(groups, func(a, b xrayapi.Group) int { return strings.Compare(a.GroupName, b.GroupName) })
}

func (g *Groups) snapshot() []xrayapi.Group {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.groups
}

// Lookup returns the group whose name or ARN is key, for the query layer
// (group-scoped graphs, group.name filters). Names are case-sensitive.
func (g *Groups) Lookup(key string) (xrayapi.Group, bool) {
	groups := g.snapshot()
	i := slices.IndexFunc(groups, func(x xrayapi.Group) bool { return x.GroupName == key || x.GroupARN == key })
	if i < 0 {
		return xrayapi.Group{}, false
	}
	return groups[i], true
}

// GetGroups returns every group, Default included, in one page ordered by
// name; it never returns a NextToken, and ignores one it is given.
func (g *Groups) GetGroups(context.Context, xrayapi.GetGroupsInput) (*xrayapi.GetGroupsOutput, error) {
	groups := g.snapshot()
	out := &xrayapi.GetGroupsOutput{Groups: make([]xrayapi.GroupSummary, len(groups))}
	for i, gr := range groups {
		out.Groups[i] = xrayapi.GroupSummary(gr)
	}
	return out, nil
}

// GetGroup returns the group named by GroupName or GroupARN; an unknown
// group is an InvalidRequestException "Group not found", as in AWS.
func (g *Groups) GetGroup(_ context.Context, in xrayapi.GetGroupInput) (*xrayapi.GetGroupOutput, error) {
	groups := g.snapshot()
	i, err := find(groups, in.GroupName, in.GroupARN)
	if err != nil {
		return nil, err
	}
	return &xrayapi.GetGroupOutput{Group: groups[i]}, nil
}

// CreateGroup adds a group with a new ARN. A bad or duplicate name (Default
// included), a filter expression that does not parse, notifications without
// insights, or one group over MaxGroups is an InvalidRequestException. Tags
// are accepted and ignored.
func (g *Groups) CreateGroup(ctx context.Context, in xrayapi.CreateGroupInput) (*xrayapi.CreateGroupOutput, error) {
	gr := xrayapi.Group{GroupName: in.GroupName}
	if in.FilterExpression != nil {
		gr.FilterExpression = *in.FilterExpression
	}
	if in.InsightsConfiguration != nil {
		gr.InsightsConfiguration = *in.InsightsConfiguration
	}
	if err := validate(gr); err != nil {
		return nil, err
	}
	err := g.change(ctx, func(groups []xrayapi.Group) ([]xrayapi.Group, error) {
		if slices.ContainsFunc(groups, func(x xrayapi.Group) bool { return x.GroupName == gr.GroupName }) {
			return nil, xrayapi.InvalidRequest("group %q already exists", gr.GroupName)
		}
		if len(groups)-1 >= g.cfg.MaxGroups {
			return nil, xrayapi.InvalidRequest("at most %d groups besides Default are allowed", g.cfg.MaxGroups)
		}
		gr.GroupARN = g.arnPrefix() + gr.GroupName + "/" + g.newID()
		return append(groups, gr), nil
	})
	if err != nil {
		return nil, err
	}
	return &xrayapi.CreateGroupOutput{Group: gr}, nil
}

// UpdateGroup changes the filter expression and Insights settings the
// update carries of the group it names by GroupName or GroupARN. The name
// and ARN never change. The Default group's filter expression must stay
// empty; its Insights settings may change.
func (g *Groups) UpdateGroup(ctx context.Context, in xrayapi.UpdateGroupInput) (*xrayapi.UpdateGroupOutput, error) {
	var gr xrayapi.Group
	err := g.change(ctx, func(groups []xrayapi.Group) ([]xrayapi.Group, error) {
		i, err := find(groups, in.GroupName, in.GroupARN)
		if err != nil {
			return nil, err
		}
		gr = groups[i]
		if in.FilterExpression != nil {
			if isDefault(gr) && *in.FilterExpression != "" {
				return nil, xrayapi.InvalidRequest("the filter expression of the Default group cannot be changed")
			}
			gr.FilterExpression = *in.FilterExpression
		}
		if in.InsightsConfiguration != nil {
			gr.InsightsConfiguration = *in.InsightsConfiguration
		}
		if err := validate(gr); err != nil {
			return nil, err
		}
		groups[i] = gr
		return groups, nil
	})
	if err != nil {
		return nil, err
	}
	return &xrayapi.UpdateGroupOutput{Group: gr}, nil
}

// DeleteGroup removes the group named by GroupName or GroupARN. The
// Default group cannot be deleted.
func (g *Groups) DeleteGroup(ctx context.Context, in xrayapi.DeleteGroupInput) (*xrayapi.DeleteGroupOutput, error) {
	err := g.change(ctx, func(groups []xrayapi.Group) ([]xrayapi.Group, error) {
		i, err := find(groups, in.GroupName, in.GroupARN)
		if err != nil {
			return nil, err
		}
		if isDefault(groups[i]) {
			return nil, xrayapi.InvalidRequest("the Default group cannot be deleted")
		}
		return slices.Delete(groups, i, i+1), nil
	})
	if err != nil {
		return nil, err
	}
	return &xrayapi.DeleteGroupOutput{}, nil
}

// change applies f to a copy of the groups, saves the result and only then
// makes it current, so a failed save leaves the group set as it was.
func (g *Groups) change(ctx context.Context, f func([]xrayapi.Group) ([]xrayapi.Group, error)) error {
	g.writeMu.Lock()
	defer g.writeMu.Unlock()
	groups, err := f(slices.Clone(g.snapshot()))
	if err != nil {
		return err
	}
	sortGroups(groups)
	if g.store != nil {
		data, err := encodeGroups(groups)
		if err != nil {
			return err
		}
		if err := g.store.SaveGroups(ctx, data); err != nil {
			return fmt.Errorf("save groups: %w", err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.groups = groups
	return nil
}

// find returns the index of the group named by name or arn; when both are
// given they must name the same group. An unknown group gets AWS's message.
func find(groups []xrayapi.Group, name, arn *string) (int, error) {
	if name == nil && arn == nil {
		return 0, xrayapi.InvalidRequest("GroupName or GroupARN is required")
	}
	i := slices.IndexFunc(groups, func(x xrayapi.Group) bool {
		return (name == nil || x.GroupName == *name) && (arn == nil || x.GroupARN == *arn)
	})
	if i < 0 {
		return 0, xrayapi.InvalidRequest("Group not found")
	}
	return i, nil
}
