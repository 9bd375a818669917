package sampling

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// fakeStore is a RuleStore of func fields.
type fakeStore struct {
	load func(context.Context) ([]byte, error)
	save func(context.Context, []byte) error
}

func (f fakeStore) LoadRules(ctx context.Context) ([]byte, error) { return f.load(ctx) }
func (f fakeStore) SaveRules(ctx context.Context, b []byte) error { return f.save(ctx, b) }

var _ RuleStore = fakeStore{}

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
				return nil, fmt.Errorf("read rules key: %w", ErrNoRules)
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

func TestPersistenceRoundTrip(t *testing.T) {
	t.Parallel()
	m := &memStore{}
	r, c := newRules(t, 0, m.store())
	if diff := cmp.Diff([]string{"Default"}, names(t, r)); diff != "" {
		t.Errorf("rules without a saved document (-want +got):\n%s", diff)
	}
	rl := rule("with-attrs", 50)
	rl.Attributes = map[string]string{"k": "v"}
	create(t, r, rl)
	create(t, r, rule("gone", 60))
	create(t, r, rule("kept", 70))
	c.advance(2500 * time.Millisecond)
	if _, err := r.UpdateSamplingRule(t.Context(), xrayapi.UpdateSamplingRuleInput{SamplingRuleUpdate: xrayapi.SamplingRuleUpdate{
		RuleName: ptr("Default"), ReservoirSize: ptr(9),
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DeleteSamplingRule(t.Context(), xrayapi.DeleteSamplingRuleInput{RuleName: ptr("gone")}); err != nil {
		t.Fatal(err)
	}
	if m.saves != 5 {
		t.Errorf("%d saves after 5 changes", m.saves)
	}
	want, _ := r.GetSamplingRules(t.Context())

	reopened, err := Open(t.Context(), DefaultConfig(), m.store())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := reopened.GetSamplingRules(t.Context())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rules after reopening (-before +after):\n%s\nsaved: %s", diff, m.data)
	}
}

func TestPersistenceFailures(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk full")
	m := &memStore{}
	r, _ := newRules(t, 0, m.store())
	create(t, r, rule("a", 1))
	m.fail = errDisk
	for name, op := range map[string]func() error{
		"create": func() error {
			_, err := r.CreateSamplingRule(t.Context(), xrayapi.CreateSamplingRuleInput{SamplingRule: rule("b", 2)})
			return err
		},
		"update": func() error {
			_, err := r.UpdateSamplingRule(t.Context(), xrayapi.UpdateSamplingRuleInput{SamplingRuleUpdate: xrayapi.SamplingRuleUpdate{RuleName: ptr("a"), Priority: ptr(3)}})
			return err
		},
		"delete": func() error {
			_, err := r.DeleteSamplingRule(t.Context(), xrayapi.DeleteSamplingRuleInput{RuleName: ptr("a")})
			return err
		},
	} {
		if err := op(); !errors.Is(err, errDisk) {
			t.Errorf("%s with a failing store: error %v, want %v", name, err, errDisk)
		}
	}
	out, _ := r.GetSamplingRules(t.Context())
	if diff := cmp.Diff([]string{"a", "Default"}, names(t, r)); diff != "" || out.SamplingRuleRecords[0].SamplingRule.Priority != 1 {
		t.Errorf("rules after failed saves changed (-want +got):\n%s\n%+v", diff, out.SamplingRuleRecords)
	}

	for _, tc := range []struct {
		name string
		load func(context.Context) ([]byte, error)
		ok   bool
	}{
		{"empty document", func(context.Context) ([]byte, error) { return nil, nil }, true},
		{"ErrNoRules", func(context.Context) ([]byte, error) { return nil, ErrNoRules }, true},
		{"without Default", func(context.Context) ([]byte, error) { return []byte(`{"Format":1,"Rules":[]}`), nil }, true},
		{"load error", func(context.Context) ([]byte, error) { return nil, errDisk }, false},
		{"not JSON", func(context.Context) ([]byte, error) { return []byte(`{`), nil }, false},
		{"future format", func(context.Context) ([]byte, error) { return []byte(`{"Format":2,"Rules":[]}`), nil }, false},
		{"invalid rule", func(context.Context) ([]byte, error) {
			return []byte(`{"Format":1,"Rules":[{"SamplingRule":{"RuleName":"x","Priority":0}}]}`), nil
		}, false},
	} {
		r, err := Open(t.Context(), DefaultConfig(), fakeStore{load: tc.load})
		if (err == nil) != tc.ok {
			t.Errorf("%s: Open error %v, want success %v", tc.name, err, tc.ok)
			continue
		}
		if err == nil {
			if diff := cmp.Diff([]string{"Default"}, names(t, r)); diff != "" {
				t.Errorf("%s: rules (-want +got):\n%s", tc.name, diff)
			}
		}
	}
}

// Pollers and an administrator at once: run with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	r, c := newRules(t, 0, (&memStore{}).store())
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			client := fmt.Sprintf("%024d", i)
			for range 50 {
				if _, err := r.GetSamplingTargets(t.Context(), xrayapi.GetSamplingTargetsInput{
					SamplingStatisticsDocuments: []xrayapi.SamplingStatisticsDocument{doc("Default", client, 3, t0), doc("r", client, 1, t0)},
				}); err != nil {
					t.Error(err)
				}
				if _, err := r.GetSamplingRules(t.Context()); err != nil {
					t.Error(err)
				}
				c.advance(100 * time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			name := fmt.Sprint("r", i%3)
			_, _ = r.CreateSamplingRule(t.Context(), xrayapi.CreateSamplingRuleInput{SamplingRule: rule("r", 1)})
			_, _ = r.UpdateSamplingRule(t.Context(), xrayapi.UpdateSamplingRuleInput{SamplingRuleUpdate: xrayapi.SamplingRuleUpdate{RuleName: ptr("r"), FixedRate: ptr(0.3)}})
			_, _ = r.CreateSamplingRule(t.Context(), xrayapi.CreateSamplingRuleInput{SamplingRule: rule(name, 2)})
			_, _ = r.DeleteSamplingRule(t.Context(), xrayapi.DeleteSamplingRuleInput{RuleName: ptr("r")})
			_, _ = r.GetSamplingStatisticSummaries(t.Context(), xrayapi.GetSamplingStatisticSummariesInput{})
		}
	})
	wg.Wait()
}
