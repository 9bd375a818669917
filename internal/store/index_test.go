package store_test

import (
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/store"
)

func TestTerms(t *testing.T) {
	num := func(f float64) summary.ValueWithServiceIDs {
		return summary.ValueWithServiceIDs{AnnotationValue: summary.AnnotationValue{NumberValue: &f}}
	}
	str := func(s string) summary.ValueWithServiceIDs {
		return summary.ValueWithServiceIDs{AnnotationValue: summary.AnnotationValue{StringValue: &s}}
	}
	boolean := func(b bool) summary.ValueWithServiceIDs {
		return summary.ValueWithServiceIDs{AnnotationValue: summary.AnnotationValue{BooleanValue: &b}}
	}
	s := summary.Summary{
		HasFault: true, HasThrottle: true,
		HasResponse: true, ResponseTime: 2.5, HasDuration: true, Duration: 0.49,
		HTTP:                   &summary.HTTP{HTTPStatus: 503},
		Users:                  []summary.User{{UserName: "alice"}, {UserName: "bob"}},
		FaultRootCauses:        []summary.RootCause{{}},
		ErrorRootCauses:        nil,
		Annotations:            map[string][]summary.ValueWithServiceIDs{"n": {num(math.Copysign(0, -1)), num(7)}, "s": {str("x"), str("x")}, "b": {boolean(false)}},
		ResponseTimeRootCauses: []summary.RootCause{{}},
	}
	status, _ := store.StatusTerm(503)
	want := []store.Term{
		store.FlagTerm("fault"), store.FlagTerm("throttle"),
		store.RootCauseTerm("fault"), store.RootCauseTerm("responsetime"),
		status,
		mustAtLeast(t, "responsetime", 0.5), mustAtLeast(t, "responsetime", 1), mustAtLeast(t, "responsetime", 2),
		store.UserTerm("alice"), store.UserTerm("bob"),
		store.AnnotationNumberTerm("n", 0), store.AnnotationNumberTerm("n", 7),
		store.AnnotationStringTerm("s", "x"), store.AnnotationBoolTerm("b", false),
	}
	slices.Sort(want)
	got := store.Terms(&s)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Terms (-want +got):\n%s", diff)
	}
	if !slices.IsSorted(got) {
		t.Errorf("Terms not sorted: %q", got)
	}
	// Successful statuses are not indexed; 0.49 s is below every step.
	if _, ok := store.StatusTerm(200); ok {
		t.Error("StatusTerm(200) is indexed; want only statuses from 400")
	}
}

func mustAtLeast(t *testing.T, field string, min float64) store.Term {
	t.Helper()
	term, ok := store.AtLeastTerm(field, min)
	if !ok {
		t.Fatalf("AtLeastTerm(%s, %g): no term", field, min)
	}
	return term
}

func TestAtLeastTerm(t *testing.T) {
	for _, tc := range []struct {
		min  float64
		step float64 // 0: no term
	}{
		{0.1, 0}, {0.4999, 0}, {0.5, 0.5}, {0.7, 0.5}, {1, 1}, {4.9, 2}, {5, 5}, {299, 60}, {300, 300}, {1e9, 300}, {math.NaN(), 0}, {-1, 0},
	} {
		got, ok := store.AtLeastTerm("duration", tc.min)
		if tc.step == 0 {
			if ok {
				t.Errorf("AtLeastTerm(duration, %g) = %q; want none", tc.min, got)
			}
			continue
		}
		want, _ := store.AtLeastTerm("duration", tc.step)
		if !ok || got != want {
			t.Errorf("AtLeastTerm(duration, %g) = %q, %v; want the term of step %g", tc.min, got, ok, tc.step)
		}
	}
}

func TestMatch(t *testing.T) {
	a, b, c := store.MatchTerm("a"), store.MatchTerm("b"), store.MatchTerm("c")
	every := store.Match{}
	for _, tc := range []struct {
		name  string
		m     store.Match
		terms []store.Term
		want  bool
	}{
		{"everything", every, nil, true},
		{"term present", a, []store.Term{"a", "b"}, true},
		{"term absent", a, []store.Term{"b"}, false},
		{"all", store.MatchAll(a, b), []store.Term{"a", "b"}, true},
		{"all, one missing", store.MatchAll(a, b), []store.Term{"a"}, false},
		{"all drops everything", store.MatchAll(every, a), []store.Term{"a"}, true},
		{"any", store.MatchAny(a, c), []store.Term{"c"}, true},
		{"any, none", store.MatchAny(a, c), []store.Term{"b"}, false},
		{"any with everything", store.MatchAny(a, every), nil, true},
		{"nested", store.MatchAll(store.MatchAny(a, b), c), []store.Term{"b", "c"}, true},
	} {
		if got := tc.m.Admits(tc.terms); got != tc.want {
			t.Errorf("%s: Admits(%q) = %v; want %v", tc.name, tc.terms, got, tc.want)
		}
	}
	if !store.MatchAll(every, every).Everything() || !store.MatchAny(a, every).Everything() || store.MatchAll(every, a).Term != "a" {
		t.Error("MatchAll/MatchAny do not simplify matches that admit everything")
	}
}
