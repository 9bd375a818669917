package xrayapi

import (
	"encoding/json"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// errNotFastPath means decodePutBody's fast path does not apply.
var errNotFastPath = errors.New("not the common PutTraceSegments shape")

// decodePutBody reads a PutTraceSegments body into raw documents. The body
// is almost always {"TraceSegmentDocuments":["...", ...]}, and on a busy
// collector decoding it was a tenth of the CPU: this reads that shape
// directly, unescaping each string once into its own []byte. Anything else
// (other members, nulls, odd escapes) goes through encoding/json, whose
// answer is the reference.
func decodePutBody(body []byte) ([][]byte, error) {
	if docs, err := fastPutBody(body); err == nil {
		return docs, nil
	}
	var in PutTraceSegmentsInput
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	docs := make([][]byte, len(in.TraceSegmentDocuments))
	for i, d := range in.TraceSegmentDocuments {
		docs[i] = []byte(d)
	}
	return docs, nil
}

func fastPutBody(b []byte) ([][]byte, error) {
	i := skipSpace(b, 0)
	const key = `"TraceSegmentDocuments"`
	if i >= len(b) || b[i] != '{' {
		return nil, errNotFastPath
	}
	i = skipSpace(b, i+1)
	if len(b)-i < len(key) || string(b[i:i+len(key)]) != key {
		return nil, errNotFastPath
	}
	i = skipSpace(b, i+len(key))
	if i >= len(b) || b[i] != ':' {
		return nil, errNotFastPath
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '[' {
		return nil, errNotFastPath
	}
	i = skipSpace(b, i+1)
	var docs [][]byte
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			doc, next, err := unquote(b, i)
			if err != nil {
				return nil, err
			}
			docs = append(docs, doc)
			i = skipSpace(b, next)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				i++
				break
			}
			return nil, errNotFastPath
		}
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '}' || skipSpace(b, i+1) != len(b) {
		return nil, errNotFastPath
	}
	return docs, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// unquote decodes the JSON string starting at b[i] (the opening quote) and
// returns it with the index after the closing quote. Invalid UTF-8 and the
// rarer escapes are left to encoding/json, so that both paths agree on what
// they produce.
func unquote(b []byte, i int) ([]byte, int, error) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, errNotFastPath
	}
	i++
	// Size the output by the distance to the closing quote.
	end := i
	for end < len(b) && b[end] != '"' {
		if b[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(b) {
		return nil, 0, errNotFastPath
	}
	out := make([]byte, 0, end-i)
	for i < end {
		c := b[i]
		switch {
		case c == '\\':
			if i+1 >= end {
				return nil, 0, errNotFastPath
			}
			switch b[i+1] {
			case '"', '\\', '/':
				out = append(out, b[i+1])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, n := unicodeEscape(b[i:end])
				if n == 0 {
					return nil, 0, errNotFastPath
				}
				out = utf8.AppendRune(out, r)
				i += n
				continue
			default:
				return nil, 0, errNotFastPath
			}
			i += 2
		case c < 0x20:
			return nil, 0, errNotFastPath // control characters must be escaped
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(b[i:end])
			if r == utf8.RuneError && n == 1 {
				return nil, 0, errNotFastPath
			}
			out = append(out, b[i:i+n]...)
			i += n
		}
	}
	return out, end + 1, nil
}

// unicodeEscape decodes \uXXXX, or a surrogate pair of two, at the start of
// b; n is the bytes used, 0 when it is not one encoding/json would decode to
// the same rune.
func unicodeEscape(b []byte) (r rune, n int) {
	hex4 := func(p []byte) (rune, bool) {
		if len(p) < 6 || p[0] != '\\' || p[1] != 'u' {
			return 0, false
		}
		var v rune
		for _, c := range p[2:6] {
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | rune(c-'0')
			case c >= 'a' && c <= 'f':
				v = v<<4 | rune(c-'a'+10)
			case c >= 'A' && c <= 'F':
				v = v<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return v, true
	}
	r1, ok := hex4(b)
	if !ok {
		return 0, 0
	}
	if !utf16.IsSurrogate(r1) {
		return r1, 6
	}
	r2, ok := hex4(b[6:])
	if !ok {
		return 0, 0 // a lone surrogate: encoding/json's replacement rules apply
	}
	dec := utf16.DecodeRune(r1, r2)
	if dec == utf8.RuneError {
		return 0, 0
	}
	return dec, 12
}
