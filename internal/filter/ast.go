package filter

// Expr is a node of the filter expression AST. Every node records the byte
// offset where it starts; String prints canonical syntax that parses back to
// an equal tree.
type Expr interface {
	// Pos returns the offset of the first byte of the node.
	Pos() Pos
	// String returns the node in canonical syntax.
	String() string
	exprNode()
}

// BinaryExpr is X AND Y or X OR Y. Juxtaposition (implicit AND) yields an
// AND node too, so the canonical form always spells the operator.
type BinaryExpr struct {
	OpPos Pos  // position of the operator, or of Y for an implicit AND
	Op    Kind // AND or OR
	X, Y  Expr
}

// NotExpr is !X (or the NOT X extension, which prints as !X).
type NotExpr struct {
	Bang Pos
	X    Expr
}

// KeywordExpr is a catalog keyword used bare: a boolean test for boolean
// keywords (ok, fault, ...), an existence test for the others (http.url).
type KeywordExpr struct {
	NamePos Pos
	Name    string // canonical (lower-case) spelling, e.g. "http.status"
}

// AnnotationExpr is a bare annotation reference: the key is set.
type AnnotationExpr struct {
	NamePos Pos
	Key     string // case-sensitive key
}

// Comparison is X OP Value where X is a *KeywordExpr or an *AnnotationExpr.
type Comparison struct {
	X     Expr
	OpPos Pos
	Op    Kind // one of the comparison operators
	Value *Literal
}

// LiteralKind is the type of a literal value.
type LiteralKind int

// Literal kinds.
const (
	StringLit LiteralKind = iota + 1
	NumberLit
	BoolLit
)

// Literal is a value on the right of a comparison. Bare words (name = traces)
// are string literals.
type Literal struct {
	ValuePos Pos
	Kind     LiteralKind
	Str      string  // StringLit
	Num      float64 // NumberLit
	Bool     bool    // BoolLit
}

// IDArg is one name: "...", type: "..." or account.id: "..." argument of id().
type IDArg struct {
	KeyPos Pos
	Key    string // "name", "type" or "account.id"
	Value  string
}

// IDFunc is id(key: "value", ...), which names a graph node by properties.
type IDFunc struct {
	IDPos Pos
	Args  []IDArg // in source order; keys are distinct
}

// EntityRef names a graph node: by name (ID == nil) or by id().
type EntityRef struct {
	RefPos Pos
	Name   string
	ID     *IDFunc
}

// Block is { X } after service(), edge() or rootcause.*.*; X is nil for {}.
type Block struct {
	Lbrace Pos
	X      Expr
}

// ServiceFunc is service(REF) { FILTER }; Ref is nil for service() and
// Filter is nil when there is no block.
type ServiceFunc struct {
	ServicePos Pos
	Ref        *EntityRef
	Filter     *Block
}

// EdgeFunc is edge(SRC, DST) { FILTER }; Filter is nil when there is no block.
type EdgeFunc struct {
	EdgePos  Pos
	Src, Dst *EntityRef
	Filter   *Block
}

// GroupExpr is group.name OP "G" or group.arn OP "ARN" with OP = or !=.
type GroupExpr struct {
	NamePos Pos
	Name    string // "group.name" or "group.arn"
	Op      Kind   // EQL or NEQ
	Value   string
}

// RootCauseExpr is rootcause.KIND.TARGET { FILTER }.
type RootCauseExpr struct {
	NamePos Pos
	Kind    string // "fault", "error" or "responsetime"
	Target  string // "service", "entity" or "exception"
	Filter  *Block
}

// RootCauseJSON is rootcause.json = #[ ... ].
type RootCauseJSON struct {
	NamePos Pos
	JSON    string // compacted JSON array
}

// Pos implements Expr.
func (e *BinaryExpr) Pos() Pos { return e.X.Pos() }

// Pos implements Expr.
func (e *NotExpr) Pos() Pos { return e.Bang }

// Pos implements Expr.
func (e *KeywordExpr) Pos() Pos { return e.NamePos }

// Pos implements Expr.
func (e *AnnotationExpr) Pos() Pos { return e.NamePos }

// Pos implements Expr.
func (e *Comparison) Pos() Pos { return e.X.Pos() }

// Pos implements Expr.
func (e *ServiceFunc) Pos() Pos { return e.ServicePos }

// Pos implements Expr.
func (e *EdgeFunc) Pos() Pos { return e.EdgePos }

// Pos implements Expr.
func (e *GroupExpr) Pos() Pos { return e.NamePos }

// Pos implements Expr.
func (e *RootCauseExpr) Pos() Pos { return e.NamePos }

// Pos implements Expr.
func (e *RootCauseJSON) Pos() Pos { return e.NamePos }

func (*BinaryExpr) exprNode()     {}
func (*NotExpr) exprNode()        {}
func (*KeywordExpr) exprNode()    {}
func (*AnnotationExpr) exprNode() {}
func (*Comparison) exprNode()     {}
func (*ServiceFunc) exprNode()    {}
func (*EdgeFunc) exprNode()       {}
func (*GroupExpr) exprNode()      {}
func (*RootCauseExpr) exprNode()  {}
func (*RootCauseJSON) exprNode()  {}
