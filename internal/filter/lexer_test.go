package filter

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tok is a compact token for table tests: kind, literal and decoded value.
type tok struct {
	Kind Kind
	Pos  Pos
	Lit  string
	Val  string
}

func lexAll(src string) []tok {
	l := newLexer(src)
	var out []tok
	for {
		t := l.next()
		out = append(out, tok(t))
		if t.Kind == EOF || t.Kind == ILLEGAL {
			return out
		}
	}
}

func TestLexer(t *testing.T) {
	t.Parallel()
	eof := func(p Pos) tok { return tok{Kind: EOF, Pos: p} }
	tests := []struct {
		src  string
		want []tok
	}{
		{"", []tok{eof(0)}},
		{" \t\r\n", []tok{eof(4)}},
		{"responsetime > 5", []tok{{IDENT, 0, "responsetime", ""}, {GTR, 13, ">", ""}, {NUMBER, 15, "5", ""}, eof(16)}},
		{"http.url", []tok{{IDENT, 0, "http.url", ""}, eof(8)}},
		{"a.b.c_d.e1", []tok{{IDENT, 0, "a.b.c_d.e1", ""}, eof(10)}},
		{"= != < <= > >= ! ( ) { } , :", []tok{
			{EQL, 0, "=", ""}, {NEQ, 2, "!=", ""}, {LSS, 5, "<", ""}, {LEQ, 7, "<=", ""},
			{GTR, 10, ">", ""}, {GEQ, 12, ">=", ""}, {BANG, 15, "!", ""}, {LPAREN, 17, "(", ""},
			{RPAREN, 19, ")", ""}, {LBRACE, 21, "{", ""}, {RBRACE, 23, "}", ""}, {COMMA, 25, ",", ""},
			{COLON, 27, ":", ""}, eof(28),
		}},
		{"!ok", []tok{{BANG, 0, "!", ""}, {IDENT, 1, "ok", ""}, eof(3)}},
		{"a<=b", []tok{{IDENT, 0, "a", ""}, {LEQ, 1, "<=", ""}, {IDENT, 3, "b", ""}, eof(4)}},
		{"and Or NOT contains BeginsWith ENDSWITH", []tok{
			{AND, 0, "and", ""}, {OR, 4, "Or", ""}, {NOT, 7, "NOT", ""}, {CONTAINS, 11, "contains", ""},
			{BEGINSWITH, 20, "BeginsWith", ""}, {ENDSWITH, 31, "ENDSWITH", ""}, eof(39),
		}},
		{"android", []tok{{IDENT, 0, "android", ""}, eof(7)}},
		{"true False", []tok{{IDENT, 0, "true", ""}, {IDENT, 5, "False", ""}, eof(10)}},
		{"0 42 -7 3.25 -0.5 1e3 2E-4 6.02e+23", []tok{
			{NUMBER, 0, "0", ""}, {NUMBER, 2, "42", ""}, {NUMBER, 5, "-7", ""}, {NUMBER, 8, "3.25", ""},
			{NUMBER, 13, "-0.5", ""}, {NUMBER, 18, "1e3", ""}, {NUMBER, 22, "2E-4", ""}, {NUMBER, 27, "6.02e+23", ""}, eof(35),
		}},
		{`"a b"`, []tok{{STRING, 0, `"a b"`, "a b"}, eof(5)}},
		{`""`, []tok{{STRING, 0, `""`, ""}, eof(2)}},
		{`'single'`, []tok{{STRING, 0, `'single'`, "single"}, eof(8)}},
		{`"q\"b\\s\'"`, []tok{{STRING, 0, `"q\"b\\s\'"`, `q"b\s'`}, eof(11)}},
		{`'it\'s "x"'`, []tok{{STRING, 0, `'it\'s "x"'`, `it's "x"`}, eof(11)}},
		{`"héllo"`, []tok{{STRING, 0, `"héllo"`, "héllo"}, eof(8)}},
		{"annotation.gameid", []tok{{ANNOTATION, 0, "annotation.gameid", "gameid"}, eof(17)}},
		{"annotation.9lives", []tok{{ANNOTATION, 0, "annotation.9lives", "9lives"}, eof(17)}},
		{"Annotation.Key", []tok{{ANNOTATION, 0, "Annotation.Key", "Key"}, eof(14)}},
		{"annotation[aws:api_stage]", []tok{{ANNOTATION, 0, "annotation[aws:api_stage]", "aws:api_stage"}, eof(25)}},
		{`annotation["a.b]c"]`, []tok{{ANNOTATION, 0, `annotation["a.b]c"]`, "a.b]c"}, eof(19)}},
		{"annotation", []tok{{IDENT, 0, "annotation", ""}, eof(10)}},
		{"annotations.x", []tok{{IDENT, 0, "annotations.x", ""}, eof(13)}},
		{`#[{"a":[1,"]"]}]`, []tok{{JSON, 0, `#[{"a":[1,"]"]}]`, `[{"a":[1,"]"]}]`}, eof(16)}},
		{"service(id(name: \"x\"))", []tok{
			{IDENT, 0, "service", ""}, {LPAREN, 7, "(", ""}, {IDENT, 8, "id", ""}, {LPAREN, 10, "(", ""},
			{IDENT, 11, "name", ""}, {COLON, 15, ":", ""}, {STRING, 17, `"x"`, "x"}, {RPAREN, 20, ")", ""},
			{RPAREN, 21, ")", ""}, eof(22),
		}},

		// Errors stop the scan at an ILLEGAL token carrying the message.
		{`"abc`, []tok{{ILLEGAL, 0, `"abc`, "string literal not terminated"}}},
		{`"abc\`, []tok{{ILLEGAL, 0, `"abc\`, "string literal not terminated"}}},
		{`"a\nb"`, []tok{{ILLEGAL, 2, `\n`, `unknown escape sequence \n`}}},
		{"-", []tok{{ILLEGAL, 0, "-", "expected digit after '-'"}}},
		{"-x", []tok{{ILLEGAL, 0, "-", "expected digit after '-'"}}},
		{"5.", []tok{{ILLEGAL, 0, "5.", "expected digit after decimal point"}}},
		{"1e", []tok{{ILLEGAL, 0, "1e", "expected digit in exponent"}}},
		{"5abc", []tok{{ILLEGAL, 0, "5a", "malformed number"}}},
		{"1.2.3", []tok{{ILLEGAL, 0, "1.2.", "malformed number"}}},
		{"a & b", []tok{{IDENT, 0, "a", ""}, {ILLEGAL, 2, "&", "unexpected character '&'"}}},
		{"ü", []tok{{ILLEGAL, 0, "\xc3", "unexpected character 'ü'"}}},
		{"annotation.", []tok{{ILLEGAL, 0, "annotation.", "expected annotation key after 'annotation.'"}}},
		{"annotation[abc", []tok{{ILLEGAL, 0, "annotation[abc", "annotation key not terminated by ']'"}}},
		{"annotation[]", []tok{{ILLEGAL, 0, "annotation[]", "empty annotation key"}}},
		{`annotation["k" ]`, []tok{{ILLEGAL, 0, `annotation["k"`, "annotation key not terminated by ']'"}}},
		{"#", []tok{{ILLEGAL, 0, "#", "expected '[' after '#'"}}},
		{"#[1,", []tok{{ILLEGAL, 0, "#[1,", "JSON array not terminated"}}},
		{"#[1,]", []tok{{ILLEGAL, 0, "#[1,]", "invalid JSON array"}}},
		{"#[{]}", []tok{{ILLEGAL, 0, "#[{]}", "invalid JSON array"}}},
		{"#[{]", []tok{{ILLEGAL, 0, "#[{]", "JSON array not terminated"}}},
	}
	for _, tt := range tests {
		got := lexAll(tt.src)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("lex %q: tokens (-want +got):\n%s", tt.src, diff)
		}
	}
}
