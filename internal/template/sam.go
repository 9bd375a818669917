package template

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// SAM defaults.
const (
	samDefaultRegion  = "us-east-1"
	samDefaultMemory  = 128
	samDefaultTimeout = 3 * time.Second
	samAccountID      = "000000000000"
)

// samResolver evaluates CloudFormation intrinsic functions the way sam
// local does: parameters from --parameter-overrides or their defaults,
// pseudo parameters, !Ref to a resource as its logical id, and the !GetAtt
// attributes a function's environment usually needs.
type samResolver struct {
	params    map[string]string
	unset     map[string]bool // parameters with neither a Default nor an override
	resources *node
	region    string
	stack     string
}

func loadSAM(p *Project, root *node, opts Options) error {
	if root.kind != mapNode {
		return root.errorf("", "want a map at the top of the template, found a %s", root.kindName())
	}
	if tr := root.get("Transform"); tr == nil || !strings.Contains(fmt.Sprint(scalarTexts(tr)), "AWS::Serverless") {
		return root.errorf("Transform", "is not a SAM template: it needs Transform: AWS::Serverless-2016-10-31 (or name the file serverless.yml for the Serverless Framework)")
	}
	p.Region = opts.Region
	if p.Region == "" {
		p.Region = samDefaultRegion
	}
	p.Service = filepath.Base(p.Dir)
	p.Stage = opts.Stage
	r := &samResolver{params: map[string]string{}, unset: map[string]bool{}, resources: root.get("Resources"), region: p.Region, stack: p.Service}
	params := root.get("Parameters")
	for i, name := range params.keysOrNil() {
		def := params.vals[i].get("Default")
		if v, ok := opts.Params[name]; ok {
			r.params[name] = v
			continue
		}
		if def == nil {
			r.unset[name] = true // an error only if something refers to it
			continue
		}
		s, err := def.text("Parameters." + name + ".Default")
		if err != nil {
			return err
		}
		r.params[name] = s
	}
	for name := range opts.Params {
		if params.get(name) == nil {
			return root.errorf("--parameter-overrides "+name, "the template has no parameter %s", name)
		}
	}
	if r.resources == nil || r.resources.kind != mapNode {
		return root.errorf("Resources", "is missing or not a map")
	}
	globals := root.get("Globals").get("Function")
	apiTracing, err := root.get("Globals").get("Api").get("TracingEnabled").boolean("Globals.Api.TracingEnabled")
	if err != nil {
		return err
	}
	for i, name := range r.resources.keys {
		res := r.resources.vals[i]
		typ, _ := res.get("Type").text("Resources." + name + ".Type")
		switch typ {
		case "AWS::Serverless::Function":
			f, err := r.function(p, name, res.get("Properties"), globals)
			if err != nil {
				return err
			}
			f.APITracing = apiTracing
			p.Functions = append(p.Functions, f)
		case "AWS::Lambda::Function":
			p.Notes = append(p.Notes, fmt.Sprintf("Resources.%s is a plain AWS::Lambda::Function; thaw run runs AWS::Serverless::Function resources", name))
		}
	}
	return nil
}

func scalarTexts(n *node) []string {
	if n == nil {
		return nil
	}
	if n.kind == scalarNode {
		return []string{n.str}
	}
	var out []string
	for _, v := range n.vals {
		out = append(out, scalarTexts(v)...)
	}
	return out
}

// prop returns the function's property, or the Globals one.
func prop(props, globals *node, key string) *node {
	if v := props.get(key); v != nil {
		return v
	}
	return globals.get(key)
}

func (r *samResolver) function(p *Project, name string, props, globals *node) (Function, error) {
	field := "Resources." + name + ".Properties"
	f := Function{Name: name, FunctionName: name, MemoryMB: samDefaultMemory, Timeout: samDefaultTimeout, Environment: map[string]string{}}
	if props == nil {
		props = &node{kind: mapNode}
	}
	str := func(key string) (string, error) {
		return r.text(prop(props, globals, key), field+"."+key)
	}
	var err error
	if f.Handler, err = str("Handler"); err != nil {
		return f, err
	}
	if f.Runtime, err = str("Runtime"); err != nil {
		return f, err
	}
	if f.Handler == "" || f.Runtime == "" {
		return f, props.errorf(field, "needs Handler and Runtime (here or in Globals.Function)")
	}
	if fn, err := str("FunctionName"); err != nil {
		return f, err
	} else if fn != "" {
		f.FunctionName = fn
	}
	code, err := str("CodeUri")
	if err != nil {
		return f, err
	}
	f.CodeDir = filepath.Join(p.Dir, code)
	for _, k := range []struct {
		key string
		set func(int)
	}{
		{"MemorySize", func(v int) { f.MemoryMB = v }},
		{"Timeout", func(v int) { f.Timeout = time.Duration(v) * time.Second }},
	} {
		n := prop(props, globals, k.key)
		if n.isNull() {
			continue
		}
		v, err := r.eval(n, field+"."+k.key)
		if err != nil {
			return f, err
		}
		i, _, err := v.integer(field + "." + k.key)
		if err != nil {
			return f, err
		}
		k.set(i)
	}
	if t, err := str("Tracing"); err != nil {
		return f, err
	} else {
		switch t {
		case "Active":
			f.Tracing = true
		case "", "PassThrough", "Disabled":
		default:
			return f, prop(props, globals, "Tracing").errorf(field+".Tracing", "want Active or PassThrough, found %q", t)
		}
	}
	// Globals' variables first, the function's over them.
	for _, src := range []*node{globals.get("Environment").get("Variables"), props.get("Environment").get("Variables")} {
		for i, k := range src.keysOrNil() {
			v, err := r.eval(src.vals[i], field+".Environment.Variables."+k)
			if err != nil {
				return f, err
			}
			if v == nil { // AWS::NoValue
				delete(f.Environment, k)
				continue
			}
			s, err := v.text(field + ".Environment.Variables." + k)
			if err != nil {
				return f, err
			}
			f.Environment[k] = s
		}
	}
	events := props.get("Events")
	for i, en := range events.keysOrNil() {
		e := events.vals[i]
		typ, _ := e.get("Type").text("")
		api := map[string]string{"Api": "rest", "HttpApi": "http"}[typ]
		if api == "" {
			continue
		}
		ef := field + ".Events." + en + ".Properties"
		ep := e.get("Properties")
		ev := HTTPEvent{API: api, Method: "ANY", Path: "/{proxy+}"}
		if path := ep.get("Path"); !path.isNull() {
			if ev.Path, err = r.text(path, ef+".Path"); err != nil {
				return f, err
			}
		} else if api == "rest" {
			return f, e.errorf(ef+".Path", "is missing")
		}
		if m := ep.get("Method"); !m.isNull() {
			if ev.Method, err = r.text(m, ef+".Method"); err != nil {
				return f, err
			}
			ev.Method = strings.ToUpper(ev.Method)
		}
		f.Events = append(f.Events, ev)
	}
	return f, nil
}

// text evaluates n and returns it as a single value ("" for a missing or
// null one).
func (r *samResolver) text(n *node, field string) (string, error) {
	if n.isNull() {
		return "", nil
	}
	v, err := r.eval(n, field)
	if err != nil {
		return "", err
	}
	return v.text(field)
}

// eval evaluates intrinsic functions in n; nil means AWS::NoValue.
func (r *samResolver) eval(n *node, field string) (*node, error) {
	switch {
	case n == nil:
		return nil, nil
	case strings.HasPrefix(n.tag, "!") && !strings.HasPrefix(n.tag, "!!"):
		return r.intrinsic(n, strings.TrimPrefix(n.tag, "!"), n, field)
	case n.kind == mapNode && len(n.keys) == 1 && (n.keys[0] == "Ref" || strings.HasPrefix(n.keys[0], "Fn::")):
		return r.intrinsic(n, strings.TrimPrefix(n.keys[0], "Fn::"), n.vals[0], field)
	}
	return n, nil
}

// intrinsic evaluates the function fn with argument arg, written at n.
func (r *samResolver) intrinsic(n *node, fn string, arg *node, field string) (*node, error) {
	expr := "!" + fn
	argText := func() (string, error) {
		// The tagged node itself holds the argument in short form.
		a := arg
		if a == n {
			a = &node{kind: n.kind, str: n.str, keys: n.keys, vals: n.vals, file: n.file, line: n.line, col: n.col}
		}
		v, err := r.eval(a, field)
		if err != nil {
			return "", err
		}
		return v.text(field)
	}
	switch fn {
	case "Ref":
		name, err := argText()
		if err != nil {
			return nil, err
		}
		if r.unset[name] {
			return nil, n.errorf(expr+" "+name, "parameter %s has no Default; give it with --parameter-overrides %s=VALUE", name, name)
		}
		v, ok := r.ref(name)
		if !ok {
			return nil, n.errorf(expr+" "+name, "names no parameter, pseudo parameter or resource of the template")
		}
		if name == "AWS::NoValue" {
			return nil, nil
		}
		return scalar(v, n), nil
	case "Sub":
		tmpl := arg
		vars := map[string]string{}
		if arg.kind == listNode { // [template, {Var: value}]
			if len(arg.vals) != 2 {
				return nil, n.errorf(expr, "takes a string, or a list of a string and a map of variables")
			}
			tmpl = arg.vals[0]
			m := arg.vals[1]
			for i, k := range m.keysOrNil() {
				v, err := r.eval(m.vals[i], field)
				if err != nil {
					return nil, err
				}
				s, err := v.text(field)
				if err != nil {
					return nil, err
				}
				vars[k] = s
			}
		}
		if tmpl.kind != scalarNode {
			return nil, n.errorf(expr, "takes a string template")
		}
		s, err := r.sub(n, tmpl.str, vars)
		if err != nil {
			return nil, err
		}
		return scalar(s, n), nil
	case "GetAtt":
		var res, attr string
		if arg.kind == listNode && len(arg.vals) == 2 {
			res, attr = arg.vals[0].str, arg.vals[1].str
		} else if arg.kind == scalarNode {
			res, attr, _ = strings.Cut(arg.str, ".")
		}
		v, err := r.getAtt(n, res, attr)
		if err != nil {
			return nil, err
		}
		return scalar(v, n), nil
	case "Join":
		if arg.kind != listNode || len(arg.vals) != 2 || arg.vals[1].kind != listNode {
			return nil, n.errorf(expr, "takes a list of a separator and a list of values")
		}
		var parts []string
		for _, item := range arg.vals[1].vals {
			v, err := r.eval(item, field)
			if err != nil {
				return nil, err
			}
			s, err := v.text(field)
			if err != nil {
				return nil, err
			}
			parts = append(parts, s)
		}
		return scalar(strings.Join(parts, arg.vals[0].str), n), nil
	}
	return nil, n.errorf(expr, "thaw run does not evaluate %s (it evaluates Ref, Sub, GetAtt and Join)", expr)
}

// ref resolves a !Ref name.
func (r *samResolver) ref(name string) (string, bool) {
	if v, ok := r.params[name]; ok {
		return v, true
	}
	switch name {
	case "AWS::Region":
		return r.region, true
	case "AWS::AccountId":
		return samAccountID, true
	case "AWS::StackName":
		return r.stack, true
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/thaw-run", r.region, samAccountID, r.stack), true
	case "AWS::Partition":
		return "aws", true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	case "AWS::NoValue":
		return "", true
	}
	if r.resources.get(name) != nil {
		return name, true // sam local: a resource's logical id
	}
	return "", false
}

// getAtt resolves the attributes of resources that functions' environments
// usually read.
func (r *samResolver) getAtt(at *node, res, attr string) (string, error) {
	expr := "!GetAtt " + res + "." + attr
	rn := r.resources.get(res)
	if rn == nil {
		return "", at.errorf(expr, "the template has no resource %s", res)
	}
	typ, _ := rn.get("Type").text("")
	name := res
	for _, k := range []string{"TableName", "QueueName", "TopicName", "BucketName", "FunctionName", "StreamName"} {
		if v := rn.get("Properties").get(k); v != nil {
			if ev, err := r.eval(v, ""); err == nil && ev != nil && ev.kind == scalarNode {
				name = ev.str
			}
		}
	}
	arn := map[string]string{
		"AWS::DynamoDB::Table":         "arn:aws:dynamodb:%s:%s:table/" + name,
		"AWS::Serverless::SimpleTable": "arn:aws:dynamodb:%s:%s:table/" + name,
		"AWS::SQS::Queue":              "arn:aws:sqs:%s:%s:" + name,
		"AWS::SNS::Topic":              "arn:aws:sns:%s:%s:" + name,
		"AWS::Serverless::Function":    "arn:aws:lambda:%s:%s:function:" + name,
		"AWS::Lambda::Function":        "arn:aws:lambda:%s:%s:function:" + name,
		"AWS::Kinesis::Stream":         "arn:aws:kinesis:%s:%s:stream/" + name,
	}
	switch {
	case attr == "Arn" && arn[typ] != "":
		return fmt.Sprintf(arn[typ], r.region, samAccountID), nil
	case attr == "Arn" && typ == "AWS::S3::Bucket":
		return "arn:aws:s3:::" + name, nil
	case attr == "QueueName" && typ == "AWS::SQS::Queue", attr == "TopicName" && typ == "AWS::SNS::Topic":
		return name, nil
	case attr == "QueueUrl" && typ == "AWS::SQS::Queue":
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", r.region, samAccountID, name), nil
	}
	return "", at.errorf(expr, "thaw run cannot know %s's %s locally; set the value with a parameter instead", typ, attr)
}

// sub substitutes ${Name}, ${Resource.Attr} and ${!Literal} in s.
func (r *samResolver) sub(at *node, s string, vars map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			return "", at.errorf("!Sub", "%q has no closing }", s[i:])
		}
		name := s[i+2 : i+j]
		b.WriteString(s[:i])
		s = s[i+j+1:]
		switch {
		case strings.HasPrefix(name, "!"): // ${!Literal} writes ${Literal}
			b.WriteString("${" + name[1:] + "}")
		default:
			// Sub's own variables come first, as in CloudFormation.
			if v, ok := vars[name]; ok {
				b.WriteString(v)
				continue
			}
			if res, attr, ok := strings.Cut(name, "."); ok {
				v, err := r.getAtt(at, res, attr)
				if err != nil {
					return "", err
				}
				b.WriteString(v)
				continue
			}
			if r.unset[name] {
				return "", at.errorf("!Sub ${"+name+"}", "parameter %s has no Default; give it with --parameter-overrides %s=VALUE", name, name)
			}
			v, ok := r.ref(name)
			if !ok {
				return "", at.errorf("!Sub ${"+name+"}", "names no parameter, pseudo parameter or resource of the template")
			}
			b.WriteString(v)
		}
	}
}
