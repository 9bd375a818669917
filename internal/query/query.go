// Package query is the read service behind the X-Ray API: it reads traces
// and summaries from the store, assembles traces, and answers in the API's
// wire types (which xrayapi defines as the contract it serves).
//
// It imports store, segment, analyze/* and xrayapi's wire types; never a
// store backend or ingest.
package query

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/filter"
	"github.com/thawtrace/thaw/internal/segment"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// Config configures the read service.
type Config struct {
	// PageSize is the number of summaries per GetTraceSummaries page.
	PageSize int
	// MaxWindow bounds a GetTraceSummaries time range.
	MaxWindow time.Duration
	// MaxBatchTraces bounds BatchGetTraces' TraceIds (AWS: 5).
	MaxBatchTraces int
	// MaxGraphTraces bounds the traces GetServiceGraph reads for one graph.
	MaxGraphTraces int
}

// DefaultConfig keeps AWS's limits where clients depend on them.
func DefaultConfig() Config {
	return Config{PageSize: 100, MaxWindow: 24 * time.Hour, MaxBatchTraces: 5, MaxGraphTraces: 20_000}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	if c.PageSize <= 0 || c.MaxBatchTraces <= 0 || c.MaxWindow <= 0 || c.MaxGraphTraces <= 0 {
		return errors.New("query: page size, batch size and window must be positive")
	}
	return nil
}

// Service answers the read API over a store.
type Service struct {
	cfg  Config
	r    store.Reader
	eval filter.Evaluator
	log  *slog.Logger

	warmMu   sync.Mutex
	warmSeen map[uint32]uint64 // rollup generation per minute at the last warming

	openMu sync.Mutex
	open   openMinute // the current minute's graph (see minuteGraph)
}

var _ xrayapi.Querier = (*Service)(nil)

// New returns the read service over r.
func New(cfg Config, r store.Reader, groups GroupLookup, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, r: r, eval: filter.Evaluator{Groups: groupResolver{groups}}, log: log}
}

// BatchGetTraces returns each trace's documents, assembled (spec §4.4.4).
func (s *Service) BatchGetTraces(ctx context.Context, in xrayapi.BatchGetTracesInput) (*xrayapi.BatchGetTracesOutput, error) {
	if in.NextToken != nil && *in.NextToken != "" {
		return nil, xrayapi.InvalidRequest("NextToken is currently not supported")
	}
	if len(in.TraceIDs) == 0 {
		return nil, xrayapi.InvalidRequest("TraceIds is required and must hold at least one trace id")
	}
	if len(in.TraceIDs) > s.cfg.MaxBatchTraces {
		return nil, xrayapi.InvalidRequest("Exceeding maximum query size: %d", s.cfg.MaxBatchTraces)
	}
	out := &xrayapi.BatchGetTracesOutput{Traces: []xrayapi.Trace{}, UnprocessedTraceIDs: []string{}}
	seen := make(map[segment.TraceID]bool, len(in.TraceIDs))
	for _, raw := range in.TraceIDs {
		id, err := segment.ParseTraceID(raw)
		if err == nil && seen[id] {
			continue // asked twice, answered once
		}
		seen[id] = true
		if err != nil {
			out.UnprocessedTraceIDs = append(out.UnprocessedTraceIDs, raw)
			continue
		}
		tr, err := s.trace(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			// One trace that cannot be read must not fail the others.
			s.log.Warn("read trace", "trace_id", id, "err", err)
			out.UnprocessedTraceIDs = append(out.UnprocessedTraceIDs, raw)
			continue
		}
		out.Traces = append(out.Traces, *tr)
	}
	return out, nil
}

func (s *Service) trace(ctx context.Context, id segment.TraceID) (*xrayapi.Trace, error) {
	docs, err := s.r.TraceDocuments(ctx, id)
	if err != nil {
		return nil, err
	}
	t := segment.Assemble(id, docs)
	sum := summary.Compute(t, 0)
	outDocs, err := t.Documents()
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", id, err)
	}
	inferred, err := inferredDocuments(id, summary.InferredCalls(t), outDocs)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", id, err)
	}
	outDocs = append(outDocs, inferred...)
	tr := &xrayapi.Trace{ID: string(id), Segments: make([]xrayapi.Segment, 0, len(outDocs))}
	if sum.HasDuration {
		d := sum.Duration
		tr.Duration = &d
	}
	for _, d := range outDocs {
		tr.Segments = append(tr.Segments, xrayapi.Segment{ID: d.ID, Document: string(d.JSON)})
	}
	return tr, nil
}

// maxEpoch bounds timestamps to what time.Time in nanoseconds can hold
// (year 2255).
const maxEpoch = 9e9

// pageToken is the decoded NextToken: the query it continues and where.
type pageToken struct {
	V      int     `json:"v"`
	Start  float64 `json:"s"`
	End    float64 `json:"e"`
	Range  int     `json:"r"`
	Filter string  `json:"f,omitempty"`
	After  []byte  `json:"a"`
}

// GetTraceSummaries answers one page of summaries, newest first (§4.4.3).
func (s *Service) GetTraceSummaries(ctx context.Context, in xrayapi.GetTraceSummariesInput) (*xrayapi.GetTraceSummariesOutput, error) {
	if in.StartTime == nil || in.EndTime == nil {
		return nil, xrayapi.InvalidRequest("StartTime and EndTime are required")
	}
	start, end := float64(*in.StartTime), float64(*in.EndTime)
	if err := s.checkWindow(start, end); err != nil {
		return nil, err
	}
	var rt store.RangeType
	switch in.TimeRangeType {
	case "", "TraceId":
		rt = store.ByTraceID
	case "Event":
		rt = store.ByEvent
	case "Service":
		rt = store.ByService
	default:
		return nil, xrayapi.InvalidRequest("TimeRangeType %q is not one of TraceId, Event, Service", in.TimeRangeType)
	}
	var expr filter.Expr
	if in.FilterExpression != "" {
		e, err := filter.Parse(in.FilterExpression)
		if err != nil {
			return nil, xrayapi.InvalidRequest("FilterExpression %q: %v", in.FilterExpression, err)
		}
		expr = e
	}
	fraction := 1.0
	if in.Sampling && in.SamplingStrategy != nil {
		if v := in.SamplingStrategy.Value; v <= 0 || v > 1 {
			return nil, xrayapi.InvalidRequest("SamplingStrategy.Value %g must be in (0, 1]", v)
		}
		switch in.SamplingStrategy.Name {
		case "FixedRate":
			fraction = in.SamplingStrategy.Value
		case "PartialScan":
			// Scan only the newest part of the window.
			start = end - (end-start)*in.SamplingStrategy.Value
		default:
			return nil, xrayapi.InvalidRequest("SamplingStrategy.Name %q is not one of PartialScan, FixedRate", in.SamplingStrategy.Name)
		}
	}

	q := store.SummaryQuery{Start: toTime(start), End: toTime(end), Range: rt}
	if expr != nil {
		q.Match = s.plan(expr)
	}
	if in.NextToken != "" {
		tok, err := decodeToken(in.NextToken)
		if err != nil || tok.Start != float64(*in.StartTime) || tok.End != float64(*in.EndTime) || tok.Range != int(rt) {
			return nil, xrayapi.InvalidRequest("NextToken does not belong to this query; repeat the query without it")
		}
		q.After = tok.After
	}

	out := &xrayapi.GetTraceSummariesOutput{TraceSummaries: []xrayapi.TraceSummary{}, ApproximateTime: end}
	var last []byte
	more := false
	for hit, err := range s.r.Summaries(ctx, q) {
		if err != nil {
			return nil, fmt.Errorf("scan summaries: %w", err)
		}
		if len(out.TraceSummaries) == s.cfg.PageSize {
			more = true
			break
		}
		out.TracesProcessedCount++
		last = hit.Cursor
		out.ApproximateTime = hit.IndexTime
		if fraction < 1 && !sampled(hit.Summary.ID, fraction) {
			continue
		}
		if expr != nil {
			t := &summaryTrace{ctx: ctx, s: &hit.Summary, r: s.r}
			ok, err := s.eval.Eval(expr, t)
			if t.err != nil {
				return nil, fmt.Errorf("read trace %s for the filter: %w", hit.Summary.ID, t.err)
			}
			if err != nil {
				return nil, xrayapi.InvalidRequest("FilterExpression %q: %v", in.FilterExpression, err)
			}
			if !ok {
				continue
			}
		}
		ts := toWire(hit.Summary)
		if rt == store.ByEvent { // X-Ray sets it for Event ranges only
			t := hit.MatchedEventTime
			ts.MatchedEventTime = &t
		}
		out.TraceSummaries = append(out.TraceSummaries, ts)
	}
	if !more {
		out.ApproximateTime = start
	}
	if more && last != nil {
		tok, err := encodeToken(pageToken{V: 1, Start: float64(*in.StartTime), End: float64(*in.EndTime), Range: int(rt), After: last})
		if err != nil {
			return nil, err
		}
		out.NextToken = tok
	}
	return out, nil
}

// sampled chooses traces deterministically by id, so pages are stable.
func sampled(id string, fraction float64) bool {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return float64(mix64(h.Sum64()))/float64(math.MaxUint64) < fraction
}

// mix64 is splitmix64's finalizer. FNV-1a's high bits barely change when
// ids differ only in their last characters (ids from a counter), so without
// it such traces would be kept or dropped all together.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func toTime(sec float64) time.Time { return time.Unix(0, int64(sec*1e9)) }

func encodeToken(t pageToken) (string, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("encode page token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeToken(s string) (pageToken, error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, err
	}
	if t.V != 1 {
		return t, fmt.Errorf("page token version %d", t.V)
	}
	return t, nil
}

// checkWindow validates a query's time range: epoch seconds, in order, and
// no longer than MaxWindow.
func (s *Service) checkWindow(start, end float64) error {
	if start < 0 || end > maxEpoch {
		return xrayapi.InvalidRequest("StartTime %.0f and EndTime %.0f must be epoch seconds between 0 and %.0f", start, end, maxEpoch)
	}
	if end < start {
		return xrayapi.InvalidRequest("EndTime %.3f is before StartTime %.3f", end, start)
	}
	// Times are bounded above, so the window fits a time.Duration.
	if win := time.Duration((end - start) * float64(time.Second)); win > s.cfg.MaxWindow {
		return xrayapi.InvalidRequest("Time range exceeds the maximum of %s (asked: %s); split the query", s.cfg.MaxWindow, win.Round(time.Second))
	}
	return nil
}
