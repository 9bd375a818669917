package template

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// env is a fixed environment for the tests.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// golden compares p, as JSON with paths relative to its directory, with
// testdata/NAME.golden.json; UPDATE_GOLDEN=1 rewrites it.
func golden(t *testing.T, name string, p *Project) {
	t.Helper()
	dir := p.Dir
	p.Path, p.Dir = filepath.Base(p.Path), "."
	for i := range p.Functions {
		rel, err := filepath.Rel(dir, p.Functions[i].CodeDir)
		if err != nil {
			t.Fatal(err)
		}
		p.Functions[i].CodeDir = rel
	}
	got, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden.json")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), strings.TrimSpace(string(got))); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestServerless(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"serverless-dev", Options{Getenv: env(map[string]string{"USER_NAME": "ada"})}},
		{"serverless-prod", Options{Stage: "prod", Region: "us-west-2", Getenv: env(map[string]string{"LOG_LEVEL": "debug"})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(filepath.Join("testdata", "serverless"), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, p)
		})
	}
}

func TestSAM(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"sam-defaults", Options{Getenv: env(nil)}},
		{"sam-overrides", Options{Region: "eu-central-1", Params: map[string]string{"Stage": "prod"}, Getenv: env(nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(filepath.Join("testdata", "sam", "template.yaml"), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, p)
		})
	}
}

// TestErrors loads broken templates and checks each error names the file,
// line, column and expression, with a reason a person can act on.
func TestErrors(t *testing.T) {
	const sls = "serverless.yml"
	const sam = "template.yaml"
	samHead := "Transform: AWS::Serverless-2016-10-31\n"
	for _, tc := range []struct {
		name, file, body string
		opts             Options
		want             string // the error after the directory
	}{
		{"env missing", sls, "service: s\nprovider:\n  runtime: python3.12\n  environment:\n    A: ${env:NOPE}\nfunctions:\n  f:\n    handler: h.f\n",
			Options{}, "serverless.yml:5:8: ${env:NOPE}: environment variable NOPE is not set, and there is no fallback (add one: ${env:NOPE, 'value'})"},
		{"opt missing", sls, "service: s-${opt:team}\nprovider:\n  runtime: go1.x\nfunctions:\n  f:\n    handler: h\n",
			Options{}, "serverless.yml:1:10: ${opt:team}: option --team was not given, and there is no fallback (add one: ${opt:team, 'value'})"},
		{"self missing", sls, "service: s\ncustom:\n  a: 1\nprovider:\n  runtime: go1.x\n  memorySize: ${self:custom.b}\nfunctions:\n  f:\n    handler: h\n",
			Options{}, "serverless.yml:6:15: ${self:custom.b}: serverless.yml has no custom.b"},
		{"self cycle", sls, "service: s\ncustom:\n  a: ${self:custom.b}\n  b: ${self:custom.a}\nprovider:\n  runtime: go1.x\nfunctions:\n  f:\n    handler: h\n",
			Options{}, "serverless.yml:3:6: ${self:custom.b}: refers to itself (custom.b → custom.a → custom.b)"},
		{"unknown source", sls, "service: ${ssm:/my/param}\nprovider:\n  runtime: go1.x\nfunctions:\n  f:\n    handler: h\n",
			Options{}, "serverless.yml:1:10: ${ssm:/my/param}: thaw run does not resolve ssm: variables (it reads env, opt, self, file, sls and aws)"},
		{"unclosed", sls, "service: ${env:A\nprovider:\n  runtime: go1.x\nfunctions:\n  f:\n    handler: h\n",
			Options{}, `serverless.yml:1:10: ${env:A: "${env:A" has no closing }`},
		{"file missing key", sls, "service: ${file(./c.json):nope}\nprovider:\n  runtime: go1.x\nfunctions:\n  f:\n    handler: h\n",
			Options{}, "serverless.yml:1:10: ${file(./c.json):nope}: the file has no such key"},
		{"bad yaml", sls, "service: s\nprovider:\n  runtime: [go1.x\n",
			Options{}, "serverless.yml:2:1: not valid YAML: did not find expected ',' or ']'"},
		{"no handler", sls, "service: s\nprovider:\n  runtime: go1.x\nfunctions:\n  f:\n    timeout: 3\n",
			Options{}, "serverless.yml:6:5: functions.f.handler: is missing"},
		{"bad memory", sls, "service: s\nprovider:\n  runtime: go1.x\nfunctions:\n  f:\n    handler: h\n    memorySize: lots\n",
			Options{}, `serverless.yml:7:17: functions.f.memorySize: want a whole number, found "lots"`},
		{"bad event", sls, "service: s\nprovider:\n  runtime: go1.x\nfunctions:\n  f:\n    handler: h\n    events:\n      - httpApi: GET\n",
			Options{}, `serverless.yml:8:18: functions.f.events[0].httpApi: want "METHOD /path", found "GET"`},
		{"no functions", sls, "service: s\nprovider:\n  runtime: go1.x\n",
			Options{}, "serverless.yml: defines no functions"},
		{"not sam", sam, "Resources: {}\n",
			Options{}, "template.yaml:1:1: Transform: is not a SAM template"},
		{"sam unknown ref", sam, samHead + "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: h\n      Runtime: go1.x\n      Environment:\n        Variables:\n          A: !Ref Nope\n",
			Options{}, "template.yaml:10:14: !Ref Nope: names no parameter, pseudo parameter or resource of the template"},
		{"sam param without default", sam, samHead + "Parameters:\n  Key:\n    Type: String\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: h\n      Runtime: go1.x\n      Environment:\n        Variables:\n          A: !Ref Key\n",
			Options{}, "template.yaml:13:14: !Ref Key: parameter Key has no Default; give it with --parameter-overrides Key=VALUE"},
		{"sam param without default in sub", sam, samHead + "Parameters:\n  Key:\n    Type: String\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: h\n      Runtime: go1.x\n      Environment:\n        Variables:\n          A: !Sub 'k-${Key}'\n",
			Options{}, "template.yaml:13:14: !Sub ${Key}: parameter Key has no Default; give it with --parameter-overrides Key=VALUE"},
		{"sam unknown override", sam, samHead + "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: h\n      Runtime: go1.x\n",
			Options{Params: map[string]string{"Stage": "x"}}, "template.yaml:1:1: --parameter-overrides Stage: the template has no parameter Stage"},
		{"sam getatt", sam, samHead + "Resources:\n  B:\n    Type: AWS::Custom::Thing\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: h\n      Runtime: go1.x\n      Environment:\n        Variables:\n          A: !GetAtt B.Endpoint\n",
			Options{}, "template.yaml:12:14: !GetAtt B.Endpoint: thaw run cannot know AWS::Custom::Thing's Endpoint locally; set the value with a parameter instead"},
		{"sam unknown function", sam, samHead + "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: !If [c, a, b]\n      Runtime: go1.x\n",
			Options{}, "template.yaml:6:16: !If: thaw run does not evaluate !If (it evaluates Ref, Sub, GetAtt and Join)"},
		{"sam no handler", sam, samHead + "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: go1.x\n",
			Options{}, "template.yaml:6:7: Resources.F.Properties: needs Handler and Runtime (here or in Globals.Function)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "c.json"), []byte(`{"a": 1}`), 0o644); err != nil {
				t.Fatal(err)
			}
			tc.opts.Getenv = env(nil)
			_, err := Load(filepath.Join(dir, tc.file), tc.opts)
			if err == nil {
				t.Fatalf("Load succeeded; want an error containing %q", tc.want)
			}
			got := strings.TrimPrefix(err.Error(), dir+string(filepath.Separator))
			if !strings.Contains(got, tc.want) {
				t.Errorf("error\n  %s\nwant it to contain\n  %s", got, tc.want)
			}
		})
	}
}

// FuzzLoad feeds arbitrary serverless.yml and template.yaml files to Load:
// no panic, no hang, and an error is always positioned in the file.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{"testdata/serverless/serverless.yml", "testdata/sam/template.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(p, "template.yaml"))
	}
	f.Add([]byte("service: ${self:service}\nfunctions: {f: {handler: h, runtime: go1.x}}\n"), false)
	f.Add([]byte("a: &a [*a]\n"), false)
	f.Fuzz(func(t *testing.T, body []byte, sam bool) {
		dir := t.TempDir()
		name := "serverless.yml"
		if sam {
			name = "template.yaml"
		}
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(filepath.Join(dir, name), Options{Getenv: env(nil)})
		if err != nil && !strings.Contains(err.Error(), name) {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}
