package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/thawtrace/thaw/internal/store"
)

// Settings keys in the metadata table (m | name).
var (
	metaSamplingRulesKey = []byte("msampling-rules")
	metaGroupsKey        = []byte("mgroups")
)

// LoadGroups returns the groups last saved, as the groups package encoded
// them, or store.ErrNotFound when none were ever saved.
func (db *DB) LoadGroups(ctx context.Context) ([]byte, error) {
	return db.loadMeta(ctx, metaGroupsKey)
}

// SaveGroups stores the encoded groups durably (synced).
func (db *DB) SaveGroups(ctx context.Context, v []byte) error {
	return db.saveMeta(ctx, metaGroupsKey, v)
}

// LoadSamplingRules returns the sampling rules last saved, as the sampling
// package encoded them, or store.ErrNotFound when none were ever saved.
func (db *DB) LoadSamplingRules(ctx context.Context) ([]byte, error) {
	return db.loadMeta(ctx, metaSamplingRulesKey)
}

// SaveSamplingRules stores the encoded sampling rules durably (synced).
func (db *DB) SaveSamplingRules(ctx context.Context, v []byte) error {
	return db.saveMeta(ctx, metaSamplingRulesKey, v)
}

func (db *DB) loadMeta(ctx context.Context, key []byte) ([]byte, error) {
	if !db.enter() {
		return nil, store.ErrClosed
	}
	defer db.ops.Done()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v, closer, err := db.pdb.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key[1:], err)
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

func (db *DB) saveMeta(ctx context.Context, key, v []byte) error {
	if !db.enter() {
		return store.ErrClosed
	}
	defer db.ops.Done()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.pdb.Set(key, v, pebble.Sync); err != nil {
		return fmt.Errorf("write %s: %w", key[1:], err)
	}
	return nil
}
