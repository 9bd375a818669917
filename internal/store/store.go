// Package store is the storage contract: what the ingest pipeline writes and
// what the query service reads, independent of the backend. Backends live in
// subpackages (embedded on Pebble; ClickHouse later) and all pass the
// conformance suite in storetest.
//
// It imports segment and analyze/summary; never ingest, query or a backend.
package store

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/segment"
)

// ErrNotFound is returned when a trace is not in the store.
var ErrNotFound = errors.New("store: not found")

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("store: closed")

// Writer stores documents.
type Writer interface {
	// WriteDocuments stores docs durably: when it returns nil, the documents
	// survive a crash of the process (the write-ahead log is synced). Each
	// document is keyed by (trace id, id); a complete version replaces an
	// earlier complete one, and in-progress and complete versions are kept
	// apart so an in-progress resend never hides a completed document. The
	// traces written are summarized again shortly after (eventually
	// consistent; within about a second). Each document must carry its
	// decoded Entity, as segment.Decode returns it. The store does not
	// retain docs, but may keep their entities, which nobody may modify.
	WriteDocuments(ctx context.Context, docs []segment.Document) error
}

// Reader reads traces and summaries.
type Reader interface {
	// TraceDocuments returns every stored version of every document of the
	// trace, in (id, in-progress before complete) order, each decoded. The
	// caller owns the result. It returns ErrNotFound when the trace has no
	// document.
	TraceDocuments(ctx context.Context, id segment.TraceID) ([]segment.Document, error)

	// Summary returns the trace's current summary, or ErrNotFound when it
	// has none yet.
	Summary(ctx context.Context, id segment.TraceID) (summary.Summary, error)

	// Summaries yields the summaries matching q, newest first (see
	// SummaryQuery for the order), and stops at the end of the range or when
	// the consumer stops. An error ends the sequence.
	Summaries(ctx context.Context, q SummaryQuery) iter.Seq2[Hit, error]
}

// RangeType selects which time of a trace a SummaryQuery's range applies to
// (X-Ray's TimeRangeType).
type RangeType int

// Range types.
const (
	// ByTraceID matches traces whose trace-id epoch lies in the range.
	ByTraceID RangeType = iota
	// ByEvent matches traces with a segment starting or ending in the range.
	ByEvent
	// ByService matches traces with a segment ending in the range.
	ByService
	// ByActivity matches traces whose last activity (latest segment start
	// or end) lies in the range: each trace in exactly one of a series of
	// adjacent ranges, as per-period aggregates need.
	ByActivity
)

// SummaryQuery selects summaries by time.
type SummaryQuery struct {
	// Start is inclusive, End exclusive.
	Start, End time.Time
	Range      RangeType
	// After, when set, resumes a scan after the hit with this cursor (as
	// returned in Hit.Cursor).
	After []byte
	// Match, unless it admits everything, narrows the scan to the traces
	// whose terms it admits (see Terms). A backend yields those in the same
	// order, and with the same cursors, as the scan without it, so a page
	// token stays valid; it may yield others too (a backend without an
	// index ignores Match), so the caller still evaluates its filter.
	Match Match
}

// Hit is one summary yielded by Summaries.
type Hit struct {
	Summary summary.Summary
	// MatchedEventTime is the latest event time in range, for ByEvent and
	// ByService queries.
	MatchedEventTime float64
	// IndexTime is the time the hit was ordered by, in epoch seconds.
	IndexTime float64
	// Cursor resumes a scan right after this hit. Owned by the caller.
	Cursor []byte
}

// Store is a whole backend.
type Store interface {
	Writer
	Reader
	// Close flushes and releases the store. Safe to call twice.
	Close() error
}
