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

// GraphRollup returns the stored service-graph rollup of an epoch minute,
// as the query layer encoded it, or store.ErrNotFound. A rollup is deleted
// whenever a trace with last activity in its minute changes.
func (db *DB) GraphRollup(ctx context.Context, minute uint32) ([]byte, error) {
	return db.loadMeta(ctx, rollupKey(minute))
}

// RollupGeneration returns the change count of an epoch minute's rollup:
// read it before reading the minute's traces, and pass it to
// PutGraphRollup, which then refuses to store a rollup that a summarizer
// pass made stale meanwhile.
func (db *DB) RollupGeneration(minute uint32) uint64 {
	db.rollupMu.Lock()
	defer db.rollupMu.Unlock()
	return db.rollupGen[minute]
}

// rollupsChanged records that a committed summarizer pass deleted the
// rollups of these minutes.
func (db *DB) rollupsChanged(minutes []uint32) {
	if len(minutes) == 0 {
		return
	}
	db.rollupMu.Lock()
	defer db.rollupMu.Unlock()
	if db.rollupGen == nil {
		db.rollupGen = map[uint32]uint64{}
	}
	for _, m := range minutes {
		db.rollupGen[m]++
	}
}

// PutGraphRollup stores the rollup of an epoch minute, built from the
// traces read after RollupGeneration returned gen; it stores nothing (and
// reports false) if the minute changed since. Not synced: a lost rollup is
// rebuilt from the traces.
func (db *DB) PutGraphRollup(ctx context.Context, minute uint32, gen uint64, v []byte) (bool, error) {
	if !db.enter() {
		return false, store.ErrClosed
	}
	defer db.ops.Done()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	db.rollupMu.Lock()
	defer db.rollupMu.Unlock()
	if db.rollupGen[minute] != gen {
		return false, nil
	}
	if err := db.pdb.Set(rollupKey(minute), v, pebble.NoSync); err != nil {
		return false, fmt.Errorf("write graph rollup %d: %w", minute, err)
	}
	return true, nil
}
