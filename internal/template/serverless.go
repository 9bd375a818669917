package template

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Serverless Framework defaults (v3).
const (
	slsDefaultStage  = "dev"
	slsDefaultRegion = "us-east-1"
	slsDefaultMemory = 1024
	slsDefaultTime   = 6 * time.Second
)

// slsResolver resolves ${...} variables in a serverless.yml.
type slsResolver struct {
	root  *node
	opts  Options
	stage string
	// region is --region, else provider.region, else slsDefaultRegion.
	region string
	files  map[string]*node // parsed ${file(...)} targets, by absolute path
	dir    string
	// selfStack holds the self: paths being resolved, to report cycles.
	selfStack []string
}

// maxVariableDepth bounds variables resolving to variables.
const maxVariableDepth = 50

func loadServerless(p *Project, root *node, opts Options) error {
	if root.kind != mapNode {
		return root.errorf("", "want a map at the top of serverless.yml, found a %s", root.kindName())
	}
	r := &slsResolver{root: root, opts: opts, files: map[string]*node{}, dir: p.Dir}
	// The stage and region come first: ${sls:stage}, ${aws:region} and
	// functions' names need them. An option beats provider's setting.
	var err error
	if r.stage, err = r.providerSetting("stage", opts.Stage, slsDefaultStage); err != nil {
		return err
	}
	if r.region, err = r.providerSetting("region", opts.Region, slsDefaultRegion); err != nil {
		return err
	}
	doc, err := r.resolve(root, 0)
	if err != nil {
		return err
	}
	p.Stage, p.Region = r.stage, r.region
	svc := doc.get("service")
	if svc != nil && svc.kind == mapNode { // service: {name: ...}, an older form
		svc = svc.get("name")
	}
	if p.Service, err = svc.text("service"); err != nil {
		return err
	}
	if p.Service == "" {
		return root.errorf("service", "serverless.yml needs a service name")
	}
	provider := doc.get("provider")
	for _, k := range []string{"iam", "iamRoleStatements", "iamManagedPolicies", "role", "deploymentBucket", "vpc", "stackTags", "tags"} {
		if provider.get(k) != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("provider.%s is read and ignored: it matters only in AWS", k))
		}
	}
	for _, k := range []string{"plugins", "resources", "package"} {
		if doc.get(k) != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("%s is read and ignored: thaw run runs the functions only", k))
		}
	}
	defaults := Function{MemoryMB: slsDefaultMemory, Timeout: slsDefaultTime}
	if defaults.Runtime, err = provider.get("runtime").text("provider.runtime"); err != nil {
		return err
	}
	if m, ok, err := provider.get("memorySize").integer("provider.memorySize"); err != nil {
		return err
	} else if ok {
		defaults.MemoryMB = m
	}
	if t, ok, err := provider.get("timeout").integer("provider.timeout"); err != nil {
		return err
	} else if ok {
		defaults.Timeout = time.Duration(t) * time.Second
	}
	tracing := provider.get("tracing")
	if defaults.Tracing, err = slsTracing(tracing.get("lambda"), "provider.tracing.lambda"); err != nil {
		return err
	}
	if defaults.APITracing, err = tracing.get("apiGateway").boolean("provider.tracing.apiGateway"); err != nil {
		return err
	}
	providerEnv, err := envMap(provider.get("environment"), "provider.environment")
	if err != nil {
		return err
	}
	fns := doc.get("functions")
	if fns != nil && fns.kind != mapNode {
		return fns.errorf("functions", "want a map of functions, found a %s", fns.kindName())
	}
	for i, name := range fns.keysOrNil() {
		f, err := slsFunction(p, name, fns.vals[i], defaults, providerEnv)
		if err != nil {
			return err
		}
		p.Functions = append(p.Functions, f)
	}
	return nil
}

// providerSetting is provider.<name> resolved to text, or opt when it is
// set, or def when neither is.
func (r *slsResolver) providerSetting(name, opt, def string) (string, error) {
	if opt != "" {
		return opt, nil
	}
	n := r.root.get("provider").get(name)
	if n.isNull() {
		return def, nil
	}
	v, err := r.resolve(n, 0)
	if err != nil {
		return "", err
	}
	text, err := v.text("provider." + name)
	if err != nil || text != "" {
		return text, err
	}
	return def, nil
}

func (n *node) keysOrNil() []string {
	if n == nil {
		return nil
	}
	return n.keys
}

// slsTracing reads provider.tracing.lambda: true, or "Active"/"PassThrough".
func slsTracing(n *node, field string) (bool, error) {
	if n.isNull() {
		return false, nil
	}
	s, err := n.text(field)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "true", "active":
		return true, nil
	case "false", "passthrough":
		return false, nil
	}
	return false, n.errorf(field, "want true, false, Active or PassThrough, found %q", s)
}

func slsFunction(p *Project, name string, n *node, d Function, providerEnv map[string]string) (Function, error) {
	field := "functions." + name
	f := d
	f.Name = name
	f.FunctionName = p.Service + "-" + p.Stage + "-" + name
	if n.kind != mapNode {
		return f, n.errorf(field, "want a map, found a %s", n.kindName())
	}
	var err error
	if v := n.get("name"); !v.isNull() {
		if f.FunctionName, err = v.text(field + ".name"); err != nil {
			return f, err
		}
	}
	if f.Handler, err = n.get("handler").text(field + ".handler"); err != nil {
		return f, err
	}
	if f.Handler == "" && n.get("image") == nil {
		return f, n.errorf(field+".handler", "is missing")
	}
	if v := n.get("runtime"); !v.isNull() {
		if f.Runtime, err = v.text(field + ".runtime"); err != nil {
			return f, err
		}
	}
	if f.Runtime == "" {
		return f, n.errorf(field+".runtime", "is missing here and in provider.runtime")
	}
	if m, ok, err := n.get("memorySize").integer(field + ".memorySize"); err != nil {
		return f, err
	} else if ok {
		f.MemoryMB = m
	}
	if t, ok, err := n.get("timeout").integer(field + ".timeout"); err != nil {
		return f, err
	} else if ok {
		f.Timeout = time.Duration(t) * time.Second
	}
	if v := n.get("tracing"); !v.isNull() {
		if f.Tracing, err = slsTracing(v, field+".tracing"); err != nil {
			return f, err
		}
	}
	env, err := envMap(n.get("environment"), field+".environment")
	if err != nil {
		return f, err
	}
	f.Environment = map[string]string{}
	for k, v := range providerEnv {
		f.Environment[k] = v
	}
	for k, v := range env {
		f.Environment[k] = v
	}
	f.CodeDir = p.Dir
	if ev := n.get("events"); ev != nil {
		if ev.kind != listNode {
			return f, ev.errorf(field+".events", "want a list, found a %s", ev.kindName())
		}
		for i, e := range ev.vals {
			he, ok, err := slsEvent(e, fmt.Sprintf("%s.events[%d]", field, i))
			if err != nil {
				return f, err
			}
			if ok {
				f.Events = append(f.Events, he)
			}
		}
	}
	return f, nil
}

// slsEvent reads an http or httpApi event; other event types are not HTTP
// routes and are skipped.
func slsEvent(e *node, field string) (HTTPEvent, bool, error) {
	if e.kind != mapNode || len(e.keys) != 1 {
		return HTTPEvent{}, false, e.errorf(field, "want one event type, e.g. http: or httpApi:")
	}
	kind, v := e.keys[0], e.vals[0]
	api := map[string]string{"http": "rest", "httpApi": "http"}[kind]
	if api == "" {
		return HTTPEvent{}, false, nil
	}
	ev := HTTPEvent{API: api}
	field += "." + kind
	switch v.kind {
	case scalarNode: // "GET /users/{id}", or httpApi's "*"
		s := strings.TrimSpace(v.str)
		if s == "*" {
			return HTTPEvent{API: api, Method: "ANY", Path: "/{proxy+}"}, true, nil
		}
		method, path, ok := strings.Cut(s, " ")
		if !ok {
			return ev, false, v.errorf(field, "want \"METHOD /path\", found %q", s)
		}
		ev.Method, ev.Path = method, strings.TrimSpace(path)
	case mapNode:
		var err error
		if ev.Path, err = v.get("path").text(field + ".path"); err != nil {
			return ev, false, err
		}
		if ev.Method, err = v.get("method").text(field + ".method"); err != nil {
			return ev, false, err
		}
		if ev.Path == "" {
			return ev, false, v.errorf(field+".path", "is missing")
		}
		if ev.Method == "" {
			ev.Method = "ANY"
		}
	default:
		return ev, false, v.errorf(field, "want a map with path and method, found a %s", v.kindName())
	}
	ev.Method = strings.ToUpper(ev.Method)
	if ev.Method == "*" {
		ev.Method = "ANY"
	}
	if !strings.HasPrefix(ev.Path, "/") {
		ev.Path = "/" + ev.Path
	}
	return ev, true, nil
}

// envMap reads an environment map; values are written as strings.
func envMap(n *node, field string) (map[string]string, error) {
	out := map[string]string{}
	if n.isNull() {
		return out, nil
	}
	if n.kind != mapNode {
		return nil, n.errorf(field, "want a map of variables, found a %s", n.kindName())
	}
	for i, k := range n.keys {
		v := n.vals[i]
		if v.isNull() {
			out[k] = ""
			continue
		}
		s, err := v.text(field + "." + k)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

// resolve returns n with every ${...} variable resolved, recursively.
func (r *slsResolver) resolve(n *node, depth int) (*node, error) {
	if n == nil {
		return nil, nil
	}
	if depth > maxVariableDepth {
		return nil, n.errorf("", "variables nest or refer to each other more than %d levels deep", maxVariableDepth)
	}
	switch n.kind {
	case mapNode, listNode:
		out := *n
		out.vals = make([]*node, len(n.vals))
		for i, v := range n.vals {
			rv, err := r.resolve(v, depth)
			if err != nil {
				return nil, err
			}
			out.vals[i] = rv
		}
		return &out, nil
	}
	if !strings.Contains(n.str, "${") {
		return n, nil
	}
	return r.interpolate(n, n.str, depth)
}

// interpolate resolves the variables in s, found in node at. A string that
// is one variable takes that variable's value whole (a map, say); otherwise
// the values are written into the string.
func (r *slsResolver) interpolate(at *node, s string, depth int) (*node, error) {
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		end, err := matchBrace(rest, i)
		if err != nil {
			return nil, at.errorf(s, "%v", err)
		}
		expr := rest[i : end+1]
		v, err := r.variable(at, expr, depth+1)
		if err != nil {
			return nil, err
		}
		if i == 0 && end == len(rest)-1 && b.Len() == 0 {
			return v, nil // the whole value
		}
		if v.kind != scalarNode {
			return nil, at.errorf(expr, "is a %s; only a value can be part of a string", v.kindName())
		}
		b.WriteString(rest[:i])
		b.WriteString(v.str)
		rest = rest[end+1:]
	}
	return scalar(b.String(), at), nil
}

// matchBrace returns the index of the '}' closing the "${" at i.
func matchBrace(s string, i int) (int, error) {
	depth := 0
	var quote byte
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '$' && j+1 < len(s) && s[j+1] == '{':
			depth++
			j++
		case c == '}':
			depth--
			if depth == 0 {
				return j, nil
			}
		}
	}
	return 0, fmt.Errorf("%q has no closing }", s[i:])
}

// variable resolves one ${...} expression, fallbacks included.
func (r *slsResolver) variable(at *node, expr string, depth int) (*node, error) {
	inner := strings.TrimSpace(expr[2 : len(expr)-1])
	parts := splitTop(inner)
	for i, part := range parts {
		part = strings.TrimSpace(part)
		last := i == len(parts)-1
		if i > 0 { // a fallback: a literal or another variable
			if v, ok := literal(part, at); ok {
				return v, nil
			}
		}
		if strings.HasPrefix(part, "${") {
			v, err := r.interpolate(at, part, depth)
			if err == nil {
				return v, nil
			}
			if e, ok := asError(err); ok && last {
				return nil, e
			}
			continue
		}
		v, found, err := r.reference(at, part, depth)
		if err != nil {
			return nil, err
		}
		if found {
			return v, nil
		}
		if last {
			return nil, at.errorf(expr, "%s", notFound(part))
		}
	}
	return nil, at.errorf(expr, "is empty")
}

// splitTop splits s at commas outside quotes, parentheses and ${...}.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	var quote byte
	for j := 0; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '{' || c == '(':
			depth++
		case c == '}' || c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:j])
			start = j + 1
		}
	}
	return append(parts, s[start:])
}

// literal reads a fallback literal: a quoted string or a number.
func literal(s string, at *node) (*node, bool) {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return scalar(s[1:len(s)-1], at), true
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return scalar(s, at), true
	}
	if s == "true" || s == "false" || s == "null" {
		return scalar(s, at), true
	}
	return nil, false
}

func notFound(ref string) string {
	source, addr, _ := strings.Cut(ref, ":")
	switch {
	case source == "env":
		return fmt.Sprintf("environment variable %s is not set, and there is no fallback (add one: ${env:%s, 'value'})", addr, addr)
	case source == "opt":
		return fmt.Sprintf("option --%s was not given, and there is no fallback (add one: ${opt:%s, 'value'})", addr, addr)
	case source == "self":
		return fmt.Sprintf("serverless.yml has no %s", addr)
	case strings.HasPrefix(source, "file("):
		return "the file has no such key"
	}
	return "cannot be resolved"
}

// reference resolves a source:address reference; found is false when the
// source has no such value (so a fallback may apply).
func (r *slsResolver) reference(at *node, ref string, depth int) (*node, bool, error) {
	if strings.Contains(ref, "${") { // nested: ${file(./config.${opt:stage}.json):KEY}
		v, err := r.interpolate(at, ref, depth)
		if err != nil {
			return nil, false, err
		}
		if v.kind != scalarNode {
			return nil, false, at.errorf(ref, "a variable inside a reference must be a value")
		}
		ref = v.str
	}
	if strings.HasPrefix(ref, "file(") {
		return r.file(at, ref, depth)
	}
	source, addr, ok := strings.Cut(ref, ":")
	if !ok {
		return nil, false, at.errorf("${"+ref+"}", "want source:address, e.g. ${env:NAME}, ${opt:stage}, ${self:custom.key}, ${file(./f.json):key}")
	}
	addr = strings.TrimSpace(addr)
	switch source {
	case "env":
		v, ok := r.opts.Getenv(addr)
		return scalar(v, at), ok, nil
	case "opt":
		if addr == "stage" && r.opts.Stage != "" {
			return scalar(r.opts.Stage, at), true, nil
		}
		if addr == "region" && r.opts.Region != "" {
			return scalar(r.opts.Region, at), true, nil
		}
		v, ok := r.opts.Opts[addr]
		return scalar(v, at), ok, nil
	case "sls":
		if addr == "stage" {
			return scalar(r.stage, at), r.stage != "", nil
		}
		if addr == "instanceId" {
			return scalar("thaw-run", at), true, nil
		}
	case "self":
		return r.self(at, addr, depth)
	case "aws":
		switch addr {
		case "region":
			return scalar(r.region, at), true, nil
		case "accountId":
			return scalar("000000000000", at), true, nil
		}
	}
	return nil, false, at.errorf("${"+ref+"}", "thaw run does not resolve %s: variables (it reads env, opt, self, file, sls and aws)", source)
}

// self resolves ${self:a.b.c} against the whole file, itself resolved.
func (r *slsResolver) self(at *node, path string, depth int) (*node, bool, error) {
	for _, p := range r.selfStack {
		if p == path {
			return nil, false, at.errorf("${self:"+path+"}", "refers to itself (%s)", strings.Join(append(r.selfStack, path), " → "))
		}
	}
	r.selfStack = append(r.selfStack, path)
	defer func() { r.selfStack = r.selfStack[:len(r.selfStack)-1] }()
	// Follow the path, resolving on the way: custom.limits may itself be
	// ${file(./limits.yml)}, and custom.limits.max a key of that file.
	n := r.root
	for _, k := range strings.Split(path, ".") {
		if n != nil && n.kind == scalarNode && strings.Contains(n.str, "${") {
			v, err := r.resolve(n, depth+1)
			if err != nil {
				return nil, false, err
			}
			n = v
		}
		n = lookup(n, k)
		if n == nil {
			return nil, false, nil
		}
	}
	v, err := r.resolve(n, depth+1)
	return v, err == nil, err
}

// lookup follows a dotted path (list items by index) from n.
func lookup(n *node, path string) *node {
	if path == "" {
		return n
	}
	for _, k := range strings.Split(path, ".") {
		switch {
		case n == nil:
			return nil
		case n.kind == mapNode:
			n = n.get(k)
		case n.kind == listNode:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(n.vals) {
				return nil
			}
			n = n.vals[i]
		default:
			return nil
		}
	}
	return n
}

// file resolves ${file(path):key} (or the whole file without a key),
// for JSON and YAML files, relative to serverless.yml.
func (r *slsResolver) file(at *node, ref string, depth int) (*node, bool, error) {
	close := strings.Index(ref, ")")
	if close < 0 {
		return nil, false, at.errorf("${"+ref+"}", "file( has no closing )")
	}
	name := strings.Trim(strings.TrimSpace(ref[len("file("):close]), `'"`)
	key := strings.TrimPrefix(strings.TrimSpace(ref[close+1:]), ":")
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.dir, name)
	}
	doc, ok := r.files[path]
	if !ok {
		var err error
		doc, err = parseFile(path)
		if err != nil {
			if e, ok := asError(err); ok {
				return nil, false, e
			}
			return nil, false, at.errorf("${"+ref+"}", "cannot read %s: %v", name, err)
		}
		r.files[path] = doc
	}
	n := lookup(doc, key)
	if n == nil {
		return nil, false, nil
	}
	// The file's own variables resolve in the file.
	sub := &slsResolver{root: doc, opts: r.opts, stage: r.stage, files: r.files, dir: filepath.Dir(path)}
	v, err := sub.resolve(n, depth+1)
	return v, err == nil, err
}
