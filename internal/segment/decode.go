package segment

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrorCode is the reason a document is rejected, as returned in
// PutTraceSegments' UnprocessedTraceSegments (spec/xray.md §2.12).
type ErrorCode string

// Error codes. The first five are the ones AWS is known to use; the others
// are thaw's names for cases whose AWS code is unknown.
const (
	CodeMissingID        ErrorCode = "MissingId"
	CodeInvalidTraceID   ErrorCode = "InvalidTraceId"
	CodeInvalidName      ErrorCode = "InvalidName"
	CodeMissingEndTime   ErrorCode = "MissingEndTime"
	CodeInvalidSegment   ErrorCode = "InvalidSegment"
	CodeInvalidID        ErrorCode = "InvalidId"
	CodeMissingStartTime ErrorCode = "MissingStartTime"
	CodeMissingParentID  ErrorCode = "MissingParentId"
	CodeInvalidJSON      ErrorCode = "InvalidJSON"
	CodeInvalidUTF8      ErrorCode = "InvalidUTF8"
	CodeTooLarge         ErrorCode = "SegmentTooLarge"
	CodeEmpty            ErrorCode = "EmptyDocument"
)

// Codes lists every error code, for counters that must exist before the first
// rejection.
var Codes = []ErrorCode{
	CodeMissingID, CodeInvalidTraceID, CodeInvalidName, CodeMissingEndTime,
	CodeInvalidSegment, CodeInvalidID, CodeMissingStartTime, CodeMissingParentID,
	CodeInvalidJSON, CodeInvalidUTF8, CodeTooLarge, CodeEmpty,
}

// Error is a rejected document: its code, the document's top-level id and
// trace id when they could be read (§2.12), whether the document is a
// subsegment, and a reason a person can act on, which names the embedded
// subsegment at fault if there is one.
type Error struct {
	Code       ErrorCode
	ID         string
	TraceID    string
	Subsegment bool
	Reason     string
}

// Error formats the message X-Ray returns, with thaw's reason as the cause.
func (e *Error) Error() string {
	kind := "segment"
	if e.Subsegment {
		kind = "subsegment"
	}
	return fmt.Sprintf("Invalid %s. ErrorCode: %s, Cause: %s", kind, e.Code, e.Reason)
}

// DefaultMaxDocumentSize is X-Ray's 64 KB document limit.
const DefaultMaxDocumentSize = 64 * 1024

// MaxEpochSeconds bounds start_time and end_time: 1e11 seconds is the year
// 5138, past any real timestamp and the synthetic ones in the spec's samples,
// and below milliseconds since the epoch (1.7e12), the usual mistake.
// Absurd values would overflow durations to infinities JSON cannot carry.
const MaxEpochSeconds = 1e11

// MaxNameLength is the longest name X-Ray accepts.
const MaxNameLength = 200

// Document is one accepted segment or independent subsegment: the fields the
// store keys and indexes it by, its parsed entity, and its original bytes,
// which are what the read API returns.
type Document struct {
	TraceID    TraceID
	ID         string
	ParentID   string
	Subsegment bool
	InProgress bool
	StartTime  float64
	EndTime    float64
	// Raw is the document's JSON exactly as the client sent it (for an array
	// of subsegments, the element's bytes). Owned by the Document.
	Raw []byte
	// Entity is the parsed document.
	Entity *Entity
}

// Decode parses and validates one document body, which may be a segment, an
// independent subsegment or an array of independent subsegments. It returns
// the accepted documents and, for each rejected one, an *Error; for an array
// the valid elements are accepted and the invalid ones rejected. maxSize is
// the size limit of the whole body (0 means DefaultMaxDocumentSize).
//
// Keys match field names exactly. A member whose value has the wrong type
// is ignored (the entity keeps the zero value, Raw what was sent), except
// that a wrongly typed id, trace_id, name, parent_id, type, start_time,
// end_time or subsegments of the document's own entity rejects it.
func Decode(body []byte, maxSize int) ([]Document, []*Error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxDocumentSize
	}
	body = bytes.TrimSpace(body)
	if len(body) > maxSize {
		e := &Error{Code: CodeTooLarge, Reason: fmt.Sprintf("document is %d bytes, over the %d-byte limit", len(body), maxSize)}
		e.ID, e.TraceID = peekIDs(body)
		return nil, []*Error{e}
	}
	if len(body) == 0 {
		return nil, []*Error{{Code: CodeEmpty, Reason: "document is empty"}}
	}
	if !utf8.Valid(body) {
		e := &Error{Code: CodeInvalidUTF8, Reason: "document is not valid UTF-8"}
		e.ID, e.TraceID = peekIDs(body)
		return nil, []*Error{e}
	}
	if body[0] != '[' && body[0] != '{' {
		// Show how it starts: the Python SDK, for one, sends "None" when it
		// fails to serialize a segment.
		e := &Error{Code: CodeInvalidJSON, Reason: fmt.Sprintf("document is not a JSON object or array of subsegments: it starts with %q", truncate(string(body[:min(len(body), 40)]), 20))}
		return nil, []*Error{e}
	}
	var dec decoder
	dec.reset(body)
	if body[0] != '[' {
		d, err := dec.one(body)
		if err != nil {
			return nil, []*Error{err}
		}
		return []Document{d}, nil
	}
	return dec.array(body)
}

// one decodes a body that holds one document.
func (d *decoder) one(body []byte) (Document, *Error) {
	e := new(Entity)
	d.document(e)
	d.end()
	if d.err != nil {
		out := &Error{Code: CodeInvalidJSON, Reason: d.err.Error()}
		out.ID, out.TraceID = peekIDs(body)
		return Document{}, out
	}
	return accept(e, body, false, d.fatal)
}

// array decodes a body that holds an array of independent subsegments. The
// whole body must be valid JSON before any element counts.
func (d *decoder) array(body []byte) ([]Document, []*Error) {
	var docs []Document
	var errs []*Error
	n := 0
	d.enter()
	for i := 0; d.elem(i); i++ {
		d.ws()
		start := d.pos
		e := new(Entity)
		d.fatal = typeError{}
		d.document(e)
		if d.err != nil {
			break
		}
		n++
		doc, err := accept(e, body[start:d.pos], true, d.fatal)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs = append(docs, doc)
	}
	d.end()
	if d.err != nil {
		return nil, []*Error{{Code: CodeInvalidJSON, Reason: d.err.Error()}}
	}
	if n == 0 {
		return nil, []*Error{{Code: CodeEmpty, Reason: "array of subsegments is empty"}}
	}
	return docs, errs
}

// accept validates e, decoded from raw, and returns it as a Document, or the
// reason it is rejected. te is the first mistyped member that rejects the
// document (code empty if none); other mistyped members were tolerated, the
// model leaving them zero and raw keeping what the client sent.
func accept(e *Entity, raw []byte, inArray bool, te typeError) (Document, *Error) {
	sub := e.IsSubsegment() || inArray
	fail := func(code ErrorCode, format string, args ...any) (Document, *Error) {
		return Document{}, &Error{Code: code, ID: e.ID, TraceID: e.TraceID, Subsegment: sub, Reason: fmt.Sprintf(format, args...)}
	}
	if te.code != "" {
		return fail(te.code, "field %s has the wrong type: %s where %s is expected", te.field, te.got, te.want)
	}
	if inArray && !e.IsSubsegment() {
		return fail(CodeInvalidSegment, `element of a subsegment array lacks "type": "subsegment"`)
	}
	if e.TraceID == "" {
		return fail(CodeInvalidTraceID, "trace_id is missing")
	}
	tid, err := ParseTraceID(e.TraceID)
	if err != nil {
		return fail(CodeInvalidTraceID, "trace_id %q is not of the form 1-<8 hex digits>-<24 hex digits>", e.TraceID)
	}
	if sub {
		if e.ParentID == "" {
			return fail(CodeMissingParentID, "independent subsegment has no parent_id")
		}
	}
	if e.ParentID != "" {
		if _, ok := ParseID(e.ParentID); !ok {
			return fail(CodeInvalidID, "parent_id %q is not 16 hex digits", e.ParentID)
		}
	}
	if reason, code := validateEntity(e, 0); code != "" {
		// The error names the document (§2.12: Id is the top-level id);
		// the reason names the embedded entity at fault, if any.
		return fail(code, "%s", reason)
	}
	normalize(e)
	return Document{
		TraceID:    tid,
		ID:         e.ID,
		ParentID:   e.ParentID,
		Subsegment: sub,
		InProgress: e.InProgress,
		StartTime:  e.StartTime,
		EndTime:    e.EndTime,
		Raw:        bytes.Clone(raw),
		Entity:     e,
	}, nil
}

// maxDepth bounds subsegment nesting; the scanner already bounds JSON depth,
// this keeps analysis recursion shallow and names the problem.
const maxDepth = 256

// validateEntity checks e and its embedded subsegments, lower-casing their
// ids, and returns the reason and code of the first problem found.
func validateEntity(e *Entity, depth int) (string, ErrorCode) {
	fail := func(code ErrorCode, format string, args ...any) (string, ErrorCode) {
		return fmt.Sprintf(format, args...), code
	}
	if depth > maxDepth {
		return fail(CodeInvalidSegment, "subsegments are nested more than %d levels deep", maxDepth)
	}
	if e.ID == "" {
		return fail(CodeMissingID, "id is missing (name %q)", truncate(e.Name, 40))
	}
	id, ok := ParseID(e.ID)
	if !ok {
		return fail(CodeInvalidID, "id %q is not 16 hex digits", truncate(e.ID, 40))
	}
	e.ID = id
	if reason := checkName(e.Name); reason != "" {
		return fail(CodeInvalidName, "%s", reason)
	}
	if e.StartTime <= 0 {
		return fail(CodeMissingStartTime, "start_time is missing (%q, id %s)", truncate(e.Name, 40), e.ID)
	}
	if e.StartTime > MaxEpochSeconds {
		return fail(CodeMissingStartTime, "start_time %g is not epoch seconds (over %g; milliseconds?) (%q, id %s)", e.StartTime, float64(MaxEpochSeconds), truncate(e.Name, 40), e.ID)
	}
	if e.EndTime == 0 && !e.InProgress {
		return fail(CodeMissingEndTime, "neither end_time nor in_progress: true is set (%q, id %s)", truncate(e.Name, 40), e.ID)
	}
	if e.EndTime < 0 || e.EndTime > MaxEpochSeconds {
		return fail(CodeMissingEndTime, "end_time %g is not epoch seconds (between 0 and %g) (%q, id %s)", e.EndTime, float64(MaxEpochSeconds), truncate(e.Name, 40), e.ID)
	}
	for _, s := range e.Subsegments {
		if s == nil {
			return fail(CodeInvalidSegment, "subsegments holds null (%q, id %s)", truncate(e.Name, 40), e.ID)
		}
		if reason, code := validateEntity(s, depth+1); code != "" {
			return reason, code
		}
	}
	return "", ""
}

// checkName applies X-Ray's name rule: 1–200 characters of Unicode letters,
// digits, whitespace and _ . : / % & # = + \ - @.
func checkName(name string) string {
	if name == "" {
		return "name is missing or empty"
	}
	if len(name) <= MaxNameLength {
		i := 0
		for i < len(name) && nameASCII[name[i]] {
			i++
		}
		if i == len(name) {
			return "" // the common case: short, ASCII and allowed
		}
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return fmt.Sprintf("name is %d characters, over the %d-character limit", n, MaxNameLength)
	}
	for i, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) {
			continue
		}
		switch r {
		case '_', '.', ':', '/', '%', '&', '#', '=', '+', '\\', '-', '@':
			continue
		}
		return fmt.Sprintf("name %q has the character %q at byte %d; allowed are letters, digits, whitespace and _ . : / %% & # = + \\ - @", truncate(name, 60), r, i)
	}
	return ""
}

// nameASCII marks the bytes below utf8.RuneSelf that checkName allows.
var nameASCII = func() (t [256]bool) {
	for c := range rune(utf8.RuneSelf) {
		t[c] = unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.IsSpace(c) || strings.ContainsRune(`_.:/%&#=+\-@`, c)
	}
	return t
}()

// normalize lower-cases ids so that keys and parent references compare equal,
// and drops causes that carry nothing (§2.7: an invalid cause is dropped, the
// document kept).
func normalize(e *Entity) {
	if e.Cause != nil && e.Cause.empty() {
		e.Cause = nil
	}
	if id, ok := ParseID(e.ParentID); ok {
		e.ParentID = id
	}
	if e.TraceID != "" {
		if t, err := ParseTraceID(e.TraceID); err == nil {
			e.TraceID = string(t)
		}
	}
	for _, s := range e.Subsegments {
		normalize(s)
	}
}

// peekIDs finds "id" and "trace_id" in a document that failed to parse, so a
// rejection can still name it, as the X-Ray daemon does.
func peekIDs(b []byte) (id, traceID string) {
	return peekString(b, `"id"`), peekString(b, `"trace_id"`)
}

func peekString(b []byte, key string) string {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(b[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 || end > 64 {
		return ""
	}
	return string(rest[1 : 1+end])
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
