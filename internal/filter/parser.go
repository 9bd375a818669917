package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxDepth bounds nesting of parentheses, negations and blocks so that
// hostile input cannot exhaust the stack of the parser or the printer.
const maxDepth = 500

// Parse parses a filter expression (GetTraceSummaries.FilterExpression or a
// group's FilterExpression). On failure the error is an ErrorList; the parser
// stops at the first error, so the list holds one entry.
func Parse(src string) (Expr, error) {
	p := newParser(src)
	return p.run(func() Expr {
		x := p.parseExpr()
		p.expectEnd()
		return x
	})
}

// ParseEntitySelector parses the restricted EntitySelectorExpression of
// GetTimeSeriesServiceStatistics (spec §5.7): exactly one of service("N"),
// service(id(...)), id(...) or edge(REF, REF), without blocks. id(...) is
// returned as a *ServiceFunc.
func ParseEntitySelector(src string) (Expr, error) {
	p := newParser(src)
	return p.run(func() Expr {
		var x Expr
		switch {
		case p.isWord("service"):
			s := p.parseService()
			if s.Ref == nil {
				p.errorf(s.ServicePos, "expected service name or id(...) in entity selector, found service()")
			}
			if s.Filter != nil {
				p.errorf(s.Filter.Lbrace, "expected end of expression, found '{'")
			}
			x = s
		case p.isWord("id"):
			id := p.parseID()
			x = &ServiceFunc{ServicePos: id.IDPos, Ref: &EntityRef{RefPos: id.IDPos, ID: id}}
		case p.isWord("edge"):
			e := p.parseEdge()
			if e.Filter != nil {
				p.errorf(e.Filter.Lbrace, "expected end of expression, found '{'")
			}
			x = e
		default:
			p.errorf(p.tok.Pos, "expected service(...), id(...) or edge(...), found %s", p.tok.describe())
		}
		p.expectEnd()
		return x
	})
}

type parser struct {
	lex   *lexer
	tok   Token // one token of lookahead
	ctx   Context
	depth int
	errs  ErrorList
}

// bailout unwinds the parser after the first error; run recovers it, so the
// panic never leaves the package.
type bailout struct{}

func newParser(src string) *parser {
	return &parser{lex: newLexer(src), ctx: TraceCtx}
}

func (p *parser) run(parse func() Expr) (x Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
			x, err = nil, p.errs
		}
	}()
	p.next()
	return parse(), nil
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	p.errs = append(p.errs, &Error{Pos: pos, Msg: msg})
	panic(bailout{})
}

func (p *parser) next() {
	p.tok = p.lex.next()
	if p.tok.Kind == ILLEGAL {
		p.errorf(p.tok.Pos, "%s", p.tok.Val)
	}
}

func (p *parser) expect(k Kind) Pos {
	if p.tok.Kind != k {
		p.errorf(p.tok.Pos, "expected '%s', found %s", k, p.tok.describe())
	}
	pos := p.tok.Pos
	p.next()
	return pos
}

func (p *parser) expectEnd() {
	if p.tok.Kind != EOF {
		p.errorf(p.tok.Pos, "expected end of expression, found %s", p.tok.describe())
	}
}

// isWord reports whether the lookahead is the identifier w (case-insensitive).
func (p *parser) isWord(w string) bool {
	return p.tok.Kind == IDENT && strings.EqualFold(p.tok.Lit, w)
}

func (p *parser) parseExpr() Expr {
	x := p.parseAnd()
	for p.tok.Kind == OR {
		pos := p.tok.Pos
		p.next()
		x = &BinaryExpr{OpPos: pos, Op: OR, X: x, Y: p.parseAnd()}
	}
	return x
}

func startsUnary(k Kind) bool {
	switch k {
	case BANG, NOT, LPAREN, IDENT, ANNOTATION:
		return true
	}
	return false
}

func (p *parser) parseAnd() Expr {
	x := p.parseUnary()
	for {
		pos := p.tok.Pos
		switch {
		case p.tok.Kind == AND:
			p.next()
		case startsUnary(p.tok.Kind):
			// Juxtaposition is an implicit AND (spec §5.3).
		default:
			return x
		}
		x = &BinaryExpr{OpPos: pos, Op: AND, X: x, Y: p.parseUnary()}
	}
}

func (p *parser) parseUnary() Expr {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		p.errorf(p.tok.Pos, "expression nested too deeply")
	}
	if p.tok.Kind == BANG || p.tok.Kind == NOT {
		pos := p.tok.Pos
		p.next()
		return &NotExpr{Bang: pos, X: p.parseUnary()}
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() Expr {
	switch p.tok.Kind {
	case LPAREN:
		p.next()
		x := p.parseExpr()
		p.expect(RPAREN)
		return x
	case ANNOTATION:
		return p.parseAnnotation()
	case IDENT:
		return p.parseWord()
	}
	p.errorf(p.tok.Pos, "expected expression, found %s", p.tok.describe())
	return nil
}

// requireTrace rejects constructs that only exist at the top level.
func (p *parser) requireTrace(pos Pos, what string) {
	if p.ctx != TraceCtx {
		p.errorf(pos, "%s not allowed in %s context", what, contextNames[p.ctx])
	}
}

func (p *parser) parseAnnotation() Expr {
	a := &AnnotationExpr{NamePos: p.tok.Pos, Key: p.tok.Val}
	p.requireTrace(a.NamePos, "annotation")
	p.next()
	if !p.tok.Kind.IsComparison() {
		return a
	}
	op, opPos := p.tok.Kind, p.tok.Pos
	p.next()
	v := p.parseValue()
	var t ValueType
	switch v.Kind {
	case StringLit:
		t = StringType
	case NumberLit:
		t = NumberType
	case BoolLit:
		t = BoolType
	}
	if !validOp(t, op) {
		want := "number"
		if op == CONTAINS || op == BEGINSWITH || op == ENDSWITH {
			want = "string"
		}
		p.errorf(v.ValuePos, "expected %s value for %s, found %s", want, op, v)
	}
	return &Comparison{X: a, OpPos: opPos, Op: op, Value: v}
}

// parseWord parses the constructs that start with an identifier: functions,
// group and rootcause forms, and catalog keywords.
func (p *parser) parseWord() Expr {
	name := strings.ToLower(p.tok.Lit)
	pos := p.tok.Pos
	switch {
	case name == "service":
		p.requireTrace(pos, "service()")
		return p.parseService()
	case name == "edge":
		p.requireTrace(pos, "edge()")
		return p.parseEdge()
	case name == "group.name" || name == "group.arn":
		p.requireTrace(pos, name)
		p.next()
		op := p.tok.Kind
		if op != EQL && op != NEQ {
			p.errorf(p.tok.Pos, "expected '=' or '!=' after %s, found %s", name, p.tok.describe())
		}
		p.next()
		v := p.parseValue()
		if v.Kind != StringLit {
			p.errorf(v.ValuePos, "expected string, found %s", v)
		}
		return &GroupExpr{NamePos: pos, Name: name, Op: op, Value: v.Str}
	case name == "rootcause.json":
		p.requireTrace(pos, name)
		p.next()
		p.expect(EQL)
		if p.tok.Kind != JSON {
			p.errorf(p.tok.Pos, "expected JSON array #[...], found %s", p.tok.describe())
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(p.tok.Val)); err != nil {
			p.errorf(p.tok.Pos, "invalid JSON array: %v", err)
		}
		p.next()
		return &RootCauseJSON{NamePos: pos, JSON: buf.String()}
	case strings.HasPrefix(name, "rootcause."):
		return p.parseRootCause(name)
	}
	info, ok := Keywords[name]
	if !ok {
		p.errorf(pos, "unknown keyword %s", p.tok.Lit)
	}
	if info.Contexts&p.ctx == 0 {
		p.errorf(pos, "keyword %s not allowed in %s context", name, contextNames[p.ctx])
	}
	k := &KeywordExpr{NamePos: pos, Name: name}
	p.next()
	if !p.tok.Kind.IsComparison() {
		return k
	}
	op, opPos := p.tok.Kind, p.tok.Pos
	if !validOp(info.Type, op) {
		p.errorf(opPos, "expected one of %s after %s keyword %s, found %s", opsFor(info.Type), info.Type, name, p.tok.describe())
	}
	p.next()
	v := p.parseValue()
	ok = false
	switch info.Type {
	case BoolType:
		ok = v.Kind == BoolLit
	case NumberType:
		ok = v.Kind == NumberLit
	case StringType:
		ok = v.Kind == StringLit
	}
	if !ok {
		want := info.Type.String()
		if info.Type == BoolType {
			want = "true or false"
		}
		p.errorf(v.ValuePos, "expected %s, found %s", want, v)
	}
	return &Comparison{X: k, OpPos: opPos, Op: op, Value: v}
}

func (p *parser) parseValue() *Literal {
	t := p.tok
	l := &Literal{ValuePos: t.Pos}
	switch t.Kind {
	case STRING:
		l.Kind, l.Str = StringLit, t.Val
	case NUMBER:
		f, err := strconv.ParseFloat(t.Lit, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				p.errorf(t.Pos, "number %s out of range", t.Lit)
			}
			p.errorf(t.Pos, "malformed number %s", t.Lit)
		}
		l.Kind, l.Num = NumberLit, f
	case IDENT:
		switch strings.ToLower(t.Lit) {
		case "true":
			l.Kind, l.Bool = BoolLit, true
		case "false":
			l.Kind, l.Bool = BoolLit, false
		default:
			// A bare word in value position is a string (name = traces).
			l.Kind, l.Str = StringLit, t.Lit
		}
	default:
		p.errorf(t.Pos, "expected value, found %s", t.describe())
	}
	p.next()
	return l
}

func (p *parser) parseRootCause(name string) Expr {
	pos := p.tok.Pos
	parts := strings.Split(name, ".")
	if len(parts) != 3 {
		p.errorf(pos, "expected rootcause.KIND.TARGET or rootcause.json, found %s", p.tok.Lit)
	}
	kind, target := parts[1], parts[2]
	var ctx Context
	switch target {
	case "service":
		ctx = RCServiceCtx
	case "entity":
		ctx = RCEntityCtx
		if kind == "responsetime" {
			ctx = RTEntityCtx
		}
	case "exception":
		ctx = RCExceptionCtx
	default:
		p.errorf(pos, "expected rootcause target service, entity or exception, found %s", target)
	}
	switch kind {
	case "fault", "error":
	case "responsetime":
		if target == "exception" {
			p.errorf(pos, "expected rootcause target service or entity after rootcause.responsetime, found exception")
		}
	default:
		p.errorf(pos, "expected rootcause kind fault, error or responsetime, found %s", kind)
	}
	p.requireTrace(pos, "rootcause")
	p.next()
	if p.tok.Kind != LBRACE {
		p.errorf(p.tok.Pos, "expected '{' after %s, found %s", name, p.tok.describe())
	}
	return &RootCauseExpr{NamePos: pos, Kind: kind, Target: target, Filter: p.parseBlock(ctx)}
}

func (p *parser) parseBlock(ctx Context) *Block {
	b := &Block{Lbrace: p.expect(LBRACE)}
	if p.tok.Kind != RBRACE {
		saved := p.ctx
		p.ctx = ctx
		b.X = p.parseExpr()
		p.ctx = saved
	}
	p.expect(RBRACE)
	return b
}

func (p *parser) parseService() *ServiceFunc {
	s := &ServiceFunc{ServicePos: p.tok.Pos}
	p.next()
	p.expect(LPAREN)
	if p.tok.Kind != RPAREN {
		s.Ref = p.parseEntityRef()
	}
	p.expect(RPAREN)
	if p.tok.Kind == LBRACE {
		s.Filter = p.parseBlock(ServiceCtx)
	}
	return s
}

func (p *parser) parseEdge() *EdgeFunc {
	e := &EdgeFunc{EdgePos: p.tok.Pos}
	p.next()
	p.expect(LPAREN)
	e.Src = p.parseEntityRef()
	p.expect(COMMA)
	e.Dst = p.parseEntityRef()
	p.expect(RPAREN)
	if p.tok.Kind == LBRACE {
		e.Filter = p.parseBlock(EdgeCtx)
	}
	return e
}

func (p *parser) parseEntityRef() *EntityRef {
	r := &EntityRef{RefPos: p.tok.Pos}
	switch {
	case p.tok.Kind == STRING:
		r.Name = p.tok.Val
		p.next()
	case p.isWord("id"):
		r.ID = p.parseID()
	default:
		p.errorf(p.tok.Pos, "expected service name or id(...), found %s", p.tok.describe())
	}
	return r
}

func (p *parser) parseID() *IDFunc {
	f := &IDFunc{IDPos: p.tok.Pos}
	p.next()
	p.expect(LPAREN)
	for {
		key := strings.ToLower(p.tok.Lit)
		if p.tok.Kind != IDENT || (key != "name" && key != "type" && key != "account.id") {
			p.errorf(p.tok.Pos, "expected name, type or account.id, found %s", p.tok.describe())
		}
		for _, a := range f.Args {
			if a.Key == key {
				p.errorf(p.tok.Pos, "duplicate id() argument %s", key)
			}
		}
		arg := IDArg{KeyPos: p.tok.Pos, Key: key}
		p.next()
		p.expect(COLON)
		if p.tok.Kind != STRING {
			p.errorf(p.tok.Pos, "expected string, found %s", p.tok.describe())
		}
		arg.Value = p.tok.Val
		p.next()
		f.Args = append(f.Args, arg)
		if p.tok.Kind != COMMA {
			break
		}
		p.next()
	}
	p.expect(RPAREN)
	return f
}
