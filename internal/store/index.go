package store

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"

	"github.com/thawtrace/thaw/internal/analyze/summary"
)

// Term is one indexed fact about a trace, such as "has a fault" or
// "annotation user_id is the string user-42". A backend keeps, per term, the
// traces that have it, so a search for something rare reads those traces
// instead of every summary in the window. Terms are opaque bytes built by the
// functions below; Terms lists a summary's.
//
// Only facts that are either rare by nature (faults, slow responses, 4xx/5xx
// statuses, root causes) or selective by value (annotation values, users) are
// terms: a term every trace has would cost a posting per trace and narrow
// nothing. Service names are not terms (yet); service() filters scan.
type Term string

// Kinds of term, the first byte of each.
const (
	termFlag       = 'f' // f · name: fault, error, throttle, partial is true
	termRootCause  = 'c' // c · kind: at least one root cause of the kind
	termStatus     = 'h' // h · decimal status: the trace's http.status (>= 400 only)
	termAtLeast    = 't' // t · field · ':' · step: responsetime/duration >= step
	termUser       = 'u' // u · name
	termAnnotation = 'a' // a · uvarint(len(key)) · key · type · value
)

// FlagTerm is the term of a trace-level boolean that is true: "fault",
// "error", "throttle" or "partial".
func FlagTerm(name string) Term { return Term(string(rune(termFlag)) + name) }

// RootCauseTerm is the term of a trace with at least one root cause of kind
// "fault", "error" or "responsetime".
func RootCauseTerm(kind string) Term { return Term(string(rune(termRootCause)) + kind) }

// MinIndexedStatus is the lowest http.status that is a term: successes are
// too common to be worth indexing.
const MinIndexedStatus = 400

// StatusTerm is the term of a trace whose http.status is code; ok is false
// when such statuses are not indexed.
func StatusTerm(code int) (Term, bool) {
	if code < MinIndexedStatus || code > 999 {
		return "", false
	}
	return Term(string(rune(termStatus)) + strconv.Itoa(code)), true
}

// Steps are the thresholds at which responsetime and duration are indexed,
// in seconds: a trace has the term of every step at or below its value.
// Below the first step a time is common, and a filter on it scans.
var Steps = []float64{0.5, 1, 2, 5, 10, 30, 60, 300}

// AtLeastTerm is the term for "field >= min", where field is "responsetime"
// or "duration": the term of the largest step at or below min, which every
// trace with field >= min has. ok is false when min is below every step.
func AtLeastTerm(field string, min float64) (Term, bool) {
	i, found := slices.BinarySearch(Steps, min)
	if !found {
		i-- // the largest step below min
	}
	if i < 0 || math.IsNaN(min) {
		return "", false
	}
	return atLeast(field, Steps[i]), true
}

func atLeast(field string, step float64) Term {
	return Term(string(rune(termAtLeast)) + field + ":" + strconv.FormatFloat(step, 'g', -1, 64))
}

// UserTerm is the term of a trace with a segment whose user is name.
func UserTerm(name string) Term { return Term(string(rune(termUser)) + name) }

// Annotation value types in a term.
const (
	annString = 's'
	annNumber = 'n'
	annBool   = 'b'
)

func annotationTerm(key string, typ byte, value []byte) Term {
	b := make([]byte, 0, 2+len(key)+1+len(value))
	b = append(b, termAnnotation)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = append(b, typ)
	return Term(append(b, value...))
}

// AnnotationStringTerm is the term of annotation key holding the string v.
func AnnotationStringTerm(key, v string) Term { return annotationTerm(key, annString, []byte(v)) }

// AnnotationNumberTerm is the term of annotation key holding the number v.
// Equal numbers have equal terms (0 and -0 included).
func AnnotationNumberTerm(key string, v float64) Term {
	if v == 0 {
		v = 0 // -0 == 0 in a filter, so one term for both
	}
	return annotationTerm(key, annNumber, binary.BigEndian.AppendUint64(nil, math.Float64bits(v)))
}

// AnnotationBoolTerm is the term of annotation key holding the boolean v.
func AnnotationBoolTerm(key string, v bool) Term {
	if v {
		return annotationTerm(key, annBool, []byte{1})
	}
	return annotationTerm(key, annBool, []byte{0})
}

// Terms returns the terms of a summary, sorted and without duplicates. A
// store indexes exactly these; a summary computed again yields the same.
func Terms(s *summary.Summary) []Term {
	var out []Term
	for _, f := range []struct {
		on   bool
		name string
	}{{s.HasFault, "fault"}, {s.HasError, "error"}, {s.HasThrottle, "throttle"}, {s.IsPartial, "partial"}} {
		if f.on {
			out = append(out, FlagTerm(f.name))
		}
	}
	for _, rc := range []struct {
		n    int
		kind string
	}{{len(s.FaultRootCauses), "fault"}, {len(s.ErrorRootCauses), "error"}, {len(s.ResponseTimeRootCauses), "responsetime"}} {
		if rc.n > 0 {
			out = append(out, RootCauseTerm(rc.kind))
		}
	}
	if s.HTTP != nil {
		if t, ok := StatusTerm(s.HTTP.HTTPStatus); ok {
			out = append(out, t)
		}
	}
	steps := func(field string, has bool, v float64) {
		if !has {
			return
		}
		for _, step := range Steps {
			if v < step {
				break
			}
			out = append(out, atLeast(field, step))
		}
	}
	steps("responsetime", s.HasResponse, s.ResponseTime)
	steps("duration", s.HasDuration, s.Duration)
	for _, u := range s.Users {
		out = append(out, UserTerm(u.UserName))
	}
	for key, vals := range s.Annotations {
		for _, v := range vals {
			switch a := v.AnnotationValue; {
			case a.NumberValue != nil:
				out = append(out, AnnotationNumberTerm(key, *a.NumberValue))
			case a.BooleanValue != nil:
				out = append(out, AnnotationBoolTerm(key, *a.BooleanValue))
			case a.StringValue != nil:
				out = append(out, AnnotationStringTerm(key, *a.StringValue))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Match narrows a summary scan to the traces with certain terms. A Match
// with a Term admits the traces that have it; one with All admits those every
// element admits; one with Any those at least one element admits. The zero
// Match (no Term, All or Any) admits every trace.
type Match struct {
	Term Term
	All  []Match
	Any  []Match
}

// Everything reports whether m admits every trace.
func (m Match) Everything() bool { return m.Term == "" && len(m.All) == 0 && len(m.Any) == 0 }

// MatchTerm admits the traces that have t.
func MatchTerm(t Term) Match { return Match{Term: t} }

// MatchAll admits the traces every one of ms admits. Elements that admit
// everything are dropped; with none left it admits everything.
func MatchAll(ms ...Match) Match {
	var kept []Match
	for _, m := range ms {
		if !m.Everything() {
			kept = append(kept, m)
		}
	}
	if len(kept) == 1 {
		return kept[0]
	}
	return Match{All: kept}
}

// MatchAny admits the traces at least one of ms admits; if one of them
// admits everything, so does the result.
func MatchAny(ms ...Match) Match {
	if len(ms) == 0 {
		return Match{}
	}
	for _, m := range ms {
		if m.Everything() {
			return Match{}
		}
	}
	if len(ms) == 1 {
		return ms[0]
	}
	return Match{Any: ms}
}

// Admits reports whether a trace with the given terms (sorted, as Terms
// returns them) is admitted by m.
func (m Match) Admits(terms []Term) bool {
	switch {
	case m.Term != "":
		_, ok := slices.BinarySearch(terms, m.Term)
		return ok
	case len(m.All) > 0:
		for _, c := range m.All {
			if !c.Admits(terms) {
				return false
			}
		}
		return true
	case len(m.Any) > 0:
		for _, c := range m.Any {
			if c.Admits(terms) {
				return true
			}
		}
		return false
	}
	return true
}
