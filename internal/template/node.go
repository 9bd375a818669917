package template

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// node is a parsed YAML (or JSON) value with where it came from.
type node struct {
	kind  nodeKind
	str   string   // scalars: the text
	tag   string   // the YAML tag, e.g. "!Ref", "!!str", "!!int"
	keys  []string // maps, in order
	vals  []*node  // maps: the values of keys; lists: the items
	file  string
	line  int
	col   int
	quote bool // a quoted scalar (always a string)
}

type nodeKind int

const (
	scalarNode nodeKind = iota
	mapNode
	listNode
)

// get returns the value of key in a map node, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != mapNode {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

func (n *node) errorf(expr, format string, args ...any) *Error {
	if n == nil {
		return &Error{Expr: expr, Msg: fmt.Sprintf(format, args...)}
	}
	return &Error{File: n.file, Line: n.line, Col: n.col, Expr: expr, Msg: fmt.Sprintf(format, args...)}
}

// isNull reports a missing value or YAML null.
func (n *node) isNull() bool {
	return n == nil || (n.kind == scalarNode && !n.quote && (n.tag == "!!null" || n.str == "" && n.tag == ""))
}

// text returns a scalar's value as a string.
func (n *node) text(field string) (string, error) {
	if n == nil {
		return "", nil
	}
	if n.kind != scalarNode {
		return "", n.errorf(field, "want a single value, found a %s", n.kindName())
	}
	return n.str, nil
}

func (n *node) kindName() string {
	switch n.kind {
	case mapNode:
		return "map"
	case listNode:
		return "list"
	}
	return "value"
}

// integer reads a whole number field.
func (n *node) integer(field string) (int, bool, error) {
	if n.isNull() {
		return 0, false, nil
	}
	s, err := n.text(field)
	if err != nil {
		return 0, false, err
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, false, n.errorf(field, "want a whole number, found %q", s)
	}
	return v, true, nil
}

// boolean reads a true/false field.
func (n *node) boolean(field string) (bool, error) {
	if n.isNull() {
		return false, nil
	}
	s, err := n.text(field)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, n.errorf(field, "want true or false, found %q", s)
}

// parseFile reads a YAML or JSON file into a node tree.
func parseFile(path string) (*node, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	return parse(path, data)
}

func parse(path string, data []byte) (*node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(path, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: path, Msg: "the file is empty"}
	}
	budget := maxNodes
	return convert(path, doc.Content[0], 0, &budget)
}

// yamlError turns the parser's "yaml: line N: msg" into a positioned Error.
func yamlError(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &Error{File: path, Line: line, Col: 1, Msg: "not valid YAML: " + msg}
}

// maxDepth bounds nesting, and maxNodes the values aliases may expand a
// small file into.
const (
	maxDepth = 200
	maxNodes = 1_000_000
)

func convert(path string, y *yaml.Node, depth int, budget *int) (*node, error) {
	if depth > maxDepth {
		return nil, &Error{File: path, Line: y.Line, Col: y.Column, Msg: fmt.Sprintf("nested more than %d levels deep", maxDepth)}
	}
	if *budget--; *budget < 0 {
		return nil, &Error{File: path, Line: y.Line, Col: y.Column, Msg: fmt.Sprintf("expands to more than %d values (aliases?)", maxNodes)}
	}
	n := &node{file: path, line: y.Line, col: y.Column, tag: y.Tag}
	switch y.Kind {
	case yaml.AliasNode:
		return convert(path, y.Alias, depth+1, budget)
	case yaml.ScalarNode:
		n.kind, n.str = scalarNode, y.Value
		n.quote = y.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
	case yaml.SequenceNode:
		n.kind = listNode
		for _, c := range y.Content {
			v, err := convert(path, c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
	case yaml.MappingNode:
		n.kind = mapNode
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, &Error{File: path, Line: k.Line, Col: k.Column, Msg: "map keys must be plain values"}
			}
			if k.Value == "<<" { // merge key: copy the aliased map's entries
				m, err := convert(path, v, depth+1, budget)
				if err != nil {
					return nil, err
				}
				for j, mk := range m.keys {
					if n.get(mk) == nil {
						n.keys, n.vals = append(n.keys, mk), append(n.vals, m.vals[j])
					}
				}
				continue
			}
			val, err := convert(path, v, depth+1, budget)
			if err != nil {
				return nil, err
			}
			if i := slices.Index(n.keys, k.Value); i >= 0 { // a repeated key: the last wins
				n.vals[i] = val
				continue
			}
			n.keys, n.vals = append(n.keys, k.Value), append(n.vals, val)
		}
	default:
		return nil, &Error{File: path, Line: y.Line, Col: y.Column, Msg: "unsupported YAML node"}
	}
	return n, nil
}

// scalar makes a string node at the place of at.
func scalar(s string, at *node) *node {
	n := &node{kind: scalarNode, str: s, quote: true}
	if at != nil {
		n.file, n.line, n.col = at.file, at.line, at.col
	}
	return n
}
