package filter

import (
	"strconv"
	"strings"
)

// Binding strength used to decide where the printer needs parentheses.
const (
	precOr = iota + 1
	precAnd
	precUnary
)

func precedence(e Expr) int {
	if b, ok := e.(*BinaryExpr); ok {
		if b.Op == OR {
			return precOr
		}
		return precAnd
	}
	return precUnary
}

// printOperand prints e, parenthesised when it binds less tightly than min.
func printOperand(b *strings.Builder, e Expr, min int) {
	if precedence(e) < min {
		b.WriteByte('(')
		b.WriteString(e.String())
		b.WriteByte(')')
		return
	}
	b.WriteString(e.String())
}

// String implements Expr.
func (e *BinaryExpr) String() string {
	var b strings.Builder
	p := precedence(e)
	printOperand(&b, e.X, p)
	b.WriteString(" " + e.Op.String() + " ")
	// Both operators are left-associative: a right operand of equal
	// precedence needs parentheses to keep the tree's shape.
	printOperand(&b, e.Y, p+1)
	return b.String()
}

// String implements Expr.
func (e *NotExpr) String() string {
	var b strings.Builder
	b.WriteByte('!')
	printOperand(&b, e.X, precUnary)
	return b.String()
}

// String implements Expr.
func (e *KeywordExpr) String() string { return e.Name }

var plainKey = func(k string) bool {
	for i := 0; i < len(k); i++ {
		if !isLetter(k[i]) && !isDigit(k[i]) {
			return false
		}
	}
	return k != ""
}

// String implements Expr.
func (e *AnnotationExpr) String() string {
	if plainKey(e.Key) {
		return "annotation." + e.Key
	}
	return "annotation[" + quote(e.Key) + "]"
}

// String implements Expr.
func (e *Comparison) String() string {
	return e.X.String() + " " + e.Op.String() + " " + e.Value.String()
}

// String returns the literal in canonical syntax.
func (l *Literal) String() string {
	switch l.Kind {
	case StringLit:
		return quote(l.Str)
	case NumberLit:
		return strconv.FormatFloat(l.Num, 'g', -1, 64)
	case BoolLit:
		return strconv.FormatBool(l.Bool)
	}
	return "<invalid literal>"
}

// quote returns s in double quotes, escaping only '"' and '\'.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// String returns the call in canonical syntax.
func (f *IDFunc) String() string {
	var b strings.Builder
	b.WriteString("id(")
	for i, a := range f.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Key + ": " + quote(a.Value))
	}
	b.WriteByte(')')
	return b.String()
}

// String returns the reference in canonical syntax.
func (r *EntityRef) String() string {
	if r.ID != nil {
		return r.ID.String()
	}
	return quote(r.Name)
}

// String returns the block in canonical syntax.
func (b *Block) String() string {
	if b.X == nil {
		return "{}"
	}
	return "{ " + b.X.String() + " }"
}

// String implements Expr.
func (e *ServiceFunc) String() string {
	s := "service("
	if e.Ref != nil {
		s += e.Ref.String()
	}
	s += ")"
	if e.Filter != nil {
		s += " " + e.Filter.String()
	}
	return s
}

// String implements Expr.
func (e *EdgeFunc) String() string {
	s := "edge(" + e.Src.String() + ", " + e.Dst.String() + ")"
	if e.Filter != nil {
		s += " " + e.Filter.String()
	}
	return s
}

// String implements Expr.
func (e *GroupExpr) String() string {
	return e.Name + " " + e.Op.String() + " " + quote(e.Value)
}

// String implements Expr.
func (e *RootCauseExpr) String() string {
	return "rootcause." + e.Kind + "." + e.Target + " " + e.Filter.String()
}

// String implements Expr.
func (e *RootCauseJSON) String() string { return "rootcause.json = #" + e.JSON }
