package xrayapi

// GetServiceGraphInput is the body of POST /ServiceGraph.
type GetServiceGraphInput struct {
	StartTime *Time  `json:"StartTime"`
	EndTime   *Time  `json:"EndTime"`
	GroupName string `json:"GroupName,omitempty"`
	GroupARN  string `json:"GroupARN,omitempty"`
	NextToken string `json:"NextToken,omitempty"`
}

// GetServiceGraphOutput answers GetServiceGraph.
type GetServiceGraphOutput struct {
	StartTime                float64   `json:"StartTime"`
	EndTime                  float64   `json:"EndTime"`
	Services                 []Service `json:"Services"`
	ContainsOldGroupVersions bool      `json:"ContainsOldGroupVersions"`
	NextToken                string    `json:"NextToken,omitempty"`
}

// GetTraceGraphInput is the body of POST /TraceGraph.
type GetTraceGraphInput struct {
	TraceIDs  []string `json:"TraceIds"`
	NextToken string   `json:"NextToken,omitempty"`
}

// GetTraceGraphOutput answers GetTraceGraph.
type GetTraceGraphOutput struct {
	Services  []Service `json:"Services"`
	NextToken string    `json:"NextToken,omitempty"`
}

// Service is one node of a service graph (spec/xray.md §4.3).
type Service struct {
	ReferenceID           int              `json:"ReferenceId"`
	Name                  string           `json:"Name,omitempty"`
	Names                 []string         `json:"Names"`
	Root                  bool             `json:"Root,omitempty"`
	AccountID             string           `json:"AccountId,omitempty"`
	Type                  string           `json:"Type,omitempty"`
	State                 string           `json:"State"`
	StartTime             float64          `json:"StartTime,omitempty"`
	EndTime               float64          `json:"EndTime,omitempty"`
	Edges                 []Edge           `json:"Edges"`
	SummaryStatistics     *Statistics      `json:"SummaryStatistics,omitempty"`
	DurationHistogram     []HistogramEntry `json:"DurationHistogram,omitempty"`
	ResponseTimeHistogram []HistogramEntry `json:"ResponseTimeHistogram,omitempty"`
}

// Edge is a call from a node to the node ReferenceID names.
type Edge struct {
	ReferenceID           int              `json:"ReferenceId"`
	StartTime             float64          `json:"StartTime,omitempty"`
	EndTime               float64          `json:"EndTime,omitempty"`
	SummaryStatistics     *Statistics      `json:"SummaryStatistics,omitempty"`
	ResponseTimeHistogram []HistogramEntry `json:"ResponseTimeHistogram,omitempty"`
	Aliases               []Alias          `json:"Aliases"`
}

// Statistics are a node's ServiceStatistics or an edge's EdgeStatistics.
type Statistics struct {
	OkCount           int64           `json:"OkCount"`
	ErrorStatistics   ErrorStatistics `json:"ErrorStatistics"`
	FaultStatistics   FaultStatistics `json:"FaultStatistics"`
	TotalCount        int64           `json:"TotalCount"`
	TotalResponseTime float64         `json:"TotalResponseTime"`
}

// ErrorStatistics counts 4xx responses; throttles are 429s.
type ErrorStatistics struct {
	ThrottleCount int64 `json:"ThrottleCount"`
	OtherCount    int64 `json:"OtherCount"`
	TotalCount    int64 `json:"TotalCount"`
}

// FaultStatistics counts 5xx responses.
type FaultStatistics struct {
	OtherCount int64 `json:"OtherCount"`
	TotalCount int64 `json:"TotalCount"`
}

// HistogramEntry is one bucket: a duration in seconds and its count.
type HistogramEntry struct {
	Value float64 `json:"Value"`
	Count int64   `json:"Count"`
}

// Alias is another name a caller used for a node.
type Alias struct {
	Name  string   `json:"Name"`
	Names []string `json:"Names"`
	Type  string   `json:"Type"`
}

// GetTimeSeriesServiceStatisticsInput is the body of POST
// /TimeSeriesServiceStatistics.
type GetTimeSeriesServiceStatisticsInput struct {
	StartTime                *Time  `json:"StartTime"`
	EndTime                  *Time  `json:"EndTime"`
	GroupName                string `json:"GroupName,omitempty"`
	GroupARN                 string `json:"GroupARN,omitempty"`
	EntitySelectorExpression string `json:"EntitySelectorExpression,omitempty"`
	Period                   *int   `json:"Period,omitempty"`
	ForecastStatistics       bool   `json:"ForecastStatistics,omitempty"`
	NextToken                string `json:"NextToken,omitempty"`
}

// TimeSeriesServiceStatistics is one period's statistics of a node or edge.
type TimeSeriesServiceStatistics struct {
	Timestamp                float64          `json:"Timestamp"`
	EdgeSummaryStatistics    *Statistics      `json:"EdgeSummaryStatistics,omitempty"`
	ServiceSummaryStatistics *Statistics      `json:"ServiceSummaryStatistics,omitempty"`
	ResponseTimeHistogram    []HistogramEntry `json:"ResponseTimeHistogram"`
}

// GetTimeSeriesServiceStatisticsOutput answers
// GetTimeSeriesServiceStatistics.
type GetTimeSeriesServiceStatisticsOutput struct {
	TimeSeriesServiceStatistics []TimeSeriesServiceStatistics `json:"TimeSeriesServiceStatistics"`
	ContainsOldGroupVersions    bool                          `json:"ContainsOldGroupVersions"`
	NextToken                   string                        `json:"NextToken,omitempty"`
}
