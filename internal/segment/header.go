package segment

import "strings"

// Header is a parsed X-Amzn-Trace-Id header (or Lambda's _X_AMZN_TRACE_ID).
type Header struct {
	Root    TraceID
	Parent  string
	Sampled string // "1", "0", "?" or "" when absent
	Lineage string
	// Extra holds other key=value pairs in order; they are propagated unchanged.
	Extra [][2]string
}

// ParseHeader parses a tracing header. Malformed parts are ignored, as the
// SDKs ignore them; a header without a valid Root yields a zero Root.
func ParseHeader(s string) Header {
	var h Header
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			continue
		}
		switch k {
		case "Root":
			if id, err := ParseTraceID(v); err == nil {
				h.Root = id
			}
		case "Parent":
			if id, ok := ParseID(v); ok {
				h.Parent = id
			}
		case "Sampled":
			if v == "1" || v == "0" || v == "?" {
				h.Sampled = v
			}
		case "Lineage":
			h.Lineage = v
		case "Self":
			// Added by load balancers; never propagated.
		default:
			h.Extra = append(h.Extra, [2]string{k, v})
		}
	}
	return h
}

// String formats the header as SDKs write it: Root, Parent, Sampled, then
// Lineage and any other data.
func (h Header) String() string {
	var b strings.Builder
	add := func(k, v string) {
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	add("Root", string(h.Root))
	add("Parent", h.Parent)
	add("Sampled", h.Sampled)
	add("Lineage", h.Lineage)
	for _, kv := range h.Extra {
		add(kv[0], kv[1])
	}
	return b.String()
}
