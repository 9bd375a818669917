package xrayapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/thawtrace/thaw/internal/segment"
)

// Ingester stores documents sent with PutTraceSegments.
type Ingester interface {
	// PutDocuments validates each raw document, durably stores the valid
	// ones and returns the rejected ones. An error means the valid ones may
	// not have been stored; an error with Throttled() true means overload.
	PutDocuments(ctx context.Context, raws [][]byte) ([]*segment.Error, error)
}

// Querier answers the read API. Errors of type *Error are returned to the
// client as they are; others become InternalFailure.
type Querier interface {
	BatchGetTraces(ctx context.Context, in BatchGetTracesInput) (*BatchGetTracesOutput, error)
	GetTraceSummaries(ctx context.Context, in GetTraceSummariesInput) (*GetTraceSummariesOutput, error)
	GetServiceGraph(ctx context.Context, in GetServiceGraphInput) (*GetServiceGraphOutput, error)
	GetTraceGraph(ctx context.Context, in GetTraceGraphInput) (*GetTraceGraphOutput, error)
	GetTimeSeriesServiceStatistics(ctx context.Context, in GetTimeSeriesServiceStatisticsInput) (*GetTimeSeriesServiceStatisticsOutput, error)
}

// Sampler answers the sampling API that SDKs poll through the daemon port.
type Sampler interface {
	GetSamplingRules(ctx context.Context) (*GetSamplingRulesOutput, error)
	GetSamplingTargets(ctx context.Context, in GetSamplingTargetsInput) (*GetSamplingTargetsOutput, error)
	CreateSamplingRule(ctx context.Context, in CreateSamplingRuleInput) (*CreateSamplingRuleOutput, error)
	UpdateSamplingRule(ctx context.Context, in UpdateSamplingRuleInput) (*UpdateSamplingRuleOutput, error)
	DeleteSamplingRule(ctx context.Context, in DeleteSamplingRuleInput) (*DeleteSamplingRuleOutput, error)
	GetSamplingStatisticSummaries(ctx context.Context, in GetSamplingStatisticSummariesInput) (*GetSamplingStatisticSummariesOutput, error)
}

// Grouper manages groups: named filter expressions.
type Grouper interface {
	CreateGroup(ctx context.Context, in CreateGroupInput) (*CreateGroupOutput, error)
	GetGroup(ctx context.Context, in GetGroupInput) (*GetGroupOutput, error)
	GetGroups(ctx context.Context, in GetGroupsInput) (*GetGroupsOutput, error)
	UpdateGroup(ctx context.Context, in UpdateGroupInput) (*UpdateGroupOutput, error)
	DeleteGroup(ctx context.Context, in DeleteGroupInput) (*DeleteGroupOutput, error)
}

// Config configures the handler.
type Config struct {
	// MaxRequestBytes bounds a request body.
	MaxRequestBytes int64
	// MaxInflightBytes bounds the PutTraceSegments bodies being read and
	// decoded at once, so memory stays bounded whatever the number of
	// senders; past it, calls are answered 429 ThrottledException, which
	// SDKs and the X-Ray daemon retry.
	MaxInflightBytes int64
}

// DefaultConfig returns the defaults: 5 MiB request bodies, 64 MiB of
// PutTraceSegments bodies in flight.
func DefaultConfig() Config { return Config{MaxRequestBytes: 5 << 20, MaxInflightBytes: 64 << 20} }

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	if c.MaxRequestBytes <= 0 {
		return errors.New("xrayapi: request body limit must be positive")
	}
	if c.MaxInflightBytes < c.MaxRequestBytes {
		return errors.New("xrayapi: the in-flight byte budget must hold at least one request body")
	}
	return nil
}

// Handler serves the X-Ray API.
type Handler struct {
	cfg Config
	in  Ingester
	q   Querier
	s   Sampler
	log *slog.Logger
	mux *http.ServeMux

	inflight atomic.Int64 // PutTraceSegments body bytes reserved
}

// NewHandler returns the X-Ray API handler. Routes are POST-only, with the
// operation in the path, as in the AWS API model.
func NewHandler(cfg Config, in Ingester, q Querier, s Sampler, g Grouper, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, in: in, q: q, s: s, log: log, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST /TraceSegments", h.putTraceSegments)
	h.mux.HandleFunc("POST /Traces", h.batchGetTraces)
	h.mux.HandleFunc("POST /TraceSummaries", h.getTraceSummaries)
	h.mux.HandleFunc("POST /GetSamplingRules", h.getSamplingRules)
	h.mux.HandleFunc("POST /SamplingTargets", h.getSamplingTargets)
	h.mux.HandleFunc("POST /TelemetryRecords", h.putTelemetryRecords)
	h.mux.HandleFunc("POST /ServiceGraph", serve(h, q.GetServiceGraph))
	h.mux.HandleFunc("POST /TraceGraph", serve(h, q.GetTraceGraph))
	h.mux.HandleFunc("POST /TimeSeriesServiceStatistics", serve(h, q.GetTimeSeriesServiceStatistics))
	h.mux.HandleFunc("POST /CreateSamplingRule", serve(h, s.CreateSamplingRule))
	h.mux.HandleFunc("POST /UpdateSamplingRule", serve(h, s.UpdateSamplingRule))
	h.mux.HandleFunc("POST /DeleteSamplingRule", serve(h, s.DeleteSamplingRule))
	h.mux.HandleFunc("POST /SamplingStatisticSummaries", serve(h, s.GetSamplingStatisticSummaries))
	h.mux.HandleFunc("POST /CreateGroup", serve(h, g.CreateGroup))
	h.mux.HandleFunc("POST /GetGroup", serve(h, g.GetGroup))
	h.mux.HandleFunc("POST /Groups", serve(h, g.GetGroups))
	h.mux.HandleFunc("POST /UpdateGroup", serve(h, g.UpdateGroup))
	h.mux.HandleFunc("POST /DeleteGroup", serve(h, g.DeleteGroup))
	for path, op := range notImplemented {
		h.mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, InvalidRequest("%s is not implemented by thaw yet; docs/api.md lists what is", op))
		})
	}
	for path, na := range notApplicable {
		h.mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, InvalidRequest("%s does not apply to thaw: %s (docs/api.md)", na[0], na[1]))
		})
	}
	return h
}

// notImplemented lists the X-Ray operations thaw does not serve yet, so that
// they get a clear error naming them instead of a 404 page.
var notImplemented = map[string]string{
	"/TagResource":         "TagResource",
	"/UntagResource":       "UntagResource",
	"/ListTagsForResource": "ListTagsForResource",
	"/GetIndexingRules":    "GetIndexingRules",
	"/UpdateIndexingRule":  "UpdateIndexingRule",
}

// notApplicable lists the X-Ray operations about AWS account features that
// have no meaning for a self-hosted store, with the reason thaw gives.
var notApplicable = map[string][2]string{
	"/EncryptionConfig":              {"GetEncryptionConfig", "thaw keeps its data on your own disk; it has no AWS KMS encryption to configure"},
	"/PutEncryptionConfig":           {"PutEncryptionConfig", "thaw keeps its data on your own disk; it has no AWS KMS encryption to configure"},
	"/GetTraceSegmentDestination":    {"GetTraceSegmentDestination", "thaw is where segments go; there is no CloudWatch destination to choose"},
	"/UpdateTraceSegmentDestination": {"UpdateTraceSegmentDestination", "thaw is where segments go; there is no CloudWatch destination to choose"},
	"/InsightSummaries":              {"GetInsightSummaries", "X-Ray Insights is an AWS service; thaw's own analysis is thaw why"},
	"/Insight":                       {"GetInsight", "X-Ray Insights is an AWS service; thaw's own analysis is thaw why"},
	"/InsightEvents":                 {"GetInsightEvents", "X-Ray Insights is an AWS service; thaw's own analysis is thaw why"},
	"/InsightImpactGraph":            {"GetInsightImpactGraph", "X-Ray Insights is an AWS service; thaw's own analysis is thaw why"},
	"/StartTraceRetrieval":           {"StartTraceRetrieval", "trace retrieval belongs to CloudWatch Transaction Search; thaw serves traces with BatchGetTraces"},
	"/ListRetrievedTraces":           {"ListRetrievedTraces", "trace retrieval belongs to CloudWatch Transaction Search; thaw serves traces with BatchGetTraces"},
	"/GetRetrievedTracesGraph":       {"GetRetrievedTracesGraph", "trace retrieval belongs to CloudWatch Transaction Search; thaw serves graphs with GetTraceGraph"},
	"/CancelTraceRetrieval":          {"CancelTraceRetrieval", "trace retrieval belongs to CloudWatch Transaction Search; thaw serves traces with BatchGetTraces"},
	"/PutResourcePolicy":             {"PutResourcePolicy", "resource policies are AWS IAM; thaw's access is its listen address (and API keys to come)"},
	"/DeleteResourcePolicy":          {"DeleteResourcePolicy", "resource policies are AWS IAM; thaw's access is its listen address (and API keys to come)"},
	"/ListResourcePolicies":          {"ListResourcePolicies", "resource policies are AWS IAM; thaw's access is its listen address (and API keys to come)"},
}

// ServeHTTP serves the API, adding the request id header X-Ray clients log.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", requestID())
	h.mux.ServeHTTP(w, r)
}

// Routes reports whether the handler serves r's path (so a parent mux can
// send everything else to the console).
func (h *Handler) Routes(r *http.Request) bool {
	_, pattern := h.mux.Handler(r)
	return pattern != ""
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// decode reads a JSON body into v; an empty body means {} (spec §4.1).
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := h.body(w, r)
	if err != nil || len(body) == 0 {
		return err
	}
	return requestError(json.Unmarshal(body, v))
}

// body reads the request body within the size limit, without surrounding
// whitespace.
func (h *Handler) body(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxRequestBytes))
	if err != nil {
		return nil, err
	}
	return bytes.TrimSpace(body), nil
}

// requestError turns a JSON decoding error into an InvalidRequestException
// that says what is wrong with the body.
func requestError(err error) error {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return InvalidRequest("request body is not valid JSON: %v", err)
	case errors.As(err, &te) && te.Field == "":
		return InvalidRequest("request body is a JSON %s; it must be a JSON object", te.Value)
	case errors.As(err, &te):
		return InvalidRequest("member %s: %s is not a valid %s", te.Field, te.Value, te.Type)
	default:
		// A member's own decoder refused its value (e.g. a timestamp).
		return InvalidRequest("request body: %v", err)
	}
}

// writeJSON answers v, or an InternalFailure if v cannot be encoded (never
// a 200 with an empty body).
func writeJSON(w http.ResponseWriter, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		WriteError(w, fmt.Errorf("encode answer: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) putTraceSegments(w http.ResponseWriter, r *http.Request) {
	// Reserve the body's size (the limit when it is not declared) before
	// reading it.
	reserve := h.cfg.MaxRequestBytes
	if r.ContentLength > 0 && r.ContentLength < reserve {
		reserve = r.ContentLength
	}
	if h.inflight.Add(reserve) > h.cfg.MaxInflightBytes {
		h.inflight.Add(-reserve)
		WriteError(w, &Error{Status: http.StatusTooManyRequests, Type: "ThrottledException",
			Message: "too many PutTraceSegments bytes in flight; retry shortly"})
		return
	}
	defer h.inflight.Add(-reserve)
	body, err := h.body(w, r)
	if err != nil {
		WriteError(w, err)
		return
	}
	var raws [][]byte
	if len(body) > 0 {
		if raws, err = decodePutBody(body); err != nil {
			WriteError(w, requestError(err))
			return
		}
	}
	if len(raws) == 0 {
		WriteError(w, InvalidRequest("TraceSegmentDocuments is required and must hold at least one document"))
		return
	}
	rejects, err := h.in.PutDocuments(r.Context(), raws)
	if err != nil {
		WriteError(w, err)
		return
	}
	out := PutTraceSegmentsOutput{UnprocessedTraceSegments: []UnprocessedTraceSegment{}}
	for _, e := range rejects {
		out.UnprocessedTraceSegments = append(out.UnprocessedTraceSegments,
			UnprocessedTraceSegment{ID: e.ID, ErrorCode: string(e.Code), Message: e.Error()})
	}
	writeJSON(w, out)
}

func (h *Handler) batchGetTraces(w http.ResponseWriter, r *http.Request) {
	var in BatchGetTracesInput
	if err := h.decode(w, r, &in); err != nil {
		WriteError(w, err)
		return
	}
	out, err := h.q.BatchGetTraces(r.Context(), in)
	if err != nil {
		WriteError(w, err)
		return
	}
	writeJSON(w, out)
}

func (h *Handler) getTraceSummaries(w http.ResponseWriter, r *http.Request) {
	var in GetTraceSummariesInput
	if err := h.decode(w, r, &in); err != nil {
		WriteError(w, err)
		return
	}
	out, err := h.q.GetTraceSummaries(r.Context(), in)
	if err != nil {
		WriteError(w, err)
		return
	}
	writeJSON(w, out)
}

func (h *Handler) getSamplingRules(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if err := h.decode(w, r, &in); err != nil {
		WriteError(w, err)
		return
	}
	out, err := h.s.GetSamplingRules(r.Context())
	if err != nil {
		WriteError(w, err)
		return
	}
	writeJSON(w, out)
}

func (h *Handler) getSamplingTargets(w http.ResponseWriter, r *http.Request) {
	var in GetSamplingTargetsInput
	if err := h.decode(w, r, &in); err != nil {
		WriteError(w, err)
		return
	}
	out, err := h.s.GetSamplingTargets(r.Context(), in)
	if err != nil {
		WriteError(w, err)
		return
	}
	writeJSON(w, out)
}

func (h *Handler) putTelemetryRecords(w http.ResponseWriter, r *http.Request) {
	var in struct {
		TelemetryRecords []json.RawMessage `json:"TelemetryRecords"`
	}
	if err := h.decode(w, r, &in); err != nil {
		WriteError(w, err)
		return
	}
	h.log.Debug("telemetry records", "count", len(in.TelemetryRecords))
	writeJSON(w, struct{}{})
}

// serve adapts an operation (a JSON request in, a JSON answer out) to a
// handler.
func serve[In, Out any](h *Handler, op func(context.Context, In) (*Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in In
		if err := h.decode(w, r, &in); err != nil {
			WriteError(w, err)
			return
		}
		out, err := op(r.Context(), in)
		if err != nil {
			WriteError(w, err)
			return
		}
		writeJSON(w, out)
	}
}
