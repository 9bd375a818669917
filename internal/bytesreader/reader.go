// Package bytesreader reads the compact binary values thaw stores:
// varints, length-prefixed strings and little-endian floats, keeping the
// first error so that a decoder reads a whole value and checks once.
package bytesreader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrTruncated is the error of a read past the end of the value or of a
// malformed varint.
var ErrTruncated = errors.New("value is truncated or corrupt")

// Reader reads from a byte slice. After the first error every read
// returns a zero value and Err reports that error.
type Reader struct {
	b   []byte
	err error
}

// New returns a Reader of b.
func New(b []byte) *Reader { return &Reader{b: b} }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records err as the reader's error unless one is already recorded,
// for checks that only the caller can make.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

// Finish returns the first error, or an error if bytes are left over.
func (r *Reader) Finish() error {
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return r.err
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.Fail(ErrTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.Fail(ErrTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Count reads a length and checks it against the bytes left, so a corrupt
// value cannot make the caller allocate or loop without bound.
func (r *Reader) Count() int {
	n := r.Uvarint()
	if n > uint64(len(r.b)) {
		r.Fail(ErrTruncated)
		return 0
	}
	return int(n)
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.b) < 1 {
		r.Fail(ErrTruncated)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Float64 reads a little-endian IEEE 754 float.
func (r *Reader) Float64() float64 {
	if len(r.b) < 8 {
		r.Fail(ErrTruncated)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

// String reads a length-prefixed string.
func (r *Reader) String() string {
	n := r.Count()
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
