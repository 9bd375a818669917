package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file renders one trace as a text waterfall, the terminal's version of
// X-Ray's timeline. It is pure: documents in, text out.

// Markers printed after a bar, in this order.
const (
	markFault      = "✖"
	markError      = "!"
	markThrottle   = "⧖"
	markInProgress = "…"
)

// entity is a segment or subsegment as the waterfall needs it: the fields of
// spec/xray.md §2.2–2.7 it shows, plus its place in the trace's tree.
type entity struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	TraceID     string          `json:"trace_id"`
	ParentID    string          `json:"parent_id"`
	Type        string          `json:"type"`
	StartTime   float64         `json:"start_time"`
	EndTime     float64         `json:"end_time"`
	InProgress  bool            `json:"in_progress"`
	Error       bool            `json:"error"`
	Fault       bool            `json:"fault"`
	Throttle    bool            `json:"throttle"`
	Inferred    bool            `json:"inferred"`
	Namespace   string          `json:"namespace"`
	Origin      string          `json:"origin"`
	HTTP        *entityHTTP     `json:"http"`
	AWS         *entityAWS      `json:"aws"`
	Cause       json.RawMessage `json:"cause"` // an object, or the id of an exception recorded elsewhere
	Annotations map[string]any  `json:"annotations"`
	Subsegments []*entity       `json:"subsegments"`

	// Set by buildTraceTree.
	doc      bool      // a top-level document rather than an embedded subsegment
	parent   *entity   // nil for a root
	children []*entity // embedded subsegments and the documents that name this as parent, by start time
}

type entityHTTP struct {
	Request *struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
	Response *struct {
		Status int `json:"status"`
	} `json:"response"`
}

type entityAWS struct {
	Operation     string   `json:"operation"`
	TableName     string   `json:"table_name"`
	TableNames    []string `json:"table_names"`
	QueueURL      string   `json:"queue_url"`
	TopicARN      string   `json:"topic_arn"`
	FunctionName  string   `json:"function_name"`
	BucketName    string   `json:"bucket_name"`
	ResourceNames []string `json:"resource_names"`
}

// isSegment reports whether e is a segment document, as opposed to an
// embedded or independent subsegment.
func (e *entity) isSegment() bool { return e.doc && e.Type != "subsegment" }

// complete reports whether e has ended.
func (e *entity) complete() bool { return !e.InProgress && e.EndTime != 0 }

func (e *entity) status() int {
	if e.HTTP == nil || e.HTTP.Response == nil {
		return 0
	}
	return e.HTTP.Response.Status
}

// Classification follows X-Ray's: the flags, or the HTTP status when a
// producer set none (spec/xray.md §2.7).
func (e *entity) faulted() bool   { return e.Fault || e.status() >= 500 }
func (e *entity) errored() bool   { s := e.status(); return e.Error || (s >= 400 && s < 500) }
func (e *entity) throttled() bool { return e.Throttle || e.status() == 429 }

// traceTree is a trace's entities arranged as X-Ray's timeline shows them.
type traceTree struct {
	traceID    string
	roots      []*entity // by start time
	segments   int       // segment documents, inferred ones included
	inferred   int
	start, end float64 // span of every entity, in epoch seconds
}

// buildTraceTree decodes the documents of one trace (each a segment, an
// independent subsegment, or an array of those) and links them: a document
// whose parent_id names an entity in another document is placed below that
// entity; the others are roots.
func buildTraceTree(docs [][]byte) (*traceTree, error) {
	var tops []*entity
	for i, b := range docs {
		es, err := decodeDocument(b)
		if err != nil {
			return nil, fmt.Errorf("decode document %d of %d: %w", i+1, len(docs), err)
		}
		tops = append(tops, es...)
	}
	// Ties are broken by id so that the output does not depend on the order
	// the server returned the documents in.
	slices.SortStableFunc(tops, func(a, b *entity) int {
		return cmp.Or(cmp.Compare(a.StartTime, b.StartTime), strings.Compare(a.ID, b.ID))
	})

	tr := &traceTree{start: math.Inf(1), end: math.Inf(-1)}
	byID := make(map[string]*entity)
	for _, d := range tops {
		d.doc = true
		walkEntities(d, func(e *entity) {
			e.Subsegments = slices.DeleteFunc(e.Subsegments, func(c *entity) bool { return c == nil })
			for _, c := range e.Subsegments {
				c.parent = e
			}
			if _, dup := byID[e.ID]; !dup && e.ID != "" {
				byID[e.ID] = e
			}
			if e.StartTime > 0 {
				tr.start = min(tr.start, e.StartTime)
				tr.end = max(tr.end, e.StartTime)
			}
			if e.complete() {
				tr.end = max(tr.end, e.EndTime)
			}
		})
		if tr.traceID == "" {
			tr.traceID = d.TraceID
		}
		if d.Type != "subsegment" {
			tr.segments++
			if d.Inferred {
				tr.inferred++
			}
		}
	}
	for _, d := range tops {
		p := byID[d.ParentID]
		if d.ParentID == "" || p == nil || isAncestorOrSelf(d, p) {
			tr.roots = append(tr.roots, d)
			continue
		}
		d.parent = p
		p.children = append(p.children, d)
	}
	for _, d := range tops {
		walkEntities(d, func(e *entity) {
			e.children = append(slices.Clone(e.Subsegments), e.children...)
			slices.SortStableFunc(e.children, func(a, b *entity) int { return cmp.Compare(a.StartTime, b.StartTime) })
		})
	}
	if len(tops) == 0 || math.IsInf(tr.start, 1) {
		tr.start, tr.end = 0, 0
	}
	return tr, nil
}

// decodeDocument decodes one document: an object, or an array of
// independent subsegments. Fields of an unexpected type are left empty
// rather than failing the document, as the server tolerates them too.
func decodeDocument(b []byte) ([]*entity, error) {
	var te *json.UnmarshalTypeError
	var arr []*entity
	trimmed := strings.TrimSpace(string(b))
	if trimmed == "null" {
		return nil, nil // nothing to show
	}
	if strings.HasPrefix(trimmed, "[") {
		if err := json.Unmarshal(b, &arr); err != nil && !errors.As(err, &te) {
			return nil, err
		}
		return slices.DeleteFunc(arr, func(e *entity) bool { return e == nil }), nil
	}
	var e entity
	if err := json.Unmarshal(b, &e); err != nil && !errors.As(err, &te) {
		return nil, err
	}
	return []*entity{&e}, nil
}

// walkEntities calls fn for e and its embedded subsegments, parents first;
// fn may edit e.Subsegments before they are walked.
func walkEntities(e *entity, fn func(*entity)) {
	fn(e)
	for _, c := range e.Subsegments {
		if c != nil {
			walkEntities(c, fn)
		}
	}
}

// isAncestorOrSelf reports whether a is p or one of p's ancestors, that is,
// whether placing a below p would make a cycle.
func isAncestorOrSelf(a, p *entity) bool {
	for ; p != nil; p = p.parent {
		if p == a {
			return true
		}
	}
	return false
}

// waterfallRow is one line of the waterfall before layout.
type waterfallRow struct {
	e        *entity
	label    string // indent, name and what kind of thing it is
	offset   string
	duration string
	suffix   string // markers and details
}

// waterfallOptions says how renderWaterfall lays out a trace.
type waterfallOptions struct {
	Width    int            // columns per line, at least minWaterfallWidth; the header line may be longer
	Location *time.Location // time zone of the start time in the header; nil means UTC
}

const minWaterfallWidth = 40

// renderWaterfall writes the trace made of docs as a waterfall: a header, then
// one line per segment and subsegment, indented by depth, with its offset from
// the trace start, its duration, a bar placed on the trace's time span, and
// markers (✖ fault, ! error, ⧖ throttle, … in progress) with details.
func renderWaterfall(w io.Writer, docs [][]byte, opts waterfallOptions) error {
	tr, err := buildTraceTree(docs)
	if err != nil {
		return err
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	span := tr.end - tr.start

	var b strings.Builder
	fmt.Fprintf(&b, "trace %s  %s  %s", cleanText(cmp.Or(tr.traceID, "(no trace id)")), formatMillis(span), plural(tr.segments, "segment"))
	if tr.inferred > 0 {
		fmt.Fprintf(&b, " (%d inferred)", tr.inferred)
	}
	if tr.start > 0 {
		fmt.Fprintf(&b, "  started %s", epochTime(tr.start).In(loc).Format("2006-01-02 15:04:05.000 MST"))
	}
	b.WriteString("\n")
	if len(tr.roots) == 0 {
		b.WriteString("no segments\n")
		_, err := io.WriteString(w, b.String())
		return err
	}

	var rows []waterfallRow
	seen := make(map[*entity]bool)
	var visit func(e *entity, depth int)
	visit = func(e *entity, depth int) {
		if seen[e] {
			return // a malformed trace may list one entity twice
		}
		seen[e] = true
		rows = append(rows, newWaterfallRow(tr, e, depth))
		for _, c := range e.children {
			visit(c, depth+1)
		}
	}
	for _, r := range tr.roots {
		visit(r, 0)
	}

	l := layoutWaterfall(rows, max(opts.Width, minWaterfallWidth))
	b.WriteString("\n")
	writeWaterfallLine(&b, l, "NAME", "OFFSET", "DURATION", timeAxis(span, l.bar), "")
	for _, r := range rows {
		writeWaterfallLine(&b, l, r.label, r.offset, r.duration, timelineBar(tr, r.e, l.bar), r.suffix)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func newWaterfallRow(tr *traceTree, e *entity, depth int) waterfallRow {
	label := strings.Repeat("  ", depth) + cleanText(cmp.Or(e.Name, "(unnamed)"))
	if e.isSegment() {
		var kind []string
		if o := shortOrigin(e.Origin); o != "" && o != e.Name {
			kind = append(kind, o)
		}
		if e.Inferred {
			kind = append(kind, "inferred")
		}
		if len(kind) > 0 {
			label += " (" + cleanText(strings.Join(kind, ", ")) + ")"
		}
	}
	// Lambda's own subsegments sit directly in the function segment (§7.1).
	if p := e.parent; !e.doc && p != nil && p.isSegment() && p.Origin == "AWS::Lambda::Function" {
		switch e.Name {
		case "Initialization":
			label += " (cold start)"
		case "Restore":
			label += " (SnapStart restore)"
		}
	}

	start := e.StartTime
	if start <= 0 {
		start = tr.start
	}
	r := waterfallRow{e: e, label: label, offset: formatMillis(start - tr.start), duration: markInProgress}
	if e.complete() {
		r.duration = formatMillis(max(e.EndTime-start, 0))
	}

	var parts []string
	var marks []string
	if e.faulted() {
		marks = append(marks, markFault)
	}
	if e.errored() {
		marks = append(marks, markError)
	}
	if e.throttled() {
		marks = append(marks, markThrottle)
	}
	if !e.complete() {
		marks = append(marks, markInProgress)
	}
	if len(marks) > 0 {
		parts = append(parts, strings.Join(marks, ""))
	}
	if d := awsDetail(e.AWS); d != "" {
		parts = append(parts, d)
	}
	if d := httpDetail(e); d != "" {
		parts = append(parts, d)
	}
	if e.faulted() || e.errored() {
		if x := exceptionType(e.Cause); x != "" {
			parts = append(parts, x)
		}
	}
	if a := formatAnnotations(e.Annotations); a != "" {
		parts = append(parts, a)
	}
	r.suffix = cleanText(strings.Join(parts, " "))
	return r
}

// awsDetail is an AWS call's operation and the resource it acted on.
func awsDetail(a *entityAWS) string {
	if a == nil || a.Operation == "" {
		return ""
	}
	resource := cmp.Or(a.TableName, strings.Join(a.TableNames, ","), lastAfter(a.QueueURL, "/"),
		lastAfter(a.TopicARN, ":"), a.FunctionName, a.BucketName)
	if resource == "" && len(a.ResourceNames) > 0 {
		resource = a.ResourceNames[0]
	}
	return strings.TrimSpace(a.Operation + " " + resource)
}

// httpDetail is the request method and response status, and for a call to a
// remote service the URL it called.
func httpDetail(e *entity) string {
	if e.HTTP == nil {
		return ""
	}
	var parts []string
	if q := e.HTTP.Request; q != nil {
		if q.Method != "" {
			parts = append(parts, strings.ToUpper(q.Method))
		}
		if q.URL != "" && e.Namespace == "remote" {
			parts = append(parts, q.URL)
		}
	}
	if s := e.status(); s != 0 {
		parts = append(parts, strconv.Itoa(s))
	}
	return strings.Join(parts, " ")
}

// exceptionType is the type of the first exception in a cause object.
func exceptionType(cause json.RawMessage) string {
	var c struct {
		Exceptions []struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"exceptions"`
	}
	if json.Unmarshal(cause, &c) != nil || len(c.Exceptions) == 0 {
		return ""
	}
	return cmp.Or(c.Exceptions[0].Type, c.Exceptions[0].Message)
}

// formatAnnotations lists annotations as key=value, by key.
func formatAnnotations(ann map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ann)) {
		var v string
		switch x := ann[k].(type) {
		case string:
			v = x
		case float64:
			v = strconv.FormatFloat(x, 'g', -1, 64)
		default:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

// waterfallLayout is the width of each column.
type waterfallLayout struct {
	label, offset, duration, bar, suffix int
}

const columnGap = 2

// layoutWaterfall sizes the columns to fit width: numbers at their natural
// width, then everything if it fits with a bar of at least a quarter of what
// remains; otherwise labels get most of the rest, suffixes up to a third of
// it and the bar what is left, the longest labels and suffixes cut short.
func layoutWaterfall(rows []waterfallRow, width int) waterfallLayout {
	l := waterfallLayout{offset: len("OFFSET"), duration: len("DURATION")}
	maxLabel, maxSuffix := len("NAME"), 0
	for _, r := range rows {
		l.offset = max(l.offset, runeLen(r.offset))
		l.duration = max(l.duration, runeLen(r.duration))
		maxLabel = max(maxLabel, runeLen(r.label))
		maxSuffix = max(maxSuffix, runeLen(r.suffix))
	}
	rest := width - (l.offset + l.duration + 3*columnGap) // label + bar + suffix
	suffixCost := 0                                       // the suffix and the gap before it
	if maxSuffix > 0 {
		suffixCost = columnGap + maxSuffix
	}
	minBar := max(10, rest/4)
	if maxLabel+suffixCost+minBar <= rest {
		l.label, l.suffix = maxLabel, maxSuffix
		l.bar = rest - maxLabel - suffixCost
		return l
	}
	avail := max(rest-minBar, 1)
	const minSuffix = 16
	// Labels get at least two thirds: a line is no use without its name.
	l.label = max(min(maxLabel, max(avail-min(suffixCost, columnGap+minSuffix), avail*2/3)), 1)
	if maxSuffix > 0 {
		// Past a third of the line, a longer suffix is worth less than a
		// wider bar.
		l.suffix = max(min(maxSuffix, avail-l.label-columnGap, max(minSuffix, rest/3)), 1)
		suffixCost = columnGap + l.suffix
	}
	l.bar = max(rest-l.label-suffixCost, 1)
	return l
}

func writeWaterfallLine(b *strings.Builder, l waterfallLayout, label, offset, duration, bar, suffix string) {
	gap := strings.Repeat(" ", columnGap)
	line := padRight(ellipsize(label, l.label), l.label) + gap +
		padLeft(offset, l.offset) + gap + padLeft(duration, l.duration) + gap +
		padRight(bar, l.bar)
	if suffix != "" {
		line += gap + ellipsize(suffix, l.suffix)
	}
	b.WriteString(strings.TrimRight(line, " "))
	b.WriteString("\n")
}

// timelineBar draws e's time on a line of n columns spanning the whole trace. An
// entity still in progress is drawn lighter up to the end of the trace.
func timelineBar(tr *traceTree, e *entity, n int) string {
	span := tr.end - tr.start
	start := e.StartTime
	if start <= 0 {
		start = tr.start
	}
	end, fill := tr.end, "░"
	if e.complete() {
		end, fill = max(e.EndTime, start), "█"
	}
	from, to := 0, n
	if span > 0 {
		scale := float64(n) / span
		from = int(math.Floor((start - tr.start) * scale))
		// The small slack keeps float noise from spilling into the next column.
		to = int(math.Ceil((end-tr.start)*scale - 1e-6))
	}
	from = min(max(from, 0), n-1)
	to = min(max(to, from+1), n)
	return strings.Repeat(" ", from) + strings.Repeat(fill, to-from)
}

// timeAxis labels the bar column: 0 at the left, the span at the right.
func timeAxis(span float64, n int) string {
	left, right := "0ms", formatMillis(span)
	if n < len(left)+len(right)+1 {
		return ""
	}
	return left + strings.Repeat(" ", n-len(left)-len(right)) + right
}

// formatMillis formats seconds as milliseconds with one decimal.
func formatMillis(sec float64) string {
	return strconv.FormatFloat(sec*1000, 'f', 1, 64) + "ms"
}

// epochTime converts epoch seconds to a time, to the microsecond.
func epochTime(sec float64) time.Time {
	return time.UnixMicro(int64(math.Round(sec * 1e6)))
}

// shortOrigin drops the "AWS::" prefix of an origin or service type.
func shortOrigin(origin string) string {
	return strings.TrimPrefix(origin, "AWS::")
}

// lastAfter returns what follows the last sep in s, or s without one.
func lastAfter(s, sep string) string {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[i+len(sep):]
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// cleanText makes a string from a segment safe to print on a terminal: control
// and bidirectional-override characters become U+FFFD, which also keeps tabs
// and newlines from breaking columns.
func cleanText(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return utf8.RuneError
		}
		return r
	}, s)
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// ellipsize cuts s to n runes, ending in "…" when it had to cut.
func ellipsize(s string, n int) string {
	if runeLen(s) <= n {
		return s
	}
	if n <= 1 {
		return strings.Repeat("…", max(n, 0))
	}
	return string([]rune(s)[:n-1]) + "…"
}

func padRight(s string, n int) string { return s + strings.Repeat(" ", max(n-runeLen(s), 0)) }
func padLeft(s string, n int) string  { return strings.Repeat(" ", max(n-runeLen(s), 0)) + s }
