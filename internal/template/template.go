// Package template reads the function projects thaw run runs: a Serverless
// Framework serverless.yml or an AWS SAM template.yaml, with their variables
// and intrinsic functions resolved the way the real tools resolve them.
// Anything that cannot be resolved is an error naming the file, line, column
// and expression; parts that matter only in AWS (IAM, deployment buckets,
// plugins) are read and ignored with a note.
//
// It imports the standard library and a YAML parser only.
package template

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Project is a loaded template.
type Project struct {
	// Path is the template file; Dir its directory, which code paths are
	// relative to.
	Path, Dir string
	// Kind is "serverless" or "sam".
	Kind string
	// Service is the service (Serverless) or stack (SAM) name; Stage the
	// stage; Region the region functions see as AWS_REGION.
	Service, Stage, Region string
	// Functions, by name.
	Functions []Function
	// Notes say what was read and ignored, one line each.
	Notes []string
}

// Function is one function of a project.
type Function struct {
	// Name is the template's name for it (the key under functions, or the
	// SAM logical id); FunctionName what AWS would call it.
	Name, FunctionName string
	Handler, Runtime   string
	// CodeDir is the directory holding the code, absolute.
	CodeDir     string
	MemoryMB    int
	Timeout     time.Duration
	Environment map[string]string
	// Tracing is Lambda active tracing; APITracing API Gateway's.
	Tracing, APITracing bool
	Events              []HTTPEvent
}

// HTTPEvent is an HTTP route to a function: API Gateway REST (payload
// version 1) or HTTP API (payload version 2).
type HTTPEvent struct {
	API    string // "rest" or "http"
	Method string // upper case, or "ANY"
	Path   string // with {param} segments, as in the template
}

// Options are what the command line adds to a template.
type Options struct {
	// Stage is --stage (Serverless: opt:stage).
	Stage string
	// Region is --region.
	Region string
	// Opts are other --name value options (opt:name).
	Opts map[string]string
	// Params are SAM --parameter-overrides.
	Params map[string]string
	// Getenv reads the environment (env:NAME); nil means os.LookupEnv.
	Getenv func(string) (string, bool)
}

// Error is a template problem at a place in a file.
type Error struct {
	File      string
	Line, Col int
	// Expr is the expression or field at fault, when there is one.
	Expr string
	Msg  string
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d:%d", e.Line, e.Col)
	}
	if e.Expr != "" {
		s += ": " + e.Expr
	}
	return s + ": " + e.Msg
}

// Load reads the template at path: a serverless.yml (or .yaml), or a SAM
// template (any other name, with an AWS::Serverless-2016-10-31 transform).
// When path is a directory, Load looks there for serverless.yml,
// serverless.yaml, template.yaml or template.yml, in that order.
func Load(path string, opts Options) (*Project, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		found := ""
		for _, name := range []string{"serverless.yml", "serverless.yaml", "template.yaml", "template.yml"} {
			if _, err := os.Stat(filepath.Join(path, name)); err == nil {
				found = filepath.Join(path, name)
				break
			}
		}
		if found == "" {
			return nil, fmt.Errorf("%s has no serverless.yml, serverless.yaml, template.yaml or template.yml", path)
		}
		path = found
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	root, err := parseFile(abs)
	if err != nil {
		return nil, err
	}
	p := &Project{Path: abs, Dir: filepath.Dir(abs)}
	switch filepath.Base(abs) {
	case "serverless.yml", "serverless.yaml":
		p.Kind = "serverless"
		err = loadServerless(p, root, opts)
	default:
		p.Kind = "sam"
		err = loadSAM(p, root, opts)
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(p.Functions, func(a, b Function) int { return strings.Compare(a.Name, b.Name) })
	if len(p.Functions) == 0 {
		return nil, &Error{File: abs, Msg: "defines no functions"}
	}
	return p, nil
}

// asError returns err as an *Error, if it is one.
func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
