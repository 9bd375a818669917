package query

import (
	"github.com/thawtrace/thaw/internal/filter"
	"github.com/thawtrace/thaw/internal/store"
)

// maxGroupDepth bounds how deep plan follows group.name into groups' own
// expressions; beyond it a group admits everything (the evaluator reports
// cycles).
const maxGroupDepth = 8

// plan returns what every trace matching e must have in the store's index
// (store.Terms): a necessary condition, never a sufficient one, since the
// expression is still evaluated on each trace the store yields. Anything the
// index does not know (negations, service() and edge() blocks, common
// values) admits every trace, which falls back to scanning the window.
//
// Every rule here mirrors how summaryTrace answers the evaluator; a rule
// that admitted less than the evaluator matches would make searches miss
// traces, which TestPlanNeverNarrowsResults guards against.
func (s *Service) plan(e filter.Expr) store.Match {
	if s.eval.FoldCase {
		return store.Match{} // value terms are exact; folded compares are not
	}
	m := s.planExpr(e, 0)
	if countTerms(m) > maxPlanTerms {
		return store.Match{}
	}
	return m
}

// maxPlanTerms bounds the terms of a plan: the store walks one iterator
// per term, and re-seeks every element of an any-of for each trace it
// yields, so a huge OR of values is cheaper as a scan.
const maxPlanTerms = 32

func countTerms(m store.Match) int {
	n := 0
	if m.Term != "" {
		n++
	}
	for _, c := range m.All {
		n += countTerms(c)
	}
	for _, c := range m.Any {
		n += countTerms(c)
	}
	return n
}

func (s *Service) planExpr(e filter.Expr, depth int) store.Match {
	switch e := e.(type) {
	case *filter.BinaryExpr:
		x, y := s.planExpr(e.X, depth), s.planExpr(e.Y, depth)
		if e.Op == filter.AND {
			return store.MatchAll(x, y)
		}
		return store.MatchAny(x, y)
	case *filter.KeywordExpr:
		switch e.Name {
		case "fault", "error", "throttle", "partial":
			return store.MatchTerm(store.FlagTerm(e.Name))
		case "message":
			return messageMatch
		}
	case *filter.Comparison:
		return planComparison(e)
	case *filter.RootCauseExpr:
		return store.MatchTerm(store.RootCauseTerm(e.Kind))
	case *filter.GroupExpr:
		if e.Op != filter.EQL || depth >= maxGroupDepth || s.eval.Groups == nil {
			return store.Match{}
		}
		name, arn := e.Value, ""
		if e.Name == "group.arn" {
			name, arn = "", e.Value
		}
		g, _, err := s.eval.Groups.ResolveGroup(name, arn)
		if err != nil || g == nil {
			return store.Match{} // the evaluator reports the error
		}
		return s.planExpr(g, depth+1)
	}
	return store.Match{}
}

var messageMatch = store.MatchAny(store.MatchTerm(store.RootCauseTerm("fault")), store.MatchTerm(store.RootCauseTerm("error")))

func planComparison(c *filter.Comparison) store.Match {
	l := c.Value
	switch x := c.X.(type) {
	case *filter.AnnotationExpr:
		if c.Op != filter.EQL {
			return store.Match{}
		}
		switch l.Kind {
		case filter.StringLit:
			return store.MatchTerm(store.AnnotationStringTerm(x.Key, l.Str))
		case filter.NumberLit:
			return store.MatchTerm(store.AnnotationNumberTerm(x.Key, l.Num))
		case filter.BoolLit:
			return store.MatchTerm(store.AnnotationBoolTerm(x.Key, l.Bool))
		}
	case *filter.KeywordExpr:
		switch x.Name {
		case "fault", "error", "throttle", "partial":
			if c.Op == filter.EQL && l.Kind == filter.BoolLit && l.Bool {
				return store.MatchTerm(store.FlagTerm(x.Name))
			}
		case "responsetime", "duration":
			if l.Kind == filter.NumberLit && (c.Op == filter.GTR || c.Op == filter.GEQ || c.Op == filter.EQL) {
				if t, ok := store.AtLeastTerm(x.Name, l.Num); ok {
					return store.MatchTerm(t)
				}
			}
		case "http.status":
			if l.Kind == filter.NumberLit && c.Op == filter.EQL && l.Num >= 0 && l.Num < 1000 && l.Num == float64(int(l.Num)) {
				if t, ok := store.StatusTerm(int(l.Num)); ok {
					return store.MatchTerm(t)
				}
			}
		case "message":
			// Every comparison, != included, needs a message, and messages
			// come from the exceptions of fault and error root causes.
			return messageMatch
		case "user":
			if l.Kind == filter.StringLit && c.Op == filter.EQL {
				return store.MatchTerm(store.UserTerm(l.Str))
			}
		}
	}
	return store.Match{}
}
