package segment

import (
	"encoding/binary"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth is how deeply objects and arrays may nest, the limit
// encoding/json enforces. Deeper input is rejected as invalid JSON.
const maxJSONDepth = 10000

// syntaxError is the first JSON syntax error in a document.
type syntaxError struct {
	off int // byte offset of the offending character, or len(input) at the end
	msg string
}

func (e *syntaxError) Error() string {
	return "not valid JSON at byte " + strconv.Itoa(e.off) + ": " + e.msg
}

// scanner reads JSON over a byte slice one piece at a time, checking the full
// grammar as it goes: string escapes, numbers, literals, nesting depth and
// what may follow each value. It is the tokenizer under the entity decoder;
// values the decoder has no use for are skipped, yet still checked.
//
// The input must be valid UTF-8 (Decode checks that first): the scanner
// copies string bytes other than escapes through unchanged.
//
// The first error is kept in err. The scanner then jumps to the end of the
// input, so every later read fails at once and loops over members and
// elements end; callers check err once, when they are done.
type scanner struct {
	data  []byte
	pos   int
	depth int
	err   *syntaxError
	buf   []byte // unescaped string contents; reused, so valid until the next string
}

func (s *scanner) reset(data []byte) {
	s.data, s.pos, s.depth, s.err = data, 0, 0, nil
}

// fail records a syntax error at the current position (the first one wins)
// and moves to the end of the input.
func (s *scanner) fail(msg string) {
	if s.err == nil {
		s.err = &syntaxError{off: s.pos, msg: msg}
	}
	s.pos = len(s.data)
}

// unexpected fails on the byte at s.pos, saying where it was found, in
// encoding/json's words.
func (s *scanner) unexpected(context string) {
	if s.pos >= len(s.data) {
		s.fail("unexpected end of JSON input")
		return
	}
	s.fail("invalid character " + quoteChar(s.data[s.pos]) + " " + context)
}

func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	q := strconv.QuoteRune(rune(c))
	return "'" + q[1:len(q)-1] + "'"
}

// ws skips white space and returns the next byte without consuming it, or 0
// at the end of the input.
func (s *scanner) ws() byte {
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return c
		}
		s.pos++
	}
	return 0
}

// end checks that nothing but white space follows the top-level value.
func (s *scanner) end() {
	if s.ws(); s.pos < len(s.data) {
		s.unexpected("after top-level value")
	}
}

// enter consumes the '{' or '[' at s.pos, one level deeper.
func (s *scanner) enter() {
	s.pos++
	if s.depth++; s.depth > maxJSONDepth {
		s.pos--
		s.fail("exceeded max depth")
	}
}

// key reads the i-th key of the object entered last, with the ':' after it,
// and returns the key unescaped (valid until the next string is read). It
// returns false after the closing '}', and on error.
func (s *scanner) key(i int) ([]byte, bool) {
	c := s.ws()
	if c == '}' {
		s.pos++
		s.depth--
		return nil, false
	}
	if i > 0 {
		if c != ',' {
			s.unexpected("after object key:value pair")
			return nil, false
		}
		s.pos++
		c = s.ws()
	}
	if c != '"' {
		s.unexpected("looking for beginning of object key string")
		return nil, false
	}
	k := s.str()
	if s.ws() != ':' {
		s.unexpected("after object key")
		return nil, false
	}
	s.pos++
	return k, s.err == nil
}

// elem moves to the i-th element of the array entered last. It returns false
// after the closing ']', and on error.
func (s *scanner) elem(i int) bool {
	c := s.ws()
	if i == 0 {
		if c == ']' {
			s.pos++
			s.depth--
			return false
		}
		return s.err == nil
	}
	switch c {
	case ']':
		s.pos++
		s.depth--
		return false
	case ',':
		s.pos++
		return s.err == nil
	}
	s.unexpected("after array element")
	return false
}

// strPlain marks the bytes a string may hold without further thought: not
// the closing quote, not a backslash, not a control character.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads the string at s.pos and returns its contents, unescaped: a
// subslice of the input when there is nothing to unescape, else s.buf.
func (s *scanner) str() []byte {
	data := s.data
	start := s.pos + 1
	i := start
	// Eight bytes at a time while none of them needs a look: no quote,
	// backslash or control character (bytes ≥ 0x80 are plain).
	for i+8 <= len(data) {
		w := binary.LittleEndian.Uint64(data[i:])
		if hasZero(w^(lsb*'"'))|hasZero(w^(lsb*'\\'))|hasLess(w, 0x20) != 0 {
			break
		}
		i += 8
	}
	for i < len(data) && strPlain[data[i]] {
		i++
	}
	if i < len(data) && data[i] == '"' {
		s.pos = i + 1
		return data[start:i]
	}
	return s.strSlow(start, i)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasZero is non-zero if a byte of w is zero.
func hasZero(w uint64) uint64 { return (w - lsb) &^ w & msb }

// hasLess is non-zero if a byte of w is less than n (n ≤ 128).
func hasLess(w uint64, n byte) uint64 { return (w - lsb*uint64(n)) &^ w & msb }

// strSlow continues str from data[i], the first byte that is not plain.
func (s *scanner) strSlow(start, i int) []byte {
	data := s.data
	buf := append(s.buf[:0], data[start:i]...)
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			s.buf = buf
			return buf
		case c < 0x20:
			s.pos = i
			s.unexpected("in string literal")
			return nil
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(data) {
			break
		}
		switch e := data[i+1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, n := hex4(data[i+2:])
			if n < 4 {
				s.pos = i + 2 + n
				s.unexpected(`in \u hexadecimal character escape`)
				return nil
			}
			i += 6
			if utf16.IsSurrogate(r) {
				// As encoding/json: a valid pair makes one rune; a lone
				// surrogate becomes U+FFFD.
				if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
					if r2, n := hex4(data[i+2:]); n == 4 {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default:
			s.pos = i + 1
			s.unexpected("in string escape code")
			return nil
		}
		i += 2
	}
	s.buf = buf
	s.pos = len(data)
	s.unexpected("in string literal")
	return nil
}

// hex4 decodes up to four hex digits at the start of b and returns the
// value and how many digits there were.
func hex4(b []byte) (rune, int) {
	var r rune
	for n := range 4 {
		if n >= len(b) {
			return r, n
		}
		c := b[n]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return r, n
		}
		r = r<<4 | rune(c)
	}
	return r, 4
}

// strRaw reads the string at s.pos without unescaping it and returns it
// with its quotes, as written.
func (s *scanner) strRaw() []byte {
	start := s.pos
	s.str()
	if s.err != nil {
		return nil
	}
	return s.data[start:s.pos]
}

// number reads the number at s.pos and returns its text. The grammar is
// JSON's: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() []byte {
	data := s.data
	start, i := s.pos, s.pos
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i++
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		s.pos = i
		if i == start {
			s.unexpected("looking for beginning of value")
		} else {
			s.unexpected("in numeric literal")
		}
		return nil
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			s.pos = i
			s.unexpected("after decimal point in numeric literal")
			return nil
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			s.pos = i
			s.unexpected("in exponent of numeric literal")
			return nil
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	s.pos = i
	return data[start:i]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// literal reads the literal lit (true, false or null) at s.pos.
func (s *scanner) literal(lit string) bool {
	data := s.data
	for i := range len(lit) {
		if s.pos+i >= len(data) || data[s.pos+i] != lit[i] {
			s.pos += i
			s.unexpected("in literal " + lit + " (expecting " + quoteChar(lit[i]) + ")")
			return false
		}
	}
	s.pos += len(lit)
	return true
}

// skip reads the value at s.pos, whatever it is, and discards it.
func (s *scanner) skip() {
	switch s.ws() {
	case '{':
		s.enter()
		for i := 0; ; i++ {
			if _, ok := s.key(i); !ok {
				return
			}
			s.skip()
		}
	case '[':
		s.enter()
		for i := 0; s.elem(i); i++ {
			s.skip()
		}
	case '"':
		s.str()
	case 't':
		s.literal("true")
	case 'f':
		s.literal("false")
	case 'n':
		s.literal("null")
	default:
		s.number()
	}
}

// kind names the JSON type of the value at s.pos as encoding/json's type
// errors do.
func (s *scanner) kind() string {
	switch s.ws() {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}
