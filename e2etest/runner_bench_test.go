package e2etest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thawtrace/thaw/internal/runner"
	"github.com/thawtrace/thaw/internal/template"
)

// Benchmarks of thaw run's own share of an invocation, against a baseline
// measured in the same run:
//
//	go test -run '^$' -bench 'Runner|HTTPBaseline' -benchtime 2000x ./e2etest/
//
// The function is the aws-lambda-go function of testdata/golambda behind
// the API Gateway front (REST API, payload 1.0), answering at once.
// BenchmarkHTTPBaseline is the floor: one HTTP round trip on loopback to a
// Go handler that decodes the same event and encodes the same answer.
// Warm minus baseline is what the runner and the Lambda runtime protocol
// add to an invocation.

func benchProject(b *testing.B) *template.Project {
	b.Helper()
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fn"), 0o755); err != nil {
		b.Fatal(err)
	}
	mustGoBuild(b, testdataDir("golambda"), filepath.Join(dir, "fn", "bootstrap"))
	tmpl := `Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: fn
      CodeUri: fn/
      Handler: bootstrap
      Runtime: provided.al2023
      Timeout: 5
      Events:
        Hello:
          Type: Api
          Properties:
            Path: /hello
            Method: post
`
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(tmpl), 0o644); err != nil {
		b.Fatal(err)
	}
	p, err := template.Load(dir, template.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func post(b *testing.B, url string) {
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"n":1}`))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkRunnerWarm is a warm invocation through the front.
func BenchmarkRunnerWarm(b *testing.B) {
	r, err := runner.New(benchProject(b), runner.Config{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	srv := httptest.NewServer(runner.NewFront(r, "api", "Prod"))
	defer srv.Close()
	post(b, srv.URL+"/hello") // the cold start
	b.ResetTimer()
	for b.Loop() {
		post(b, srv.URL+"/hello")
	}
}

// BenchmarkRunnerCold is a cold start: a new environment each time (the
// process's start and the Go runtime's init included).
func BenchmarkRunnerCold(b *testing.B) {
	p := benchProject(b)
	for b.Loop() {
		b.StopTimer()
		r, err := runner.New(p, runner.Config{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(runner.NewFront(r, "api", "Prod"))
		b.StartTimer()
		post(b, srv.URL+"/hello")
		b.StopTimer()
		srv.Close()
		r.Close()
		b.StartTimer()
	}
}

// BenchmarkHTTPBaseline is the floor the warm invocation is compared with.
func BenchmarkHTTPBaseline(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		_, _ = w.Write(append([]byte(`{"method":"POST","path":"/hello","params":null,"version":"","body":`), append(body, '}')...))
	}))
	defer srv.Close()
	for b.Loop() {
		post(b, srv.URL)
	}
}
