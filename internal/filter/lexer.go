package filter

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// lexer splits a filter expression into tokens on demand. It never fails
// outright: a lexical error becomes an ILLEGAL token whose Val is the message,
// and the parser turns that into an Error at the token's position.
type lexer struct {
	src string
	off int
}

func newLexer(src string) *lexer { return &lexer{src: src} }

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// next returns the next token; after the end of input it keeps returning EOF.
func (l *lexer) next() Token {
	for l.off < len(l.src) && isSpace(l.src[l.off]) {
		l.off++
	}
	start := l.off
	if start >= len(l.src) {
		return Token{Kind: EOF, Pos: Pos(start)}
	}
	c := l.src[start]
	switch {
	case isLetter(c):
		return l.word()
	case isDigit(c), c == '-':
		return l.number()
	case c == '"' || c == '\'':
		return l.quoted()
	case c == '#':
		return l.jsonArray()
	}
	l.off++
	kind := ILLEGAL
	switch c {
	case '=':
		kind = EQL
	case '!':
		kind = l.pair('=', NEQ, BANG)
	case '<':
		kind = l.pair('=', LEQ, LSS)
	case '>':
		kind = l.pair('=', GEQ, GTR)
	case '(':
		kind = LPAREN
	case ')':
		kind = RPAREN
	case '{':
		kind = LBRACE
	case '}':
		kind = RBRACE
	case ',':
		kind = COMMA
	case ':':
		kind = COLON
	}
	if kind == ILLEGAL {
		return l.illegal(start, "unexpected character "+quoteChar(l.src, start))
	}
	return Token{Kind: kind, Pos: Pos(start), Lit: l.src[start:l.off]}
}

// pair implements longest match for two-byte operators.
func (l *lexer) pair(second byte, long, short Kind) Kind {
	if l.off < len(l.src) && l.src[l.off] == second {
		l.off++
		return long
	}
	return short
}

func (l *lexer) illegal(start int, msg string) Token {
	if l.off <= start {
		l.off = start + 1
	}
	return Token{Kind: ILLEGAL, Pos: Pos(start), Lit: l.src[start:min(l.off, len(l.src))], Val: msg}
}

// quoteChar renders the (possibly multi-byte) character at i for a message.
func quoteChar(src string, i int) string {
	for _, r := range src[i:] {
		return "'" + string(r) + "'"
	}
	return "EOF"
}

func (l *lexer) segment() {
	for l.off < len(l.src) && (isLetter(l.src[l.off]) || isDigit(l.src[l.off])) {
		l.off++
	}
}

// word scans a dotted identifier, a word operator, or an annotation reference.
func (l *lexer) word() Token {
	start := l.off
	l.segment()
	first := l.src[start:l.off]
	if strings.EqualFold(first, "annotation") && l.off < len(l.src) && (l.src[l.off] == '.' || l.src[l.off] == '[') {
		return l.annotation(start)
	}
	for l.off+1 < len(l.src) && l.src[l.off] == '.' && isLetter(l.src[l.off+1]) {
		l.off++
		l.segment()
	}
	lit := l.src[start:l.off]
	if k, ok := wordOps[strings.ToLower(lit)]; ok {
		return Token{Kind: k, Pos: Pos(start), Lit: lit}
	}
	return Token{Kind: IDENT, Pos: Pos(start), Lit: lit}
}

// annotation scans the key after "annotation" (already consumed): ".KEY" with
// KEY in [A-Za-z0-9_]+, or "[KEY]" with KEY quoted or raw up to ']'.
func (l *lexer) annotation(start int) Token {
	if l.src[l.off] == '.' {
		l.off++
		keyStart := l.off
		l.segment()
		if l.off == keyStart {
			return l.illegal(start, "expected annotation key after 'annotation.'")
		}
		return Token{Kind: ANNOTATION, Pos: Pos(start), Lit: l.src[start:l.off], Val: l.src[keyStart:l.off]}
	}
	l.off++ // '['
	var key string
	if l.off < len(l.src) && (l.src[l.off] == '"' || l.src[l.off] == '\'') {
		s := l.quoted()
		if s.Kind == ILLEGAL {
			return s
		}
		key = s.Val
	} else {
		end := strings.IndexByte(l.src[l.off:], ']')
		if end < 0 {
			l.off = len(l.src)
			return l.illegal(start, "annotation key not terminated by ']'")
		}
		key = strings.TrimSpace(l.src[l.off : l.off+end])
		l.off += end
	}
	if l.off >= len(l.src) || l.src[l.off] != ']' {
		return l.illegal(start, "annotation key not terminated by ']'")
	}
	l.off++
	if key == "" {
		return l.illegal(start, "empty annotation key")
	}
	return Token{Kind: ANNOTATION, Pos: Pos(start), Lit: l.src[start:l.off], Val: key}
}

func (l *lexer) digits() int {
	n := 0
	for l.off < len(l.src) && isDigit(l.src[l.off]) {
		l.off++
		n++
	}
	return n
}

// number scans -?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (l *lexer) number() Token {
	start := l.off
	if l.src[l.off] == '-' {
		l.off++
	}
	if l.digits() == 0 {
		return l.illegal(start, "expected digit after '-'")
	}
	if l.off < len(l.src) && l.src[l.off] == '.' {
		l.off++
		if l.digits() == 0 {
			return l.illegal(start, "expected digit after decimal point")
		}
	}
	if l.off < len(l.src) && (l.src[l.off] == 'e' || l.src[l.off] == 'E') {
		l.off++
		if l.off < len(l.src) && (l.src[l.off] == '+' || l.src[l.off] == '-') {
			l.off++
		}
		if l.digits() == 0 {
			return l.illegal(start, "expected digit in exponent")
		}
	}
	// "5abc" is one malformed token, not a number followed by a word.
	if l.off < len(l.src) && (isLetter(l.src[l.off]) || l.src[l.off] == '.') {
		l.off++
		return l.illegal(start, "malformed number")
	}
	return Token{Kind: NUMBER, Pos: Pos(start), Lit: l.src[start:l.off]}
}

// quoted scans a string in double or single quotes. The escapes \" \' and \\
// are recognised in both; any other backslash sequence is an error so that
// every string has exactly one canonical spelling.
func (l *lexer) quoted() Token {
	start := l.off
	q := l.src[l.off]
	l.off++
	var b strings.Builder
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch c {
		case q:
			l.off++
			return Token{Kind: STRING, Pos: Pos(start), Lit: l.src[start:l.off], Val: b.String()}
		case '\\':
			if l.off+1 >= len(l.src) {
				l.off = len(l.src)
				return l.illegal(start, "string literal not terminated")
			}
			e := l.src[l.off+1]
			if e != '"' && e != '\'' && e != '\\' {
				esc := l.off
				l.off += 2
				r, _ := utf8.DecodeRuneInString(l.src[esc+1:])
				return l.illegal(esc, "unknown escape sequence \\"+string(r))
			}
			b.WriteByte(e)
			l.off += 2
		default:
			b.WriteByte(c)
			l.off++
		}
	}
	return l.illegal(start, "string literal not terminated")
}

// jsonArray scans #[ ... ] up to the matching ']' (brackets inside JSON
// strings do not count) and checks that the text is a valid JSON array.
func (l *lexer) jsonArray() Token {
	start := l.off
	if l.off+1 >= len(l.src) || l.src[l.off+1] != '[' {
		return l.illegal(start, "expected '[' after '#'")
	}
	l.off++
	depth, inStr := 0, false
	for ; l.off < len(l.src); l.off++ {
		c := l.src[l.off]
		if inStr {
			switch c {
			case '\\':
				l.off++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				l.off++
				text := l.src[start+1 : l.off]
				if c != ']' || !json.Valid([]byte(text)) {
					return l.illegal(start, "invalid JSON array")
				}
				return Token{Kind: JSON, Pos: Pos(start), Lit: l.src[start:l.off], Val: text}
			}
		}
	}
	l.off = len(l.src)
	return l.illegal(start, "JSON array not terminated")
}
