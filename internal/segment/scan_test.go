package segment

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// scanValid reports whether the scanner takes in as one JSON value.
func scanValid(in []byte) (bool, *syntaxError) {
	var s scanner
	s.reset(in)
	s.skip()
	s.end()
	return s.err == nil, s.err
}

// scanString unescapes the JSON string in, as the decoder does.
func scanString(in []byte) (string, bool) {
	var s scanner
	s.reset(in)
	if s.ws() != '"' {
		return "", false
	}
	out := string(s.str())
	s.end()
	return out, s.err == nil
}

func TestScannerValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{` { "a" : [ 1 , -2.5e+3 , true , false , null , "x" , { } , [ ] ] } `, true},
		{`"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"`, true},
		{`0`, true},
		{`-0.0E-0`, true},
		{``, false},
		{`   `, false},
		{`{`, false},
		{`{"a"}`, false},
		{`{"a":}`, false},
		{`{"a":1,}`, false},
		{`{,"a":1}`, false},
		{`{"a":1 "b":2}`, false},
		{`{1:2}`, false},
		{`[1,]`, false},
		{`[,1]`, false},
		{`[1 2]`, false},
		{`]`, false},
		{`01`, false},
		{`1.`, false},
		{`.5`, false},
		{`1e`, false},
		{`1e+`, false},
		{`+1`, false},
		{`-`, false},
		{`Infinity`, false},
		{`NaN`, false},
		{`tru`, false},
		{`nul`, false},
		{`truex`, false},
		{`"a`, false},
		{`"\`, false},
		{`"\x"`, false},
		{`"\u12"`, false},
		{`"\u12G4"`, false},
		{"\"a\tb\"", false},
		{"\"a\x00b\"", false},
		{"1 2", false},
		{"{}\x00", false},
		{"{}\v", false},
		{"\ufeff{}", false},
		{strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), true},
		{strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), false},
		{strings.Repeat(`{"a":`, maxJSONDepth) + "1" + strings.Repeat("}", maxJSONDepth), true},
		{strings.Repeat(`{"a":`, maxJSONDepth+1) + "1" + strings.Repeat("}", maxJSONDepth+1), false},
	}
	for _, tt := range tests {
		got, err := scanValid([]byte(tt.in))
		if got != tt.want {
			t.Errorf("scan(%s) valid = %t (%v); want %t", abbreviate([]byte(tt.in)), got, err, tt.want)
		}
		if std := json.Valid([]byte(tt.in)); std != tt.want {
			t.Errorf("json.Valid(%s) = %t; the table says %t", abbreviate([]byte(tt.in)), std, tt.want)
		}
	}
}

func TestScannerString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`""`, ""},
		{`"plain ascii, long enough for the eight-byte loop"`, "plain ascii, long enough for the eight-byte loop"},
		{`"caf\u00e9 café"`, "café café"},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{`"\uD83D\uDE00"`, "😀"},
		{`"\ud83d"`, "\uFFFD"},
		{`"\ude00\ud83d"`, "\uFFFD\uFFFD"},
		{`"\ud83d\u0041"`, "\uFFFDA"},
		{`"\ud83dx"`, "\uFFFDx"},
		{`"0123456\"89"`, `0123456"89`},
	}
	for _, tt := range tests {
		got, ok := scanString([]byte(tt.in))
		if !ok || got != tt.want {
			t.Errorf("scan string %s = %q, %t; want %q", tt.in, got, ok, tt.want)
		}
	}
}

// FuzzScanner holds the scanner to encoding/json on arbitrary bytes: the
// same inputs are valid JSON, and strings unescape the same.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e+3,true,null,"x\u00e9"]}`, `"\ud83d\ude00\ud83d"`, `"\"\\\/\b\f\n\r\t"`, `[01]`, `1e5`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := scanValid(in)
		if want := json.Valid(in); got != want {
			t.Fatalf("scan(%q) valid = %t (%v); json.Valid = %t", in, got, err, want)
		}
		if !got || !utf8.Valid(in) {
			return // the scanner passes invalid UTF-8 through; Decode rejects it first
		}
		var want string
		if trimmed := strings.TrimLeft(string(in), " \t\r\n"); !strings.HasPrefix(trimmed, `"`) || json.Unmarshal(in, &want) != nil {
			return // not a string (null, too, unmarshals into one)
		}
		if s, ok := scanString(in); !ok || s != want {
			t.Fatalf("scan string %q = %q, %t; encoding/json gives %q", in, s, ok, want)
		}
	})
}
