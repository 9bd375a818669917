// Package xrayapi is thaw's X-Ray-compatible HTTP API: the REST-JSON wire
// types of spec/xray.md §4, the handlers that serve them over the services it
// declares, and a Client for thaw's own commands.
//
// It imports segment and the standard library only; query and ingest satisfy
// the interfaces it declares.
package xrayapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Time is an X-Ray timestamp: epoch seconds as a JSON number. It also accepts
// ISO-8601 strings on input, as the spec recommends for robustness.
type Time float64

// UnmarshalJSON accepts a number of epoch seconds or an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
			if tm, err := time.Parse(layout, s); err == nil {
				*t = Time(float64(tm.UnixNano()) / 1e9)
				return nil
			}
		}
		// ParseFloat also takes "NaN" and "Inf", which no time is.
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			*t = Time(f)
			return nil
		}
		return fmt.Errorf("timestamp %q is neither epoch seconds nor ISO-8601", s)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) {
		return fmt.Errorf("timestamp %s is not a number of epoch seconds", b)
	}
	*t = Time(f)
	return nil
}

// Time converts to time.Time.
func (t Time) Time() time.Time {
	sec := float64(t)
	return time.Unix(0, int64(sec*1e9))
}

// PutTraceSegmentsInput is the body of POST /TraceSegments.
type PutTraceSegmentsInput struct {
	TraceSegmentDocuments []string `json:"TraceSegmentDocuments"`
}

// UnprocessedTraceSegment is one rejected document.
type UnprocessedTraceSegment struct {
	ID        string `json:"Id,omitempty"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

// PutTraceSegmentsOutput answers PutTraceSegments.
type PutTraceSegmentsOutput struct {
	UnprocessedTraceSegments []UnprocessedTraceSegment `json:"UnprocessedTraceSegments"`
}

// BatchGetTracesInput is the body of POST /Traces.
type BatchGetTracesInput struct {
	TraceIDs  []string `json:"TraceIds"`
	NextToken *string  `json:"NextToken,omitempty"`
}

// Segment is one document of a trace, its JSON as a string.
type Segment struct {
	ID       string `json:"Id"`
	Document string `json:"Document"`
}

// Trace is one trace in BatchGetTraces' answer.
type Trace struct {
	ID            string    `json:"Id"`
	Duration      *float64  `json:"Duration,omitempty"`
	LimitExceeded bool      `json:"LimitExceeded"`
	Segments      []Segment `json:"Segments"`
}

// BatchGetTracesOutput answers BatchGetTraces.
type BatchGetTracesOutput struct {
	Traces              []Trace  `json:"Traces"`
	UnprocessedTraceIDs []string `json:"UnprocessedTraceIds"`
	NextToken           *string  `json:"NextToken,omitempty"`
}

// SamplingStrategy is GetTraceSummaries' SamplingStrategy.
type SamplingStrategy struct {
	Name  string  `json:"Name"`
	Value float64 `json:"Value"`
}

// GetTraceSummariesInput is the body of POST /TraceSummaries.
type GetTraceSummariesInput struct {
	StartTime        *Time             `json:"StartTime"`
	EndTime          *Time             `json:"EndTime"`
	TimeRangeType    string            `json:"TimeRangeType,omitempty"`
	Sampling         bool              `json:"Sampling,omitempty"`
	SamplingStrategy *SamplingStrategy `json:"SamplingStrategy,omitempty"`
	FilterExpression string            `json:"FilterExpression,omitempty"`
	NextToken        string            `json:"NextToken,omitempty"`
}

// GetTraceSummariesOutput answers GetTraceSummaries.
type GetTraceSummariesOutput struct {
	TraceSummaries       []TraceSummary `json:"TraceSummaries"`
	ApproximateTime      float64        `json:"ApproximateTime"`
	TracesProcessedCount int64          `json:"TracesProcessedCount"`
	NextToken            string         `json:"NextToken,omitempty"`
}

// TraceSummary is one trace in GetTraceSummaries' answer (§4.4.3).
type TraceSummary struct {
	ID                     string                           `json:"Id"`
	StartTime              float64                          `json:"StartTime,omitempty"`
	Duration               *float64                         `json:"Duration,omitempty"`
	ResponseTime           *float64                         `json:"ResponseTime,omitempty"`
	HasFault               bool                             `json:"HasFault"`
	HasError               bool                             `json:"HasError"`
	HasThrottle            bool                             `json:"HasThrottle"`
	IsPartial              bool                             `json:"IsPartial"`
	HTTP                   *HTTP                            `json:"Http,omitempty"`
	Annotations            map[string][]ValueWithServiceIDs `json:"Annotations"`
	Users                  []TraceUser                      `json:"Users"`
	ServiceIDs             []ServiceID                      `json:"ServiceIds"`
	ResourceARNs           []ResourceARNDetail              `json:"ResourceARNs"`
	InstanceIDs            []InstanceIDDetail               `json:"InstanceIds"`
	AvailabilityZones      []AvailabilityZoneDetail         `json:"AvailabilityZones"`
	EntryPoint             *ServiceID                       `json:"EntryPoint,omitempty"`
	FaultRootCauses        []json.RawMessage                `json:"FaultRootCauses"`
	ErrorRootCauses        []json.RawMessage                `json:"ErrorRootCauses"`
	ResponseTimeRootCauses []json.RawMessage                `json:"ResponseTimeRootCauses"`
	Revision               int                              `json:"Revision"`
	MatchedEventTime       *float64                         `json:"MatchedEventTime,omitempty"`
	// ColdStart is thaw's extension: whether the trace's Lambda invocation
	// was a cold start, when known. X-Ray clients ignore unknown members.
	ColdStart *bool `json:"ColdStart,omitempty"`
}

// HTTP is TraceSummary.Http.
type HTTP struct {
	HTTPURL    string `json:"HttpURL,omitempty"`
	HTTPStatus int    `json:"HttpStatus,omitempty"`
	HTTPMethod string `json:"HttpMethod,omitempty"`
	UserAgent  string `json:"UserAgent,omitempty"`
	ClientIP   string `json:"ClientIp,omitempty"`
}

// ServiceID names a service-graph node.
type ServiceID struct {
	Name      string   `json:"Name,omitempty"`
	Names     []string `json:"Names"`
	AccountID string   `json:"AccountId,omitempty"`
	Type      string   `json:"Type,omitempty"`
}

// AnnotationValue holds exactly one value.
type AnnotationValue struct {
	NumberValue  *float64 `json:"NumberValue,omitempty"`
	BooleanValue *bool    `json:"BooleanValue,omitempty"`
	StringValue  *string  `json:"StringValue,omitempty"`
}

// ValueWithServiceIDs is one annotation value and who recorded it.
type ValueWithServiceIDs struct {
	AnnotationValue AnnotationValue `json:"AnnotationValue"`
	ServiceIDs      []ServiceID     `json:"ServiceIds"`
}

// TraceUser is one segment user and who recorded it.
type TraceUser struct {
	UserName   string      `json:"UserName"`
	ServiceIDs []ServiceID `json:"ServiceIds"`
}

// ResourceARNDetail is one resource ARN.
type ResourceARNDetail struct {
	ARN string `json:"ARN"`
}

// InstanceIDDetail is one EC2 instance id.
type InstanceIDDetail struct {
	ID string `json:"Id"`
}

// AvailabilityZoneDetail is one availability zone.
type AvailabilityZoneDetail struct {
	Name string `json:"Name"`
}

// SamplingRule is an X-Ray sampling rule.
type SamplingRule struct {
	RuleName      string            `json:"RuleName"`
	RuleARN       string            `json:"RuleARN"`
	ResourceARN   string            `json:"ResourceARN"`
	Priority      int               `json:"Priority"`
	FixedRate     float64           `json:"FixedRate"`
	ReservoirSize int               `json:"ReservoirSize"`
	ServiceName   string            `json:"ServiceName"`
	ServiceType   string            `json:"ServiceType"`
	Host          string            `json:"Host"`
	HTTPMethod    string            `json:"HTTPMethod"`
	URLPath       string            `json:"URLPath"`
	Version       int               `json:"Version"`
	Attributes    map[string]string `json:"Attributes"`
}

// SamplingRuleRecord is a rule with its timestamps.
type SamplingRuleRecord struct {
	SamplingRule SamplingRule `json:"SamplingRule"`
	CreatedAt    float64      `json:"CreatedAt"`
	ModifiedAt   float64      `json:"ModifiedAt"`
}

// GetSamplingRulesOutput answers GetSamplingRules.
type GetSamplingRulesOutput struct {
	SamplingRuleRecords []SamplingRuleRecord `json:"SamplingRuleRecords"`
}

// SamplingStatisticsDocument is one client's counts for one rule.
type SamplingStatisticsDocument struct {
	RuleName     string `json:"RuleName"`
	ClientID     string `json:"ClientID"`
	RequestCount int64  `json:"RequestCount"`
	SampledCount int64  `json:"SampledCount"`
	BorrowCount  int64  `json:"BorrowCount"`
	Timestamp    Time   `json:"Timestamp"`
}

// GetSamplingTargetsInput is the body of POST /SamplingTargets.
type GetSamplingTargetsInput struct {
	SamplingStatisticsDocuments []SamplingStatisticsDocument `json:"SamplingStatisticsDocuments"`
}

// SamplingTargetDocument is one rule's target for a client.
type SamplingTargetDocument struct {
	RuleName          string   `json:"RuleName"`
	FixedRate         float64  `json:"FixedRate"`
	ReservoirQuota    *int     `json:"ReservoirQuota,omitempty"`
	ReservoirQuotaTTL *float64 `json:"ReservoirQuotaTTL,omitempty"`
	Interval          *int     `json:"Interval,omitempty"`
}

// UnprocessedStatistics is a statistics document the server did not take.
type UnprocessedStatistics struct {
	RuleName  string `json:"RuleName,omitempty"`
	ErrorCode string `json:"ErrorCode,omitempty"`
	Message   string `json:"Message,omitempty"`
}

// GetSamplingTargetsOutput answers GetSamplingTargets.
type GetSamplingTargetsOutput struct {
	SamplingTargetDocuments []SamplingTargetDocument `json:"SamplingTargetDocuments"`
	LastRuleModification    float64                  `json:"LastRuleModification"`
	UnprocessedStatistics   []UnprocessedStatistics  `json:"UnprocessedStatistics"`
}
