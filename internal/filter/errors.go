package filter

import (
	"fmt"
	"strings"
)

// Error is one parse error at a position in the expression.
type Error struct {
	Pos Pos    // byte offset of the offending token
	Msg string // e.g. "expected ')', found EOF"
}

// Error formats the error as "col N: MSG" with N the 1-based byte column.
func (e *Error) Error() string { return fmt.Sprintf("col %d: %s", int(e.Pos)+1, e.Msg) }

// ErrorList is the error type returned by Parse. It is never empty when
// returned as an error.
type ErrorList []*Error

// Error returns the first error and a count of the rest.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (and %d more errors)", l[0].Error(), len(l)-1)
	return b.String()
}

// Unwrap returns the individual errors for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}
