// Command go-orders is an orders function in Go, built as a provided.al2023
// bootstrap with aws-lambda-go and traced by aws-xray-sdk-go: pricing the
// order is a subsegment of its own, and the profile API call is captured
// by the SDK's HTTP client. INIT_SLEEP_MS stands for slow init code.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-xray-sdk-go/xray"
)

var client = xray.Client(http.DefaultClient)

func init() {
	if ms, err := strconv.Atoi(os.Getenv("INIT_SLEEP_MS")); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
}

type request struct {
	PathParameters map[string]string `json:"pathParameters"`
}

func handler(ctx context.Context, req request) (map[string]any, error) {
	total := 0
	err := xray.Capture(ctx, "price_order", func(ctx context.Context) error {
		if err := xray.AddAnnotation(ctx, "items", 3); err != nil {
			return err
		}
		time.Sleep(10 * time.Millisecond)
		total = 42
		return nil
	})
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, os.Getenv("PROFILE_URL"), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	profile, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body, _ := json.Marshal(map[string]any{"orderId": req.PathParameters["id"], "total": total, "profile": json.RawMessage(profile)})
	return map[string]any{"statusCode": 200, "headers": map[string]string{"Content-Type": "application/json"}, "body": string(body)}, nil
}

func main() { lambda.Start(handler) }
