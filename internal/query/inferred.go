package query

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/segment"
)

// inferredDocuments builds the synthetic segment X-Ray adds to BatchGetTraces
// for each downstream call without a segment of its own (spec/xray.md §6.8),
// from the calling subsegment's JSON in docs, so every field it carries
// (http, aws, cause, sql, flags) comes through as sent.
func inferredDocuments(tid segment.TraceID, calls []summary.InferredCall, docs []segment.OutputDocument) ([]segment.OutputDocument, error) {
	if len(calls) == 0 {
		return nil, nil
	}
	byID := map[string][]byte{}
	for _, d := range docs {
		objs, err := segment.EntityJSON(d.JSON)
		if err != nil {
			return nil, fmt.Errorf("read document %s: %w", d.ID, err)
		}
		for id, b := range objs {
			if _, seen := byID[id]; !seen {
				byID[id] = b
			}
		}
	}
	out := make([]segment.OutputDocument, 0, len(calls))
	for _, c := range calls {
		raw := byID[c.Sub.ID]
		if raw == nil {
			continue // not reachable from an output document; nothing to copy
		}
		// The members copied, by key; a repeated key's last value wins,
		// as encoding/json reads it.
		src := make(map[string][]byte, len(copied)+1)
		err := segment.ObjectMembers(raw, func(k string, v []byte) {
			if k == "aws" || slices.Contains(copied, k) {
				src[k] = v
			}
		})
		if err != nil {
			return nil, fmt.Errorf("read subsegment %s: %w", c.Sub.ID, err)
		}
		sum := sha1.Sum([]byte(string(tid) + c.Sub.ID))
		id := hex.EncodeToString(sum[:8])
		w := objectWriter{b: make([]byte, 0, 256+len(raw))}
		w.str("id", id)
		w.str("name", c.SegmentName)
		w.str("trace_id", string(tid))
		w.str("parent_id", c.Sub.ID)
		w.raw("inferred", []byte("true"))
		for _, k := range copied {
			if v, ok := src[k]; ok {
				w.raw(k, v)
			}
		}
		if a := src["aws"]; len(a) > 0 && a[0] == '{' {
			// Resource-level nodes (AWS::DynamoDB::Table, ...) name their
			// resource, as AWS's processed documents do.
			members, hasNames := 0, false
			err := segment.ObjectMembers(a, func(k string, _ []byte) {
				members++
				hasNames = hasNames || k == "resource_names"
			})
			if err != nil {
				return nil, fmt.Errorf("read aws of subsegment %s: %w", c.Sub.ID, err)
			}
			if !hasNames && strings.Count(c.Node.Type, "::") == 2 {
				names, _ := json.Marshal([]string{c.Node.Name})
				if members == 0 {
					a = append([]byte(`{"resource_names":`), names...)
				} else {
					a = append(append(bytes.TrimRight(bytes.Clone(a[:len(a)-1]), " \t\r\n"), []byte(`,"resource_names":`)...), names...)
				}
				a = append(a, '}')
			}
			w.raw("aws", a)
		}
		if c.Node.Type != summary.TypeRemote {
			w.str("origin", c.Node.Type)
		}
		out = append(out, segment.OutputDocument{ID: id, JSON: w.done()})
	}
	return out, nil
}

// copied are the members of a calling subsegment its inferred segment
// repeats (besides aws, which it completes).
var copied = []string{"start_time", "end_time", "in_progress", "http", "error", "fault", "throttle", "cause", "sql"}

// objectWriter writes a JSON object member by member, in order.
type objectWriter struct{ b []byte }

func (w *objectWriter) key(k string) {
	if len(w.b) == 0 {
		w.b = append(w.b, '{')
	} else {
		w.b = append(w.b, ',')
	}
	w.b = strconv.AppendQuote(w.b, k)
	w.b = append(w.b, ':')
}

func (w *objectWriter) str(k, v string) {
	w.key(k)
	if plainJSON(v) {
		w.b = append(append(append(w.b, '"'), v...), '"')
		return
	}
	b, _ := json.Marshal(v) // strings always marshal
	w.b = append(w.b, b...)
}

// plainJSON reports whether s can be written between quotes as it is: no
// quote, backslash, control character or non-ASCII byte.
func plainJSON(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

func (w *objectWriter) raw(k string, v []byte) {
	w.key(k)
	w.b = append(w.b, v...)
}

func (w *objectWriter) done() []byte { return append(w.b, '}') }
