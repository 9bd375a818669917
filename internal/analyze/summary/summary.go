// Package summary computes trace summaries, what GetTraceSummaries returns,
// from assembled traces (spec/xray.md §6.6). It is pure: no I/O, and it
// imports only segment and the standard library.
package summary

// Summary is the summary of one assembled trace. Field names follow X-Ray's
// TraceSummary; the JSON form is also what the embedded store persists.
type Summary struct {
	ID           string  `json:"Id"`
	StartTime    float64 `json:"StartTime"`          // min start_time over segments
	EndTime      float64 `json:"EndTime,omitempty"`  // max end_time over completed entities (not in X-Ray's shape)
	Duration     float64 `json:"Duration,omitempty"` // EndTime − StartTime, when anything completed
	ResponseTime float64 `json:"ResponseTime,omitempty"`
	HasDuration  bool    `json:"HasDuration,omitempty"`
	HasResponse  bool    `json:"HasResponseTime,omitempty"`
	HasFault     bool    `json:"HasFault"`
	HasError     bool    `json:"HasError"`
	HasThrottle  bool    `json:"HasThrottle"`
	IsPartial    bool    `json:"IsPartial"`

	HTTP              *HTTP                            `json:"Http,omitempty"`
	Annotations       map[string][]ValueWithServiceIDs `json:"Annotations,omitempty"`
	Users             []User                           `json:"Users,omitempty"`
	ServiceIDs        []ServiceID                      `json:"ServiceIds,omitempty"`
	ResourceARNs      []string                         `json:"ResourceARNs,omitempty"`
	InstanceIDs       []string                         `json:"InstanceIds,omitempty"`
	AvailabilityZones []string                         `json:"AvailabilityZones,omitempty"`
	EntryPoint        *ServiceID                       `json:"EntryPoint,omitempty"`

	FaultRootCauses        []RootCause `json:"FaultRootCauses,omitempty"`
	ErrorRootCauses        []RootCause `json:"ErrorRootCauses,omitempty"`
	ResponseTimeRootCauses []RootCause `json:"ResponseTimeRootCauses,omitempty"`
	Revision               int         `json:"Revision"`

	// ColdStart is set when the trace holds a Lambda function invocation
	// whose cold-start state is known; ColdStartSource says from what
	// ("initialization-subsegment", "restore-subsegment",
	// "platform-segments", "annotation": see the Source constants).
	ColdStart       *bool  `json:"ColdStart,omitempty"`
	ColdStartSource string `json:"ColdStartSource,omitempty"`

	// Events are the start and end times of every segment, for
	// TimeRangeType Event and Service queries.
	Events []Event `json:"Events,omitempty"`
}

// Event is one segment's activity window.
type Event struct {
	Start float64 `json:"s"`
	End   float64 `json:"e,omitempty"`
}

// HTTP is the root segment's request and response.
type HTTP struct {
	HTTPURL    string `json:"HttpURL,omitempty"`
	HTTPStatus int    `json:"HttpStatus,omitempty"`
	HTTPMethod string `json:"HttpMethod,omitempty"`
	UserAgent  string `json:"UserAgent,omitempty"`
	ClientIP   string `json:"ClientIp,omitempty"`
}

// ServiceID names a graph node.
type ServiceID struct {
	Name      string   `json:"Name,omitempty"`
	Names     []string `json:"Names,omitempty"`
	AccountID string   `json:"AccountId,omitempty"`
	Type      string   `json:"Type,omitempty"`
}

// AnnotationValue holds exactly one of its fields.
type AnnotationValue struct {
	NumberValue  *float64 `json:"NumberValue,omitempty"`
	BooleanValue *bool    `json:"BooleanValue,omitempty"`
	StringValue  *string  `json:"StringValue,omitempty"`
}

// ValueWithServiceIDs is one distinct annotation value and the services that
// recorded it.
type ValueWithServiceIDs struct {
	AnnotationValue AnnotationValue `json:"AnnotationValue"`
	ServiceIDs      []ServiceID     `json:"ServiceIds,omitempty"`
}

// User is one distinct segment user and the services that recorded it.
type User struct {
	UserName   string      `json:"UserName"`
	ServiceIDs []ServiceID `json:"ServiceIds,omitempty"`
}
