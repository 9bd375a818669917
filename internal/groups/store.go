package groups

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// ErrNoGroups is what a Store returns when no groups have been saved yet.
var ErrNoGroups = errors.New("groups: no saved groups")

// Store keeps the group set across restarts as one opaque document.
type Store interface {
	// LoadGroups returns the document last passed to SaveGroups; the
	// caller owns the bytes. It returns an error matching ErrNoGroups
	// (errors.Is), or empty data and a nil error, when nothing has been
	// saved yet.
	LoadGroups(ctx context.Context) ([]byte, error)
	// SaveGroups replaces the saved document with data, atomically: a
	// later LoadGroups sees either the old document or the new one. It
	// does not keep data after it returns. An error means the document may
	// not have been saved, and the group set keeps its previous groups.
	SaveGroups(ctx context.Context, data []byte) error
}

// groupsFormat is the version of the saved document; older versions stay
// readable when it changes.
const groupsFormat = 1

// savedGroups is the document a Store keeps. It holds Default too, whose
// Insights settings can change.
type savedGroups struct {
	Format int             `json:"Format"`
	Groups []xrayapi.Group `json:"Groups"`
}

func encodeGroups(groups []xrayapi.Group) ([]byte, error) {
	data, err := json.Marshal(savedGroups{Format: groupsFormat, Groups: groups})
	if err != nil {
		return nil, fmt.Errorf("encode groups: %w", err)
	}
	return data, nil
}

// decodeGroups reads a saved document and checks every group in it, so a
// damaged document stops the start instead of serving groups that could
// not have been created.
func decodeGroups(data []byte) ([]xrayapi.Group, error) {
	var doc savedGroups
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode groups: %w", err)
	}
	if doc.Format != groupsFormat {
		return nil, fmt.Errorf("decode groups: format %d is not supported", doc.Format)
	}
	seen := make(map[string]bool, len(doc.Groups))
	for _, gr := range doc.Groups {
		if err := validate(gr); err != nil {
			return nil, fmt.Errorf("decode group %q: %w", gr.GroupName, err)
		}
		if gr.GroupARN == "" {
			return nil, fmt.Errorf("decode group %q: GroupARN is empty", gr.GroupName)
		}
		if isDefault(gr) && gr.FilterExpression != "" {
			return nil, errors.New("decode groups: the Default group has a filter expression")
		}
		if seen[gr.GroupName] {
			return nil, fmt.Errorf("decode groups: group %q appears twice", gr.GroupName)
		}
		seen[gr.GroupName] = true
	}
	return doc.Groups, nil
}
