package query

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	byID := map[string]map[string]any{}
	for _, d := range docs {
		dec := json.NewDecoder(bytes.NewReader(d.JSON))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("decode document %s: %w", d.ID, err)
		}
		indexEntities(m, byID)
	}
	out := make([]segment.OutputDocument, 0, len(calls))
	for _, c := range calls {
		src := byID[c.Sub.ID]
		if src == nil {
			continue // not reachable from an output document; nothing to copy
		}
		sum := sha1.Sum([]byte(string(tid) + c.Sub.ID))
		id := hex.EncodeToString(sum[:8])
		m := map[string]any{
			"id":        id,
			"name":      c.SegmentName,
			"trace_id":  string(tid),
			"parent_id": c.Sub.ID,
			"inferred":  true,
		}
		for _, k := range []string{"start_time", "end_time", "in_progress", "http", "error", "fault", "throttle", "cause", "sql"} {
			if v, ok := src[k]; ok {
				m[k] = v
			}
		}
		if a, ok := src["aws"].(map[string]any); ok {
			aws := make(map[string]any, len(a)+1)
			for k, v := range a {
				aws[k] = v
			}
			// Resource-level nodes (AWS::DynamoDB::Table, ...) name their
			// resource, as AWS's processed documents do.
			if _, has := aws["resource_names"]; !has && strings.Count(c.Node.Type, "::") == 2 {
				aws["resource_names"] = []string{c.Node.Name}
			}
			m["aws"] = aws
		}
		if c.Node.Type != summary.TypeRemote {
			m["origin"] = c.Node.Type
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			return nil, fmt.Errorf("encode inferred segment for %s: %w", c.Sub.ID, err)
		}
		out = append(out, segment.OutputDocument{ID: id, JSON: bytes.TrimRight(buf.Bytes(), "\n")})
	}
	return out, nil
}

func indexEntities(m map[string]any, byID map[string]map[string]any) {
	if s, ok := m["id"].(string); ok {
		if id, ok := segment.ParseID(s); ok {
			byID[id] = m
		}
	}
	subs, _ := m["subsegments"].([]any)
	for _, s := range subs {
		if sm, ok := s.(map[string]any); ok {
			indexEntities(sm, byID)
		}
	}
}
