// Command golambda is a Go function built with aws-lambda-go, run as a
// provided.al2023 bootstrap by the e2e tests of thaw's Runtime API.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// event selects what the handler does.
type event struct {
	Action string `json:"action"`
	Size   int    `json:"size"`
	Millis int    `json:"millis"`

	// API Gateway proxy events (payload 1.0 and 2.0).
	Version        string            `json:"version"`
	HTTPMethod     string            `json:"httpMethod"`
	Path           string            `json:"path"`
	RawPath        string            `json:"rawPath"`
	PathParameters map[string]string `json:"pathParameters"`
	Body           string            `json:"body"`
	RequestContext *struct {
		HTTP *struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
}

// init is the function's init code: it sleeps INIT_SLEEP_MS, or exits
// with INIT_EXIT, so tests can measure and break Init.
func init() {
	if ms, err := strconv.Atoi(os.Getenv("INIT_SLEEP_MS")); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	// INIT_FAIL_ONCE names a file: the first init that finds it missing
	// creates it and fails, the next one goes on.
	if f := os.Getenv("INIT_FAIL_ONCE"); f != "" {
		if _, err := os.Stat(f); err != nil {
			_ = os.WriteFile(f, nil, 0o644)
			fmt.Println("init fails once on purpose")
			os.Exit(4)
		}
	}
	if code, err := strconv.Atoi(os.Getenv("INIT_EXIT")); err == nil {
		fmt.Println("init fails on purpose")
		os.Exit(code)
	}
}

var ballast [][]byte

func handler(ctx context.Context, e event) (map[string]any, error) {
	if e.RequestContext != nil { // from API Gateway: answer its response shape
		method, path := e.HTTPMethod, e.Path
		if e.Version == "2.0" {
			method, path = e.RequestContext.HTTP.Method, e.RawPath
		}
		fmt.Println("handling", method, path)
		body, _ := json.Marshal(map[string]any{"method": method, "path": path, "params": e.PathParameters, "body": e.Body, "version": e.Version})
		return map[string]any{"statusCode": 201, "headers": map[string]string{"X-Thaw": "yes"}, "body": string(body)}, nil
	}
	fmt.Println("handling", e.Action)
	switch e.Action {
	case "alloc": // touch Size MB
		b := make([]byte, e.Size<<20)
		for i := range b {
			if i%4096 == 0 {
				b[i] = 1
			}
		}
		ballast = append(ballast, b)
		time.Sleep(200 * time.Millisecond)
	case "env":
		out := map[string]any{}
		for _, k := range []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
			"AWS_REGION", "AWS_DEFAULT_REGION", "LAMBDA_TASK_ROOT", "_HANDLER", "AWS_LAMBDA_INITIALIZATION_TYPE",
			"AWS_XRAY_DAEMON_ADDRESS", "AWS_XRAY_CONTEXT_MISSING", "TABLE_NAME", "AWS_LAMBDA_LOG_GROUP_NAME", "TZ"} {
			out[k] = os.Getenv(k)
		}
		_, out["AWS_LAMBDA_MAX_CONCURRENCY set"] = os.LookupEnv("AWS_LAMBDA_MAX_CONCURRENCY")
		return out, nil
	case "error":
		return nil, errors.New("order A-1001 not found")
	case "panic":
		panic("boom")
	case "big":
		return map[string]any{"data": strings.Repeat("x", e.Size)}, nil
	case "sleep":
		time.Sleep(time.Duration(e.Millis) * time.Millisecond)
	case "exit":
		os.Exit(3)
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	return map[string]any{
		"requestId":  lc.AwsRequestID,
		"arn":        lc.InvokedFunctionArn,
		"traceId":    ctx.Value("x-amzn-trace-id"),
		"deadlineMs": deadline.UnixMilli(),
	}, nil
}

func main() { lambda.Start(handler) }
