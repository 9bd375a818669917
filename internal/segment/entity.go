package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// Entity is a segment or subsegment anywhere in a document, with the fields
// thaw's analysis reads. Fields it does not model stay in the document's raw
// bytes (see [Document]), which is what the read API returns.
type Entity struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	TraceID     string  `json:"trace_id,omitempty"`
	ParentID    string  `json:"parent_id,omitempty"`
	Type        string  `json:"type,omitempty"`
	StartTime   float64 `json:"start_time"`
	EndTime     float64 `json:"end_time,omitempty"`
	InProgress  bool    `json:"in_progress,omitempty"`
	Namespace   string  `json:"namespace,omitempty"`
	Origin      string  `json:"origin,omitempty"`
	User        string  `json:"user,omitempty"`
	ResourceARN string  `json:"resource_arn,omitempty"`
	Error       bool    `json:"error,omitempty"`
	Fault       bool    `json:"fault,omitempty"`
	Throttle    bool    `json:"throttle,omitempty"`
	Inferred    bool    `json:"inferred,omitempty"`
	// Traced at the top level of a subsegment is where some producers put
	// http.request.traced (spec/xray.md §2.4); use CallsTraced to read
	// either.
	Traced bool `json:"traced,omitempty"`

	HTTP        *HTTP          `json:"http,omitempty"`
	AWS         *AWS           `json:"aws,omitempty"`
	Service     *Service       `json:"service,omitempty"`
	Cause       *Cause         `json:"cause,omitempty"`
	SQL         map[string]any `json:"sql,omitempty"`
	Annotations map[string]any `json:"annotations,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	Links       []Link         `json:"links,omitempty"`

	PrecursorIDs []string  `json:"precursor_ids,omitempty"`
	Subsegments  []*Entity `json:"subsegments,omitempty"`
}

// CallsTraced reports whether the subsegment calls an instrumented
// downstream service, whose segment the trace should then hold: traced at
// the top level or in http.request.
func (e *Entity) CallsTraced() bool {
	return e.Traced || (e.HTTP != nil && e.HTTP.Request != nil && e.HTTP.Request.Traced)
}

// IsSubsegment reports whether the entity is a subsegment document (type
// "subsegment"). Embedded subsegments need not say so.
func (e *Entity) IsSubsegment() bool { return e.Type == "subsegment" }

// Complete reports whether the entity has ended.
func (e *Entity) Complete() bool { return !e.InProgress && e.EndTime != 0 }

// Duration is end − start in seconds, clamped at zero; zero while in progress.
func (e *Entity) Duration() float64 {
	if !e.Complete() || e.EndTime < e.StartTime {
		return 0
	}
	return e.EndTime - e.StartTime
}

// Walk calls fn for e and every subsegment below it, depth first, parents
// before children; parent is nil for e itself. It stops when fn returns false.
func (e *Entity) Walk(fn func(ent, parent *Entity) bool) bool {
	return e.walk(nil, fn)
}

func (e *Entity) walk(parent *Entity, fn func(ent, parent *Entity) bool) bool {
	if !fn(e, parent) {
		return false
	}
	for _, s := range e.Subsegments {
		if !s.walk(e, fn) {
			return false
		}
	}
	return true
}

// HTTP is the entity's http object.
type HTTP struct {
	Request  *HTTPRequest  `json:"request,omitempty"`
	Response *HTTPResponse `json:"response,omitempty"`
}

// HTTPRequest is http.request.
type HTTPRequest struct {
	Method        string `json:"method,omitempty"`
	URL           string `json:"url,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
	ClientIP      string `json:"client_ip,omitempty"`
	XForwardedFor bool   `json:"x_forwarded_for,omitempty"`
	Traced        bool   `json:"traced,omitempty"`
}

// HTTPResponse is http.response. ContentLength accepts a number or a numeric
// string, as some producers send one.
type HTTPResponse struct {
	Status        int     `json:"status,omitempty"`
	ContentLength FlexInt `json:"content_length,omitempty"`
}

// FlexInt is an integer that may arrive as a JSON number or a numeric string.
type FlexInt int64

// UnmarshalJSON accepts 12, 12.0, "12" and null.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	if v, ok := parseFlexInt(b); ok {
		*n = v
	}
	return nil
}

// parseFlexInt reads a FlexInt from the JSON value b as written. It reports
// false for null and for anything that is not a number, which the decoders
// tolerate: the raw document keeps the original value.
func parseFlexInt(b []byte) (FlexInt, bool) {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, false
	}
	return FlexInt(f), true
}

// AWS is the entity's aws object: resource fields on segments, call fields on
// subsegments. Only the fields analysis needs are modelled.
type AWS struct {
	AccountID     string   `json:"account_id,omitempty"`
	Operation     string   `json:"operation,omitempty"`
	Region        string   `json:"region,omitempty"`
	RequestID     string   `json:"request_id,omitempty"`
	TableName     string   `json:"table_name,omitempty"`
	QueueURL      string   `json:"queue_url,omitempty"`
	BucketName    string   `json:"bucket_name,omitempty"`
	TopicARN      string   `json:"topic_arn,omitempty"`
	FunctionName  string   `json:"function_name,omitempty"`
	FunctionARN   string   `json:"function_arn,omitempty"`
	ResourceNames []string `json:"resource_names,omitempty"`
	EC2           *EC2     `json:"ec2,omitempty"`
	ECS           *ECS     `json:"ecs,omitempty"`
	XRay          *XRay    `json:"xray,omitempty"`
	Retries       FlexInt  `json:"retries,omitempty"`
}

// EC2 is aws.ec2.
type EC2 struct {
	InstanceID       string `json:"instance_id,omitempty"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
}

// ECS is aws.ecs.
type ECS struct {
	Container        string `json:"container,omitempty"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
}

// XRay is aws.xray.
type XRay struct {
	SDK              string `json:"sdk,omitempty"`
	SDKVersion       string `json:"sdk_version,omitempty"`
	SamplingRuleName string `json:"sampling_rule_name,omitempty"`
}

// Service is the segment's service object.
type Service struct {
	Version string `json:"version,omitempty"`
}

// Link is a span link (OTel, SQS → Lambda).
type Link struct {
	TraceID    string         `json:"trace_id,omitempty"`
	ID         string         `json:"id,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Cause is the entity's cause: either an exception id that refers to an
// exception recorded elsewhere in the trace, or a list of exceptions. Decode
// leaves Entity.Cause nil when the cause is empty ({}) or of an invalid shape
// (a number, an array): such a cause is dropped and the document kept.
type Cause struct {
	ExceptionID      string      `json:"-"`
	WorkingDirectory string      `json:"working_directory,omitempty"`
	Paths            []string    `json:"paths,omitempty"`
	Exceptions       []Exception `json:"exceptions,omitempty"`
}

// UnmarshalJSON accepts the object form and the 16-hex exception-id form. Any
// other shape is ignored, keeping the document (spec/xray.md §2.7).
func (c *Cause) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err == nil {
			c.ExceptionID = s
		}
		return nil
	case '{':
		type plain Cause
		var p plain
		if err := json.Unmarshal(b, &p); err != nil {
			// A mistyped field inside (say a numeric exception id) leaves
			// that field zero; the rest is still worth keeping.
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				return nil
			}
		}
		*c = Cause(p)
	}
	return nil
}

// empty reports whether c carries nothing: absent, {}, or a shape that was
// ignored. Decode drops such causes.
func (c *Cause) empty() bool {
	return c.ExceptionID == "" && c.WorkingDirectory == "" && len(c.Paths) == 0 && len(c.Exceptions) == 0
}

// Exception is one element of cause.exceptions.
type Exception struct {
	ID      string `json:"id,omitempty"`
	Type    string `json:"type,omitempty"`
	Message string `json:"message,omitempty"`
	Remote  bool   `json:"remote,omitempty"`
	Cause   string `json:"cause,omitempty"`
}
