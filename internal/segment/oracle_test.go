package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// decodeJSON is Decode as it was before the hand-written decoder: the same
// checks, with encoding/json doing the parsing. The differential tests hold
// Decode to it. It shares accept (validation) with Decode, so what they
// compare is the parsing.
func decodeJSON(body []byte, maxSize int) ([]Document, []*Error) {
	return decodeJSONWith(body, maxSize, decodeOneJSON)
}

// decodeJSONWith is decodeJSON with each document decoded by one.
func decodeJSONWith(body []byte, maxSize int, one func(raw []byte, inArray bool) (Document, *Error)) ([]Document, []*Error) {
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
		e := &Error{Code: CodeInvalidJSON, Reason: fmt.Sprintf("document is not a JSON object or array of subsegments: it starts with %q", truncate(string(body[:min(len(body), 40)]), 20))}
		return nil, []*Error{e}
	}
	if body[0] != '[' {
		d, err := one(body, false)
		if err != nil {
			return nil, []*Error{err}
		}
		return []Document{d}, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return nil, []*Error{{Code: CodeInvalidJSON, Reason: jsonReason(err)}}
	}
	if len(elems) == 0 {
		return nil, []*Error{{Code: CodeEmpty, Reason: "array of subsegments is empty"}}
	}
	var docs []Document
	var errs []*Error
	for _, el := range elems {
		d, err := one(el, true)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs = append(docs, d)
	}
	return docs, errs
}

func decodeOneJSON(raw []byte, inArray bool) (Document, *Error) {
	var e Entity
	if err := json.Unmarshal(raw, &e); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			out := &Error{Code: CodeInvalidJSON, Reason: jsonReason(err), Subsegment: inArray}
			out.ID, out.TraceID = peekIDs(raw)
			return Document{}, out
		}
		if code, ok := typeErrorCode(te); ok {
			return accept(&e, raw, inArray, typeError{code: code, field: te.Field, got: te.Value, want: te.Type.String()})
		}
		// Any other mistyped field is tolerated: the model leaves it zero and
		// the raw document keeps what the client sent.
	}
	return accept(&e, raw, inArray, typeError{})
}

// typeErrorCode is the code the first type error encoding/json reports
// rejects a document with, if it does.
func typeErrorCode(te *json.UnmarshalTypeError) (ErrorCode, bool) {
	switch te.Field {
	case "id":
		return CodeInvalidID, true
	case "trace_id":
		return CodeInvalidTraceID, true
	case "name":
		return CodeInvalidName, true
	case "start_time":
		return CodeMissingStartTime, true
	case "end_time":
		return CodeMissingEndTime, true
	case "parent_id":
		return CodeInvalidID, true
	case "subsegments":
		return CodeInvalidSegment, true
	}
	if te.Field == "" && te.Value != "object" {
		return CodeInvalidJSON, true // e.g. a bare number or string
	}
	return "", false
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("not valid JSON at byte %d: %v", se.Offset, err)
	}
	return "not valid JSON: " + err.Error()
}
