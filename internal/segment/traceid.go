package segment

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// TraceID is a version-1 X-Ray trace id in canonical lower-case form,
// "1-<8 hex epoch>-<24 hex random>".
type TraceID string

// ErrTraceID reports a trace id that is not of the form 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx.
var ErrTraceID = errors.New("segment: invalid trace id")

// ParseTraceID validates s and returns it in canonical (lower-case) form. Any
// epoch is accepted: X-Ray ids built from W3C ids carry random "epochs".
func ParseTraceID(s string) (TraceID, error) {
	if len(s) != 35 || s[0] != '1' || s[1] != '-' || s[10] != '-' {
		return "", fmt.Errorf("%w: %q", ErrTraceID, s)
	}
	upper := false
	for i := 2; i < 35; i++ {
		if i == 10 {
			continue
		}
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return "", fmt.Errorf("%w: %q", ErrTraceID, s)
		}
	}
	if !upper {
		return TraceID(s), nil // already canonical: no copy on the ingest path
	}
	return TraceID(lowerHex(s)), nil
}

// lowerHex returns s, known to hold only hex digits and dashes, in lower case.
func lowerHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// Epoch returns the epoch seconds encoded in the id.
func (t TraceID) Epoch() int64 {
	if len(t) != 35 {
		return 0
	}
	v, err := strconv.ParseUint(string(t[2:10]), 16, 32)
	if err != nil {
		return 0
	}
	return int64(v)
}

// Bytes returns the 16 bytes the id encodes: 4 of epoch, then 12 random. The
// result sorts like the id itself, which the store's key layout relies on.
func (t TraceID) Bytes() [16]byte {
	var out [16]byte
	if len(t) != 35 {
		return out
	}
	_, _ = hex.Decode(out[:4], []byte(t[2:10]))
	_, _ = hex.Decode(out[4:], []byte(t[11:35]))
	return out
}

// TraceIDFromBytes is the inverse of [TraceID.Bytes].
func TraceIDFromBytes(b [16]byte) TraceID {
	buf := make([]byte, 35)
	buf[0], buf[1], buf[10] = '1', '-', '-'
	hex.Encode(buf[2:10], b[:4])
	hex.Encode(buf[11:], b[4:])
	return TraceID(buf)
}

// ParseID validates a 16-hex segment, subsegment or exception id and returns
// it in lower case.
func ParseID(s string) (string, bool) {
	if len(s) != 16 {
		return "", false
	}
	upper := false
	for i := range len(s) {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return "", false
		}
	}
	if !upper {
		return s, true // already lower case: no copy on the ingest path
	}
	return lowerHex(s), true
}

// IDBytes returns the 8 bytes a valid 16-hex id encodes.
func IDBytes(id string) [8]byte {
	var out [8]byte
	_, _ = hex.Decode(out[:], []byte(id))
	return out
}
