package summary

import (
	"math"
	"slices"
	"strings"

	"github.com/thawtrace/thaw/internal/segment"
)

// RootCause is one fault, error or response-time root cause of a trace
// (spec/xray.md §6.7): the chain of services from the root to the culprit.
type RootCause struct {
	Services        []RootCauseService `json:"Services"`
	ClientImpacting bool               `json:"ClientImpacting"`
}

// RootCauseService is one service on a root cause's chain, with the path of
// its entities that leads onward.
type RootCauseService struct {
	Name       string            `json:"Name"`
	Names      []string          `json:"Names"`
	Type       string            `json:"Type,omitempty"`
	AccountID  string            `json:"AccountId,omitempty"`
	Inferred   bool              `json:"Inferred"`
	EntityPath []RootCauseEntity `json:"EntityPath"`
}

// RootCauseEntity is one entity on a path. Exceptions are set for fault and
// error causes, Coverage for response-time ones.
type RootCauseEntity struct {
	Name       string               `json:"Name"`
	Exceptions []RootCauseException `json:"Exceptions,omitempty"`
	Coverage   *float64             `json:"Coverage,omitempty"`
	Remote     bool                 `json:"Remote"`
}

// RootCauseException names an exception recorded on an entity.
type RootCauseException struct {
	Name    string `json:"Name,omitempty"`
	Message string `json:"Message,omitempty"`
}

// coverageScale is the precision of Coverage: four decimals, which is all a
// share of response time needs, and which stores in two bytes.
const coverageScale = 1e4

// minCoverage stops the response-time descent at children that account for
// less than this share of the root's response time.
const minCoverage = 0.1

// causeTree links a trace's entities across services: an entity's children
// are its subsegments and the segments whose parent_id is its id.
type causeTree struct {
	root       *segment.Entity
	downstream map[string][]*segment.Entity // parent_id → segments
	isSegment  map[*segment.Entity]bool
	segs       []*segment.Document
	kids       map[*segment.Entity][]*segment.Entity // children, computed once
}

func newCauseTree(root *segment.Entity, segs []*segment.Document) *causeTree {
	ct := &causeTree{root: root, downstream: make(map[string][]*segment.Entity, len(segs)), isSegment: make(map[*segment.Entity]bool, len(segs)), segs: segs}
	for _, d := range segs {
		ct.isSegment[d.Entity] = true
		if d.ParentID != "" && d.Entity != root {
			ct.downstream[d.ParentID] = append(ct.downstream[d.ParentID], d.Entity)
		}
	}
	return ct
}

func (ct *causeTree) children(e *segment.Entity) []*segment.Entity {
	down := ct.downstream[e.ID]
	if len(down) == 0 {
		return e.Subsegments // the walks only read it
	}
	if out, ok := ct.kids[e]; ok {
		return out
	}
	out := make([]*segment.Entity, 0, len(e.Subsegments)+len(down))
	out = append(out, e.Subsegments...)
	out = append(out, down...)
	slices.SortStableFunc(out, compareStart)
	if ct.kids == nil {
		ct.kids = map[*segment.Entity][]*segment.Entity{}
	}
	ct.kids[e] = out
	return out
}

// rootCauses computes the three kinds of root cause of a trace whose root
// segment is root.
func rootCauses(root *segment.Entity, segs []*segment.Document) (fault, errs, slow []RootCause) {
	if root == nil {
		return nil, nil, nil
	}
	ct := newCauseTree(root, segs)
	fault = ct.failures(isFault)
	errs = ct.failures(func(e *segment.Entity) bool { return !isFault(e) && isError(e) })
	if rt := ct.responseTime(); rt != nil {
		slow = []RootCause{*rt}
	}
	return fault, errs, slow
}

// failures finds the deepest entities with the classification: none of
// their descendants, across service boundaries, has it.
func (ct *causeTree) failures(has func(*segment.Entity) bool) []RootCause {
	var out []RootCause
	var seen map[string]bool
	var path []*segment.Entity
	var visit func(e *segment.Entity) bool // reports whether e's subtree has the classification
	visit = func(e *segment.Entity) bool {
		if slices.Contains(path, e) {
			return false // a parent_id loop across documents
		}
		path = append(path, e)
		below := false
		for _, c := range ct.children(e) {
			if visit(c) {
				below = true
			}
		}
		here := e.Complete() && has(e)
		if here && !below {
			rc := ct.chain(path, false)
			rc.ClientImpacting = has(ct.root)
			if key := rc.key(); !seen[key] {
				if seen == nil {
					seen = map[string]bool{}
				}
				seen[key] = true
				out = append(out, rc)
			}
		}
		path = path[:len(path)-1]
		return here || below
	}
	visit(ct.root)
	return out
}

// responseTime descends from the root into the longest child while it
// covers at least minCoverage of the root's response time.
func (ct *causeTree) responseTime() *RootCause {
	total := ct.root.Duration()
	if total <= 0 {
		return nil
	}
	path := []*segment.Entity{ct.root}
	for e := ct.root; ; {
		var best *segment.Entity
		for _, c := range ct.children(e) {
			if c.Complete() && (best == nil || c.Duration() > best.Duration()) && !slices.Contains(path, c) {
				best = c
			}
		}
		if best == nil || best.Duration()/total < minCoverage {
			break
		}
		path = append(path, best)
		e = best
	}
	rc := ct.chain(path, true)
	rc.ClientImpacting = true
	return &rc
}

// chain splits a path of entities from the root at service boundaries.
// A final outermost aws or remote call without a segment of its own ends in
// its inferred service.
func (ct *causeTree) chain(path []*segment.Entity, coverage bool) RootCause {
	var rc RootCause
	total := ct.root.Duration()
	entity := func(e *segment.Entity) RootCauseEntity {
		re := RootCauseEntity{Name: e.Name, Remote: isCall(e)}
		if coverage && total > 0 {
			cv := math.Round(e.Duration()/total*coverageScale) / coverageScale
			re.Coverage = &cv
		} else if e.Cause != nil {
			for _, x := range e.Cause.Exceptions {
				re.Exceptions = append(re.Exceptions, RootCauseException{Name: x.Type, Message: x.Message})
				re.Remote = re.Remote || x.Remote
			}
		}
		return re
	}
	for i, e := range path {
		if ct.isSegment[e] || i == 0 {
			id := NodeOf(e)
			rc.Services = append(rc.Services, RootCauseService{Name: id.Name, Names: id.Names, Type: id.Type, AccountID: id.AccountID})
		}
		svc := &rc.Services[len(rc.Services)-1]
		svc.EntityPath = append(svc.EntityPath, entity(e))
	}
	last := path[len(path)-1]
	if !ct.isSegment[last] && isCall(last) && len(ct.downstream[last.ID]) == 0 {
		if id, ok := InferredNode(last); ok {
			name := last.Name
			if strings.EqualFold(last.Namespace, "aws") {
				name = ServiceName(last.Name)
			}
			inf := entity(last)
			inf.Name = name
			inf.Remote = true
			rc.Services = append(rc.Services, RootCauseService{Name: id.Name, Names: id.Names, Type: id.Type, AccountID: id.AccountID,
				Inferred: true, EntityPath: []RootCauseEntity{inf}})
		}
	}
	return rc
}

// key identifies a root cause for de-duplication.
func (rc RootCause) key() string {
	var b strings.Builder
	for _, s := range rc.Services {
		b.WriteString(s.Name)
		b.WriteByte('\x00')
		b.WriteString(s.Type)
		b.WriteByte('\x01')
		for _, e := range s.EntityPath {
			b.WriteString(e.Name)
			b.WriteByte('\x02')
			for _, x := range e.Exceptions {
				b.WriteString(x.Name)
				b.WriteByte('\x03')
			}
		}
		b.WriteByte('\x04')
	}
	return b.String()
}
