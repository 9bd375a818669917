// Command golambda is a Go function built with aws-lambda-go, run as a
// provided.al2023 bootstrap by the e2e tests of thaw's Runtime API.
package main

import (
	"context"
	"errors"
	"os"
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
}

func handler(ctx context.Context, e event) (map[string]any, error) {
	switch e.Action {
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
