// Package filter parses the X-Ray filter expression language (spec §5) into a
// positioned AST that prints back to canonical syntax, and evaluates it
// against a Trace that the caller implements (eval.go). It imports only the
// standard library.
package filter

import (
	"strconv"
	"strings"
)

// Pos is a byte offset into the source expression, starting at 0.
type Pos int

// Kind is the kind of a lexical token.
type Kind int

// Token kinds.
const (
	ILLEGAL    Kind = iota // lexical error; Token.Val holds the message
	EOF                    // end of input
	IDENT                  // keyword or bare word, dotted: http.url
	ANNOTATION             // annotation.KEY or annotation[KEY]; Token.Val is the key
	STRING                 // "..." or '...'; Token.Val is the unquoted text
	NUMBER                 // -?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?
	JSON                   // #[ ... ]; Token.Val is the array text without '#'

	EQL    // =
	NEQ    // !=
	LSS    // <
	LEQ    // <=
	GTR    // >
	GEQ    // >=
	BANG   // !
	LPAREN // (
	RPAREN // )
	LBRACE // {
	RBRACE // }
	COMMA  // ,
	COLON  // :

	AND        // AND, case-insensitive
	OR         // OR, case-insensitive
	NOT        // NOT, case-insensitive (extension)
	CONTAINS   // CONTAINS, case-insensitive
	BEGINSWITH // BEGINSWITH, case-insensitive
	ENDSWITH   // ENDSWITH, case-insensitive
)

var kindNames = [...]string{
	ILLEGAL:    "ILLEGAL",
	EOF:        "EOF",
	IDENT:      "IDENT",
	ANNOTATION: "ANNOTATION",
	STRING:     "STRING",
	NUMBER:     "NUMBER",
	JSON:       "JSON",
	EQL:        "=",
	NEQ:        "!=",
	LSS:        "<",
	LEQ:        "<=",
	GTR:        ">",
	GEQ:        ">=",
	BANG:       "!",
	LPAREN:     "(",
	RPAREN:     ")",
	LBRACE:     "{",
	RBRACE:     "}",
	COMMA:      ",",
	COLON:      ":",
	AND:        "AND",
	OR:         "OR",
	NOT:        "NOT",
	CONTAINS:   "CONTAINS",
	BEGINSWITH: "BEGINSWITH",
	ENDSWITH:   "ENDSWITH",
}

// String returns the operator text for punctuation and word operators and an
// upper-case class name for the other kinds.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// IsComparison reports whether k is a comparison operator (comp_op).
func (k Kind) IsComparison() bool {
	switch k {
	case EQL, NEQ, LSS, LEQ, GTR, GEQ, CONTAINS, BEGINSWITH, ENDSWITH:
		return true
	}
	return false
}

// wordOps maps the lower-cased spelling of word operators to their kind.
var wordOps = map[string]Kind{
	"and":        AND,
	"or":         OR,
	"not":        NOT,
	"contains":   CONTAINS,
	"beginswith": BEGINSWITH,
	"endswith":   ENDSWITH,
}

// Token is one lexical token.
type Token struct {
	Kind Kind
	Pos  Pos    // offset of the first byte
	Lit  string // source text of the token
	Val  string // decoded value: string contents, annotation key, error message
}

// describe renders t for the "found Y" half of an error message.
func (t Token) describe() string {
	switch t.Kind {
	case EOF:
		return "EOF"
	case IDENT, NUMBER, STRING, ANNOTATION:
		return t.Lit
	case JSON:
		return "JSON array"
	case AND, OR, NOT, CONTAINS, BEGINSWITH, ENDSWITH:
		return strings.ToUpper(t.Lit)
	}
	return "'" + t.Lit + "'"
}
