package embedded

import (
	"errors"
	"testing"

	"github.com/thawtrace/thaw/internal/store"
)

func TestSamplingRulesSurviveReopen(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	db := open(t, cfg)
	if _, err := db.LoadSamplingRules(t.Context()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LoadSamplingRules on a new store = %v, want store.ErrNotFound", err)
	}
	want := []byte(`[{"RuleName":"checkout"}]`)
	if err := db.SaveSamplingRules(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, cfg)
	defer db.Close()
	got, err := db.LoadSamplingRules(t.Context())
	if err != nil || string(got) != string(want) {
		t.Errorf("LoadSamplingRules after reopen = %q, %v; want %q", got, err, want)
	}
}
