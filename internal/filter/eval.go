package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Value is one value of a keyword or an annotation. Its Type selects which of
// Str, Num and Bool is meaningful.
type Value struct {
	Type ValueType
	Str  string
	Num  float64
	Bool bool
}

// StringValue returns a string Value.
func StringValue(s string) Value { return Value{Type: StringType, Str: s} }

// NumberValue returns a number Value.
func NumberValue(f float64) Value { return Value{Type: NumberType, Num: f} }

// BoolValue returns a boolean Value.
func BoolValue(b bool) Value { return Value{Type: BoolType, Bool: b} }

// String formats the value as a filter literal.
func (v Value) String() string {
	switch v.Type {
	case StringType:
		return strconv.Quote(v.Str)
	case NumberType:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case BoolType:
		return strconv.FormatBool(v.Bool)
	}
	return "<invalid>"
}

// Scope is one element of an evaluation context (spec §5.1): the trace, a
// service node, an edge. Field returns the values of a catalog keyword
// (canonical lower-case name, see Keywords) in that element. No values means
// the field is absent: comparisons with it are false and a bare test fails.
// Several values make the field multi-valued: a comparison holds if any value
// satisfies it, != holds if some value has the literal's type and none equals
// it (spec §5.5). Values whose type differs from the keyword's are ignored.
type Scope interface {
	Field(name string) []Value
}

// Trace is what an expression is evaluated against. The query layer
// implements it from a trace summary and, where needed, the assembled trace.
type Trace interface {
	// Field returns trace-level keywords (spec §5.4, scope T): ok, error,
	// throttle, fault, partial, inferred (booleans); responsetime, duration,
	// http.status (numbers, times in seconds); http.url, http.method,
	// http.useragent, http.clientip, user, name, type, message,
	// availabilityzone, instance.id, resource.arn, account.id (strings).
	Scope
	// Annotation returns every value recorded for the annotation key (the
	// key is case-sensitive; several entities may have recorded it).
	Annotation(key string) []Value
	// Services returns the nodes of the trace's service graph.
	Services() []Service
	// Edges returns the edges of the trace's service graph.
	Edges() []Edge
	// RootCauses returns the root causes of kind "fault", "error" or
	// "responsetime".
	RootCauses(kind string) []RootCause
}

// NodeID identifies a service graph node for service(...) and edge(...).
type NodeID struct {
	Name      string   `json:"name,omitempty"`
	Names     []string `json:"names,omitempty"` // other names of the node
	Type      string   `json:"type,omitempty"`
	AccountID string   `json:"account_id,omitempty"`
}

// Service is a graph node. Fields answers the service-context keywords: ok,
// error, throttle, fault, partial, root (booleans), responsetime, duration,
// http.status (numbers), http.url, http.method, http.useragent,
// http.clientip (strings). A nil Fields has no fields.
type Service struct {
	ID     NodeID
	Fields Scope
}

// Edge is a graph edge from Src to Dst. Fields answers the edge-context
// keywords: ok, error, throttle, fault (booleans), responsetime, http.status
// (numbers), http.url, http.method (strings), from the calling
// subsegment(s). A nil Fields has no fields.
type Edge struct {
	Src, Dst NodeID
	Fields   Scope
}

// RootCause is one fault, error or response-time root cause (spec §6.7). It
// mirrors summary.RootCause, field for field, JSON names included.
type RootCause struct {
	Services        []RootCauseService `json:"Services"`
	ClientImpacting bool               `json:"ClientImpacting"`
}

// RootCauseService is one service on a root cause's chain.
type RootCauseService struct {
	Name       string            `json:"Name"`
	Names      []string          `json:"Names"`
	Type       string            `json:"Type,omitempty"`
	AccountID  string            `json:"AccountId,omitempty"`
	Inferred   bool              `json:"Inferred"`
	EntityPath []RootCauseEntity `json:"EntityPath"`
}

// RootCauseEntity is one entity on a root-cause service's path. Coverage is
// set for response-time root causes only.
type RootCauseEntity struct {
	Name       string               `json:"Name"`
	Exceptions []RootCauseException `json:"Exceptions,omitempty"`
	Coverage   *float64             `json:"Coverage,omitempty"`
	Remote     bool                 `json:"Remote"`
}

// RootCauseException is an exception recorded on a root-cause entity.
type RootCauseException struct {
	Name    string `json:"Name,omitempty"`
	Message string `json:"Message,omitempty"`
}

// GroupResolver looks groups up for group.name and group.arn.
type GroupResolver interface {
	// ResolveGroup returns the parsed filter expression of the group with
	// the given name or ARN (exactly one is non-empty) and a key that
	// identifies the group whichever way it was named (for cycle
	// detection). filter is nil for a group without a filter expression,
	// which every trace satisfies. An unknown group is an error.
	ResolveGroup(name, arn string) (filter Expr, key string, err error)
}

// Evaluator evaluates filter expressions. The zero value is ready to use:
// case-sensitive strings, and group.* fails with an error.
type Evaluator struct {
	// FoldCase makes string comparisons (=, !=, CONTAINS, BEGINSWITH,
	// ENDSWITH, and service/edge names in service(), edge() and id())
	// case-insensitive.
	FoldCase bool
	// Groups resolves group.name and group.arn.
	Groups GroupResolver
}

// ErrNoGroups is returned for group.name / group.arn when the Evaluator has
// no GroupResolver.
var ErrNoGroups = errors.New("group references are not supported here")

// ErrGroupCycle is returned when groups reference each other in a cycle.
var ErrGroupCycle = errors.New("group filter expressions reference each other in a cycle")

// Eval reports whether trace t satisfies e with the zero Evaluator.
func Eval(e Expr, t Trace) (bool, error) {
	var ev Evaluator
	return ev.Eval(e, t)
}

// Eval reports whether trace t satisfies e. Errors come only from group
// resolution (unknown group, cycle, no resolver) and from AST nodes the
// parser does not produce.
func (ev *Evaluator) Eval(e Expr, t Trace) (bool, error) {
	st := &evalState{ev: ev, trace: t}
	return st.eval(e, t)
}

type evalState struct {
	ev     *Evaluator
	trace  Trace
	groups []string // keys of the groups being evaluated, outermost first
}

func (st *evalState) eval(e Expr, s Scope) (bool, error) {
	switch e := e.(type) {
	case *BinaryExpr:
		x, err := st.eval(e.X, s)
		if err != nil {
			return false, err
		}
		if e.Op == AND && !x || e.Op == OR && x {
			return x, nil
		}
		return st.eval(e.Y, s)
	case *NotExpr:
		x, err := st.eval(e.X, s)
		return !x && err == nil, err
	case *KeywordExpr:
		return st.bare(e.Name, fieldOf(s, e.Name)), nil
	case *AnnotationExpr:
		return len(st.trace.Annotation(e.Key)) > 0, nil
	case *Comparison:
		var vals []Value
		switch x := e.X.(type) {
		case *KeywordExpr:
			vals = fieldOf(s, x.Name)
		case *AnnotationExpr:
			vals = st.trace.Annotation(x.Key)
		default:
			return false, fmt.Errorf("col %d: cannot evaluate comparison of %T", e.Pos()+1, e.X)
		}
		return st.compare(vals, e.Op, e.Value), nil
	case *ServiceFunc:
		return st.service(e)
	case *EdgeFunc:
		return st.edge(e)
	case *GroupExpr:
		return st.group(e)
	case *RootCauseExpr:
		return st.rootCause(e)
	case *RootCauseJSON:
		return st.rootCauseJSON(e)
	case nil:
		return false, errors.New("cannot evaluate nil expression")
	}
	return false, fmt.Errorf("col %d: cannot evaluate %T", e.Pos()+1, e)
}

func fieldOf(s Scope, name string) []Value {
	if s == nil {
		return nil
	}
	return s.Field(name)
}

// bare evaluates a keyword without operator: any true value for a boolean
// keyword, presence for the others.
func (st *evalState) bare(name string, vals []Value) bool {
	want := StringType
	if info, ok := Keywords[name]; ok {
		want = info.Type
	}
	for _, v := range vals {
		if v.Type != want {
			continue
		}
		if want != BoolType || v.Bool {
			return true
		}
	}
	return false
}

func litType(l *Literal) ValueType {
	switch l.Kind {
	case StringLit:
		return StringType
	case NumberLit:
		return NumberType
	case BoolLit:
		return BoolType
	}
	return 0
}

// compare applies op to every value of the literal's type (spec §5.5).
func (st *evalState) compare(vals []Value, op Kind, l *Literal) bool {
	t := litType(l)
	if op == NEQ {
		seen := false
		for _, v := range vals {
			if v.Type != t {
				continue
			}
			seen = true
			if st.holds(v, EQL, l) {
				return false
			}
		}
		return seen
	}
	for _, v := range vals {
		if v.Type == t && st.holds(v, op, l) {
			return true
		}
	}
	return false
}

// holds applies op (not NEQ) to a value of the literal's type.
func (st *evalState) holds(v Value, op Kind, l *Literal) bool {
	switch v.Type {
	case BoolType:
		return op == EQL && v.Bool == l.Bool
	case NumberType:
		switch op {
		case EQL:
			return v.Num == l.Num
		case LSS:
			return v.Num < l.Num
		case LEQ:
			return v.Num <= l.Num
		case GTR:
			return v.Num > l.Num
		case GEQ:
			return v.Num >= l.Num
		}
	case StringType:
		a, b := v.Str, l.Str
		if st.ev.FoldCase && op != EQL {
			a, b = strings.ToLower(a), strings.ToLower(b)
		}
		switch op {
		case EQL:
			return st.strEq(a, b)
		case CONTAINS:
			return strings.Contains(a, b)
		case BEGINSWITH:
			return strings.HasPrefix(a, b)
		case ENDSWITH:
			return strings.HasSuffix(a, b)
		}
	}
	return false
}

func (st *evalState) strEq(a, b string) bool {
	if st.ev.FoldCase {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// matchRef reports whether node n is named by r: by name (Name or one of
// Names) or by every argument of id(...). A nil r matches every node.
func (st *evalState) matchRef(r *EntityRef, n *NodeID) bool {
	if r == nil {
		return true
	}
	if r.ID == nil {
		return st.hasName(n, r.Name)
	}
	for _, a := range r.ID.Args {
		var ok bool
		switch a.Key {
		case "name":
			ok = st.hasName(n, a.Value)
		case "type":
			ok = st.strEq(n.Type, a.Value)
		case "account.id":
			ok = st.strEq(n.AccountID, a.Value)
		}
		if !ok {
			return false
		}
	}
	return true
}

func (st *evalState) hasName(n *NodeID, name string) bool {
	if st.strEq(n.Name, name) {
		return true
	}
	for _, s := range n.Names {
		if st.strEq(s, name) {
			return true
		}
	}
	return false
}

// block evaluates an optional block in scope s; no block or {} is true.
func (st *evalState) block(b *Block, s Scope) (bool, error) {
	if b == nil || b.X == nil {
		return true, nil
	}
	return st.eval(b.X, s)
}

func (st *evalState) service(e *ServiceFunc) (bool, error) {
	for _, svc := range st.trace.Services() {
		if !st.matchRef(e.Ref, &svc.ID) {
			continue
		}
		ok, err := st.block(e.Filter, svc.Fields)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

func (st *evalState) edge(e *EdgeFunc) (bool, error) {
	for _, ed := range st.trace.Edges() {
		if !st.matchRef(e.Src, &ed.Src) || !st.matchRef(e.Dst, &ed.Dst) {
			continue
		}
		ok, err := st.block(e.Filter, ed.Fields)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

func (st *evalState) group(e *GroupExpr) (bool, error) {
	if st.ev.Groups == nil {
		return false, fmt.Errorf("col %d: %s: %w", e.NamePos+1, e.Name, ErrNoGroups)
	}
	var name, arn string
	if e.Name == "group.arn" {
		arn = e.Value
	} else {
		name = e.Value
	}
	f, key, err := st.ev.Groups.ResolveGroup(name, arn)
	if err != nil {
		return false, fmt.Errorf("col %d: %s %q: %w", e.NamePos+1, e.Name, e.Value, err)
	}
	if slices.Contains(st.groups, key) {
		return false, fmt.Errorf("col %d: %s %q: %w", e.NamePos+1, e.Name, e.Value, ErrGroupCycle)
	}
	in := true
	if f != nil {
		st.groups = append(st.groups, key)
		in, err = st.eval(f, st.trace)
		st.groups = st.groups[:len(st.groups)-1]
		if err != nil {
			// Positions inside err refer to the group's own expression.
			return false, fmt.Errorf("col %d: %s %q: %w", e.NamePos+1, e.Name, e.Value, err)
		}
	}
	return in == (e.Op == EQL), nil
}

func (st *evalState) rootCause(e *RootCauseExpr) (bool, error) {
	for _, rc := range st.trace.RootCauses(e.Kind) {
		for i := range rc.Services {
			svc := &rc.Services[i]
			if e.Target == "service" {
				ok, err := st.block(e.Filter, rcServiceScope{svc, position{i, len(rc.Services)}})
				if ok || err != nil {
					return ok, err
				}
				continue
			}
			for j := range svc.EntityPath {
				ent := &svc.EntityPath[j]
				if e.Target == "entity" {
					ok, err := st.block(e.Filter, rcEntityScope{ent, position{j, len(svc.EntityPath)}})
					if ok || err != nil {
						return ok, err
					}
					continue
				}
				for k := range ent.Exceptions {
					ok, err := st.block(e.Filter, rcExceptionScope{&ent.Exceptions[k], position{k, len(ent.Exceptions)}})
					if ok || err != nil {
						return ok, err
					}
				}
			}
		}
	}
	return false, nil
}

// position answers index, first and last for an element of a list.
type position struct{ i, n int }

func (p position) field(name string) ([]Value, bool) {
	switch name {
	case "index":
		return []Value{NumberValue(float64(p.i))}, true
	case "first":
		return []Value{BoolValue(p.i == 0)}, true
	case "last":
		return []Value{BoolValue(p.i == p.n-1)}, true
	}
	return nil, false
}

func optString(s string) []Value {
	if s == "" {
		return nil
	}
	return []Value{StringValue(s)}
}

type rcServiceScope struct {
	s *RootCauseService
	position
}

func (r rcServiceScope) Field(name string) []Value {
	if v, ok := r.field(name); ok {
		return v
	}
	switch name {
	case "name":
		vals := optString(r.s.Name)
		for _, n := range r.s.Names {
			vals = append(vals, StringValue(n))
		}
		return vals
	case "type":
		return optString(r.s.Type)
	case "account.id":
		return optString(r.s.AccountID)
	case "inferred":
		return []Value{BoolValue(r.s.Inferred)}
	}
	return nil
}

type rcEntityScope struct {
	e *RootCauseEntity
	position
}

func (r rcEntityScope) Field(name string) []Value {
	if v, ok := r.field(name); ok {
		return v
	}
	switch name {
	case "name":
		return optString(r.e.Name)
	case "remote":
		return []Value{BoolValue(r.e.Remote)}
	case "coverage":
		if r.e.Coverage != nil {
			return []Value{NumberValue(*r.e.Coverage)}
		}
	}
	return nil
}

type rcExceptionScope struct {
	x *RootCauseException
	position
}

func (r rcExceptionScope) Field(name string) []Value {
	if v, ok := r.field(name); ok {
		return v
	}
	switch name {
	case "name":
		return optString(r.x.Name)
	case "message":
		return optString(r.x.Message)
	}
	return nil
}

// rootCauseJSON matches each object of the pattern array against the root
// causes of every kind: every field present in the pattern must match (keys
// compared case-insensitively, scalars exactly, arrays element by element
// with equal lengths); omitted fields are wildcards.
func (st *evalState) rootCauseJSON(e *RootCauseJSON) (bool, error) {
	var pattern []any
	if err := json.Unmarshal([]byte(e.JSON), &pattern); err != nil {
		return false, fmt.Errorf("col %d: rootcause.json: %w", e.NamePos+1, err)
	}
	var causes []any
	for _, kind := range []string{"fault", "error", "responsetime"} {
		for _, rc := range st.trace.RootCauses(kind) {
			doc, err := toJSONValue(rc)
			if err != nil {
				return false, err
			}
			causes = append(causes, doc)
		}
	}
	for _, p := range pattern {
		if !slices.ContainsFunc(causes, func(c any) bool { return matchJSON(p, c) }) {
			return false, nil
		}
	}
	return true, nil
}

func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

func matchJSON(pattern, target any) bool {
	switch p := pattern.(type) {
	case map[string]any:
		t, ok := target.(map[string]any)
		if !ok {
			return false
		}
	keys:
		for k, pv := range p {
			for tk, tv := range t {
				if strings.EqualFold(k, tk) {
					if !matchJSON(pv, tv) {
						return false
					}
					continue keys
				}
			}
			return false
		}
		return true
	case []any:
		t, ok := target.([]any)
		if !ok || len(t) != len(p) {
			return false
		}
		for i := range p {
			if !matchJSON(p[i], t[i]) {
				return false
			}
		}
		return true
	}
	return pattern == target
}
