package embedded

import (
	"encoding/binary"
	"math"

	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
)

// Key layout (docs/store-format.md is the specification; keep them in step).
// Every key starts with a one-byte prefix naming its table.
const (
	prefixDoc     = 'd' // d | trace(16) | id(8) | state(1)          → version(1) | raw JSON
	prefixDirty   = 'x' // x | trace(16) | seq(8)                    → uvarint(documents written)
	prefixSummary = 's' // s | trace(16)                             → version(1) | summary JSON
	prefixEvent   = 'e' // e | last activity µs(8) | trace(16)       → empty
	prefixWritten = 'w' // w | summary write time s(4) | trace(16)  → empty
	prefixRollup  = 'r' // r | minute (4, epoch minutes)             → encoded graph rollup
	prefixByTrace = 'p' // p | uvarint(len) | term | trace(16)       → empty (postings in trace-id order)
	prefixByTime  = 'q' // q | uvarint(len) | term | activity µs(8) | trace(16) → empty (postings in activity order)
	prefixMeta    = 'm' // m | name                                  → value
)

// Document states, the last byte of a document key: an in-progress version
// sorts before the complete one, and neither overwrites the other.
const (
	stateInProgress = 0
	stateComplete   = 1
)

// FormatVersion is the version of the key layout and value encodings. It is
// written once at creation under m|format and checked at open.
const FormatVersion = 2

const valueVersion = 1

var metaFormatKey = []byte{prefixMeta, 'f', 'o', 'r', 'm', 'a', 't'}

// docKeyLen is the length of a document key.
const docKeyLen = 1 + 16 + 8 + 1

func docKey(dst []byte, tid segment.TraceID, id string, complete bool) []byte {
	t := tid.Bytes()
	i := segment.IDBytes(id)
	dst = append(dst, prefixDoc)
	dst = append(dst, t[:]...)
	dst = append(dst, i[:]...)
	if complete {
		return append(dst, stateComplete)
	}
	return append(dst, stateInProgress)
}

// tracePrefix returns prefix | trace(16).
func tracePrefix(prefix byte, tid segment.TraceID) []byte {
	t := tid.Bytes()
	return append([]byte{prefix}, t[:]...)
}

func dirtyKey(tid segment.TraceID, seq uint64) []byte {
	k := tracePrefix(prefixDirty, tid)
	return binary.BigEndian.AppendUint64(k, seq)
}

func summaryKey(tid segment.TraceID) []byte { return tracePrefix(prefixSummary, tid) }

func eventKey(micros uint64, tid segment.TraceID) []byte {
	k := binary.BigEndian.AppendUint64([]byte{prefixEvent}, micros)
	t := tid.Bytes()
	return append(k, t[:]...)
}

func writtenKey(sec uint32, tid segment.TraceID) []byte {
	k := binary.BigEndian.AppendUint32([]byte{prefixWritten}, sec)
	t := tid.Bytes()
	return append(k, t[:]...)
}

// epochBound is the summary-table key that starts trace-id epoch e.
func epochBound(e uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixSummary}, e)
}

func microsBound(m uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixEvent}, m)
}

func toMicros(sec float64) uint64 {
	if sec <= 0 {
		return 0
	}
	return uint64(math.Round(sec * 1e6))
}

func traceFromKey(k []byte, off int) segment.TraceID {
	var b [16]byte
	copy(b[:], k[off:off+16])
	return segment.TraceIDFromBytes(b)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// rollupKey is the key of the graph rollup of an epoch minute.
func rollupKey(minute uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixRollup}, minute)
}

// minuteOf is the epoch minute of a time in microseconds.
func minuteOf(micros uint64) uint32 { return uint32(micros / 60e6) }

// termPrefix is the key prefix of a term's postings in table p or q.
func termPrefix(dst []byte, table byte, t store.Term) []byte {
	dst = append(dst, table)
	dst = binary.AppendUvarint(dst, uint64(len(t)))
	return append(dst, t...)
}

// postingByTrace is a term's posting in trace-id order.
func postingByTrace(t store.Term, tid segment.TraceID) []byte {
	k := termPrefix(nil, prefixByTrace, t)
	b := tid.Bytes()
	return append(k, b[:]...)
}

// postingByTime is a term's posting in activity order.
func postingByTime(t store.Term, micros uint64, tid segment.TraceID) []byte {
	k := binary.BigEndian.AppendUint64(termPrefix(nil, prefixByTime, t), micros)
	b := tid.Bytes()
	return append(k, b[:]...)
}
