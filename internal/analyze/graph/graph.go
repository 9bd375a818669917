// Package graph computes X-Ray's service graph, what GetServiceGraph
// returns, from assembled traces (spec/xray.md §6.1–6.5): nodes for the
// instrumented services, the services they call and their clients, edges
// between them, and per node and per edge the statistics and histograms.
//
// A Graph is an aggregate that adding traces and merging other graphs build
// in any order with the same result, so a store can keep one per time
// bucket and merge the buckets of a query window. The package is pure: no
// I/O, and it imports only segment, analyze/summary (for node identity and
// the inferred-call walk), bytesreader (to decode its encoding) and the
// standard library.
package graph

import (
	"math"

	"github.com/thawtrace/thaw/internal/analyze/summary"
	"github.com/thawtrace/thaw/internal/segment"
)

// Node states (spec/xray.md §4.3).
const (
	StateActive  = "active"  // an instrumented service: it sent segments
	StateUnknown = "unknown" // an inferred or client node
)

// TypeClient is the type of the client node in front of each root node.
const TypeClient = "client"

// NodeKey is a node's identity: name, type and account (spec/xray.md §6.2).
// Type is the origin of an instrumented node, empty when it has none.
type NodeKey struct {
	Name, Type, AccountID string
}

func keyOf(id summary.ServiceID) NodeKey {
	return NodeKey{Name: id.Name, Type: id.Type, AccountID: id.AccountID}
}

// Graph is the service graph of the traces added to it. The zero value is
// an empty graph ready to use. A Graph is not safe for concurrent use.
type Graph struct {
	nodes map[NodeKey]*node
	edges map[edgeKey]*edge
}

// node accumulates one node. Inferred nodes take their statistics from the
// calls that infer them, instrumented nodes from their own segments.
type node struct {
	active bool // an instrumented node; else inferred
	// root says the node was the entry point of some trace; rootStats then
	// holds its statistics as an entry point only, which its client edge
	// reports.
	root      bool
	stats     stats
	rootStats stats
	// duration is the end-to-end duration including subsegments that end
	// after the segment (DurationHistogram); stats.hist is the segment's
	// own end − start (ResponseTimeHistogram).
	duration     histogram
	rootDuration histogram
}

type edgeKey struct{ from, to NodeKey }

// edge accumulates one edge; its statistics come from the calling entity.
type edge struct {
	stats   stats
	aliases map[alias]struct{}
}

type alias struct{ name, typ string }

// stats are the counts of §6.4, plus the activity window and the
// histogram of durations of the entities counted.
type stats struct {
	ok, errOther, throttle, fault, total int64
	// responseMicros is TotalResponseTime in whole microseconds: integer
	// sums do not depend on the order of additions.
	responseMicros int64
	// start and end are the earliest start and latest end seen, zero when
	// none; start counts in-progress entities too.
	start, end float64
	hist       histogram
}

// add counts one entity, which must be complete, with duration d.
func (s *stats) add(e *segment.Entity, d float64) {
	fault, errored, throttled := classify(e)
	switch {
	case fault:
		s.fault++
	case throttled:
		s.throttle++
	case errored:
		s.errOther++
	default:
		s.ok++
	}
	s.total++
	s.responseMicros += int64(math.Round(d * 1e6))
	s.hist.add(d)
}

// window widens the activity window to cover e.
func (s *stats) window(e *segment.Entity) {
	if e.StartTime > 0 && (s.start == 0 || e.StartTime < s.start) {
		s.start = e.StartTime
	}
	if e.Complete() && e.EndTime > s.end {
		s.end = e.EndTime
	}
}

func (s *stats) merge(o *stats) {
	s.ok += o.ok
	s.errOther += o.errOther
	s.throttle += o.throttle
	s.fault += o.fault
	s.total += o.total
	s.responseMicros += o.responseMicros
	if o.start != 0 && (s.start == 0 || o.start < s.start) {
		s.start = o.start
	}
	s.end = max(s.end, o.end)
	s.hist.merge(&o.hist)
}

// classify applies spec/xray.md §6.4: fault (flag or 5xx) wins over error
// (flag, throttle flag or 4xx); a throttle is the throttle flag or 429.
func classify(e *segment.Entity) (fault, errored, throttled bool) {
	status := 0
	if e.HTTP != nil && e.HTTP.Response != nil {
		status = e.HTTP.Response.Status
	}
	if e.Fault || (status >= 500 && status < 600) {
		return true, false, false
	}
	throttled = e.Throttle || status == 429
	errored = throttled || e.Error || (status >= 400 && status < 500)
	return false, errored, throttled
}

func (g *Graph) node(k NodeKey) *node {
	if g.nodes == nil {
		g.nodes = make(map[NodeKey]*node)
	}
	n := g.nodes[k]
	if n == nil {
		n = &node{}
		g.nodes[k] = n
	}
	return n
}

func (g *Graph) edge(from, to NodeKey) *edge {
	if g.edges == nil {
		g.edges = make(map[edgeKey]*edge)
	}
	k := edgeKey{from, to}
	e := g.edges[k]
	if e == nil {
		e = &edge{}
		g.edges[k] = e
	}
	return e
}

// Merge adds other's nodes, edges and statistics to g, as if the traces
// added to other had been added to g. other is not modified and shares
// nothing with g afterwards.
func (g *Graph) Merge(other *Graph) {
	for k, o := range other.nodes {
		n := g.node(k)
		n.active = n.active || o.active
		n.root = n.root || o.root
		n.stats.merge(&o.stats)
		n.rootStats.merge(&o.rootStats)
		n.duration.merge(&o.duration)
		n.rootDuration.merge(&o.rootDuration)
	}
	for k, o := range other.edges {
		e := g.edge(k.from, k.to)
		e.stats.merge(&o.stats)
		for a := range o.aliases {
			e.addAlias(a)
		}
	}
}

func (e *edge) addAlias(a alias) {
	if e.aliases == nil {
		e.aliases = make(map[alias]struct{}, 1)
	}
	e.aliases[a] = struct{}{}
}

// Clone returns a deep copy of g.
func (g *Graph) Clone() *Graph {
	c := &Graph{}
	c.Merge(g)
	return c
}

// Len returns the number of nodes, not counting client nodes.
func (g *Graph) Len() int { return len(g.nodes) }

// Reset empties g, keeping its maps' storage.
func (g *Graph) Reset() {
	clear(g.nodes)
	clear(g.edges)
}
