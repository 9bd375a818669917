// Command gosampling serves HTTP requests through github.com/aws/aws-xray-sdk-go's xray.Handler,
// so that each request's sampling decision is made by the SDK's centralized sampling strategy
// with the rules and targets it fetches from AWS_XRAY_DAEMON_ADDRESS ("tcp:HOST:PORT
// udp:HOST:PORT"), the way a Go service behind the X-Ray daemon does.
//
// It waits (at most 15 s) for the SDK's first GetSamplingRules call, then sends HEALTH_REQUESTS
// requests to /health over about 3 s and CHECKOUT_REQUESTS requests to /checkout over about 5 s
// (concurrently), then waits (at most 25 s from the start) for the SDK to report its statistics
// with SamplingTargets. It prints one JSON line with what the SDK decided.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
)

// watchLogger writes the SDK's log to stderr and signals the sampling pollers' successes.
type watchLogger struct {
	rulesOnce, targetsOnce sync.Once
	rules, targets         chan struct{}
}

func (l *watchLogger) Log(level xraylog.LogLevel, msg fmt.Stringer) {
	s := msg.String()
	fmt.Fprintf(os.Stderr, "%s xray %s: %s\n", time.Now().Format("15:04:05.000"), level, s)
	switch {
	case strings.Contains(s, "Successfully fetched sampling rules"):
		l.rulesOnce.Do(func() { close(l.rules) })
	case strings.Contains(s, "Successfully refreshed sampling targets"):
		l.targetsOnce.Do(func() { close(l.targets) })
	}
}

// pathResult is what the SDK decided for the requests to one path.
type pathResult struct {
	Requests int      `json:"requests"`
	Sampled  int      `json:"sampled"`
	TraceIDs []string `json:"trace_ids"` // of the sampled requests
}

type result struct {
	RulesFetched    bool                   `json:"rules_fetched"`
	TargetsReported bool                   `json:"targets_reported"`
	Paths           map[string]*pathResult `json:"paths"`
	LoadSeconds     float64                `json:"load_seconds"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gosampling:", err)
		os.Exit(1)
	}
}

func run() error {
	start := time.Now()
	log := &watchLogger{rules: make(chan struct{}), targets: make(chan struct{})}
	xray.SetLogger(log)
	strategy, err := sampling.NewCentralizedStrategy()
	if err != nil {
		return err
	}
	if err := xray.Configure(xray.Config{SamplingStrategy: strategy}); err != nil {
		return err
	}
	res := result{Paths: map[string]*pathResult{"/health": {}, "/checkout": {}}}

	// The first decision starts the SDK's rule and target pollers.
	strategy.ShouldTrace(&sampling.Request{ServiceName: "gosampling-warmup"})
	select {
	case <-log.rules:
		res.RulesFetched = true
	case <-time.After(15 * time.Second):
		return fmt.Errorf("the SDK did not fetch sampling rules within 15 s")
	}

	var mu sync.Mutex
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seg := xray.GetSegment(r.Context())
		mu.Lock()
		if p := res.Paths[r.URL.Path]; p != nil {
			p.Requests++
			if seg != nil && seg.Sampled {
				p.Sampled++
				p.TraceIDs = append(p.TraceIDs, seg.TraceID)
			}
		}
		mu.Unlock()
		io.WriteString(w, "ok\n")
	})
	srv := httptest.NewServer(xray.Handler(xray.NewFixedSegmentNamer("shop"), app))
	defer srv.Close()

	load := time.Now()
	var wg sync.WaitGroup
	var errs []error
	send := func(path string, n int, over time.Duration) {
		defer wg.Done()
		tick := over / time.Duration(n)
		for i := 0; i < n; i++ {
			resp, err := http.Get(srv.URL + path)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			time.Sleep(tick)
		}
	}
	wg.Add(2)
	go send("/health", envInt("HEALTH_REQUESTS", 20), 3*time.Second)
	go send("/checkout", envInt("CHECKOUT_REQUESTS", 30), 5*time.Second)
	wg.Wait()
	res.LoadSeconds = time.Since(load).Seconds()
	if len(errs) > 0 {
		return fmt.Errorf("%d requests failed, first: %w", len(errs), errs[0])
	}

	ctx, cancel := context.WithDeadline(context.Background(), start.Add(25*time.Second))
	defer cancel()
	select {
	case <-log.targets:
		res.TargetsReported = true
	case <-ctx.Done():
	}

	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err != nil || n <= 0 {
		return def
	}
	return n
}
