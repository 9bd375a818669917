package bytesreader_test

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/thawtrace/thaw/internal/bytesreader"
)

func TestReader(t *testing.T) {
	t.Parallel()
	var b []byte
	b = binary.AppendUvarint(b, 300)
	b = binary.AppendVarint(b, -7)
	b = append(b, 9)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(1.5))
	b = append(binary.AppendUvarint(b, 3), "abc"...)
	r := bytesreader.New(b)
	if u, v, c, f, s := r.Uvarint(), r.Varint(), r.Byte(), r.Float64(), r.String(); u != 300 || v != -7 || c != 9 || f != 1.5 || s != "abc" {
		t.Errorf("read %d, %d, %d, %v, %q; want 300, -7, 9, 1.5, \"abc\"", u, v, c, f, s)
	}
	if err := r.Finish(); err != nil {
		t.Errorf("Finish: %v", err)
	}
}

func TestReaderErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		b    []byte
		read func(*bytesreader.Reader)
	}{
		{"empty varint", nil, func(r *bytesreader.Reader) { r.Uvarint() }},
		{"short float", []byte{1, 2, 3}, func(r *bytesreader.Reader) { r.Float64() }},
		{"string longer than the value", []byte{5, 'a'}, func(r *bytesreader.Reader) { _ = r.String() }},
		{"huge count", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, func(r *bytesreader.Reader) { r.Count() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bytesreader.New(tc.b)
			tc.read(r)
			if !errors.Is(r.Err(), bytesreader.ErrTruncated) {
				t.Errorf("Err = %v, want ErrTruncated", r.Err())
			}
			if r.Byte() != 0 || r.String() != "" {
				t.Error("reads after an error returned data")
			}
		})
	}
	r := bytesreader.New([]byte{1, 2})
	r.Byte()
	if err := r.Finish(); err == nil {
		t.Error("Finish with a byte left over returned nil")
	}
	r = bytesreader.New([]byte{1})
	custom := errors.New("custom")
	r.Fail(custom)
	r.Fail(bytesreader.ErrTruncated)
	if !errors.Is(r.Err(), custom) {
		t.Errorf("Err = %v, want the first error recorded", r.Err())
	}
}
