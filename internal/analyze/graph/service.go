package graph

import (
	"cmp"
	"maps"
	"slices"
)

// Service is a node of the graph in X-Ray's wire shape (spec/xray.md §4.3).
// Client nodes have no statistics or histograms of their own.
type Service struct {
	ReferenceID           int              `json:"ReferenceId"`
	Name                  string           `json:"Name"`
	Names                 []string         `json:"Names"`
	Root                  bool             `json:"Root,omitempty"`
	AccountID             string           `json:"AccountId,omitempty"`
	Type                  string           `json:"Type,omitempty"`
	State                 string           `json:"State"`
	StartTime             float64          `json:"StartTime"`
	EndTime               float64          `json:"EndTime"`
	Edges                 []Edge           `json:"Edges"`
	SummaryStatistics     *Statistics      `json:"SummaryStatistics,omitempty"`
	DurationHistogram     []HistogramEntry `json:"DurationHistogram,omitempty"`
	ResponseTimeHistogram []HistogramEntry `json:"ResponseTimeHistogram,omitempty"`
}

// Edge is a call from the Service that lists it to the Service whose
// ReferenceID it carries. Its statistics are the caller's view: the
// calling entity's status and duration.
type Edge struct {
	ReferenceID           int              `json:"ReferenceId"`
	StartTime             float64          `json:"StartTime"`
	EndTime               float64          `json:"EndTime"`
	SummaryStatistics     Statistics       `json:"SummaryStatistics"`
	ResponseTimeHistogram []HistogramEntry `json:"ResponseTimeHistogram"`
	Aliases               []Alias          `json:"Aliases"`
}

// Statistics is X-Ray's ServiceStatistics and EdgeStatistics, which have
// the same members.
type Statistics struct {
	OkCount           int64           `json:"OkCount"`
	ErrorStatistics   ErrorStatistics `json:"ErrorStatistics"`
	FaultStatistics   FaultStatistics `json:"FaultStatistics"`
	TotalCount        int64           `json:"TotalCount"`
	TotalResponseTime float64         `json:"TotalResponseTime"`
}

// ErrorStatistics counts client errors (4xx); throttles are 429s.
type ErrorStatistics struct {
	ThrottleCount int64 `json:"ThrottleCount"`
	OtherCount    int64 `json:"OtherCount"`
	TotalCount    int64 `json:"TotalCount"`
}

// FaultStatistics counts server faults (5xx).
type FaultStatistics struct {
	OtherCount int64 `json:"OtherCount"`
	TotalCount int64 `json:"TotalCount"`
}

// HistogramEntry is a duration in seconds, rounded to milliseconds, and how
// many entities took it.
type HistogramEntry struct {
	Value float64 `json:"Value"`
	Count int64   `json:"Count"`
}

// Alias is another name a caller uses for the service an edge leads to.
type Alias struct {
	Name  string   `json:"Name"`
	Names []string `json:"Names"`
	Type  string   `json:"Type"`
}

func (s *stats) statistics() Statistics {
	return Statistics{
		OkCount: s.ok,
		ErrorStatistics: ErrorStatistics{
			ThrottleCount: s.throttle,
			OtherCount:    s.errOther,
			TotalCount:    s.throttle + s.errOther,
		},
		FaultStatistics:   FaultStatistics{OtherCount: s.fault, TotalCount: s.fault},
		TotalCount:        s.total,
		TotalResponseTime: float64(s.responseMicros) / 1e6,
	}
}

// entry is a Service being built: a node, or the client of a root node.
type entry struct {
	key    NodeKey
	client bool // key is then the root node's
	n      *node
}

func compareEntries(a, b entry) int {
	at, bt := a.key.Type, b.key.Type
	if a.client {
		at = TypeClient
	}
	if b.client {
		bt = TypeClient
	}
	return cmp.Or(
		cmp.Compare(a.key.Name, b.key.Name),
		cmp.Compare(at, bt),
		cmp.Compare(a.key.AccountID, b.key.AccountID),
		// A client node and a node typed "client" by its origin.
		compareBool(a.client, b.client),
		cmp.Compare(a.key.Type, b.key.Type),
	)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Services returns the graph in X-Ray's wire shape: one Service per node
// plus a client node, with a single edge, in front of each root node
// (spec/xray.md §6.2). Services are ordered by name, type and account, and
// their ReferenceIDs are their positions; edges are ordered by ReferenceID,
// aliases by name and type. The result is never nil and shares nothing
// with g. Times are as recorded: aligning them to whole seconds, as AWS
// does, is the caller's choice.
func (g *Graph) Services() []Service {
	entries := make([]entry, 0, len(g.nodes)+2)
	for k, n := range g.nodes {
		entries = append(entries, entry{key: k, n: n})
		if n.root {
			entries = append(entries, entry{key: k, client: true, n: n})
		}
	}
	slices.SortFunc(entries, compareEntries)
	ref := make(map[NodeKey]int, len(g.nodes))
	for i, e := range entries {
		if !e.client {
			ref[e.key] = i
		}
	}
	out := make([]Service, len(entries))
	for i, e := range entries {
		s := &out[i]
		s.ReferenceID = i
		s.Name = e.key.Name
		s.Names = []string{e.key.Name}
		s.Edges = []Edge{}
		if e.client {
			s.Type = TypeClient
			s.State = StateUnknown
			s.StartTime, s.EndTime = e.n.rootStats.start, e.n.rootStats.end
			s.Edges = append(s.Edges, Edge{
				ReferenceID:           ref[e.key],
				StartTime:             e.n.rootStats.start,
				EndTime:               e.n.rootStats.end,
				SummaryStatistics:     e.n.rootStats.statistics(),
				ResponseTimeHistogram: e.n.rootStats.hist.entries(),
				Aliases:               []Alias{},
			})
			continue
		}
		s.Root = e.n.root
		s.AccountID = e.key.AccountID
		s.Type = e.key.Type
		s.State = StateUnknown
		if e.n.active {
			s.State = StateActive
		}
		s.StartTime, s.EndTime = e.n.stats.start, e.n.stats.end
		st := e.n.stats.statistics()
		s.SummaryStatistics = &st
		s.DurationHistogram = e.n.duration.entries()
		s.ResponseTimeHistogram = e.n.stats.hist.entries()
	}
	for k, e := range g.edges {
		s := &out[ref[k.from]]
		s.Edges = append(s.Edges, Edge{
			ReferenceID:           ref[k.to],
			StartTime:             e.stats.start,
			EndTime:               e.stats.end,
			SummaryStatistics:     e.stats.statistics(),
			ResponseTimeHistogram: e.stats.hist.entries(),
			Aliases:               aliases(e.aliases),
		})
	}
	for i := range out {
		slices.SortFunc(out[i].Edges, func(a, b Edge) int { return cmp.Compare(a.ReferenceID, b.ReferenceID) })
	}
	return out
}

func aliases(set map[alias]struct{}) []Alias {
	keys := slices.SortedFunc(maps.Keys(set), func(a, b alias) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.typ, b.typ))
	})
	out := make([]Alias, len(keys))
	for i, a := range keys {
		out[i] = Alias{Name: a.name, Names: []string{a.name}, Type: a.typ}
	}
	return out
}
