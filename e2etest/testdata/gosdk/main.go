// Command gosdk records one "inventory" segment with nested subsegments, annotations and
// metadata using github.com/aws/aws-xray-sdk-go, the way a Go service would, and prints the
// ids it used as JSON. AWS_XRAY_DAEMON_ADDRESS ("tcp:HOST:PORT udp:HOST:PORT") points the
// SDK's UDP emitter and its centralized-sampling client at thaw.
//
// It waits (at most 20 s) for the SDK's first GetSamplingRules call to finish and reports
// whether the rules were fetched, so that the test also covers the sampling API.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
)

// watchLogger writes the SDK's log to stderr and notes the outcome of the first rules fetch.
type watchLogger struct {
	once    sync.Once
	fetched chan bool
}

func (l *watchLogger) Log(level xraylog.LogLevel, msg fmt.Stringer) {
	s := msg.String()
	fmt.Fprintf(os.Stderr, "xray %s: %s\n", level, s)
	switch {
	case strings.Contains(s, "Successfully fetched sampling rules"):
		l.once.Do(func() { l.fetched <- true })
	case strings.Contains(s, "initial refresh of sampling rules"):
		l.once.Do(func() { l.fetched <- false })
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gosdk:", err)
		os.Exit(1)
	}
}

func run() error {
	log := &watchLogger{fetched: make(chan bool, 1)}
	xray.SetLogger(log)
	if err := xray.Configure(xray.Config{ServiceVersion: "1.4.2"}); err != nil {
		return err
	}

	ctx, seg := xray.BeginSegment(context.Background(), "inventory")
	if seg.Sampled != true {
		return errors.New("segment not sampled")
	}
	ids := map[string]string{"inventory": seg.ID}
	must(seg.AddAnnotation("warehouse", "north"))
	must(seg.AddAnnotation("items_requested", 12))
	must(seg.AddAnnotation("priority", true))
	must(seg.AddMetadata("request", map[string]any{"skus": []string{"A-1", "C-3"}, "note": "e2e"}))
	must(seg.AddMetadataToNamespace("inventory", "limits", map[string]int{"max": 50}))
	seg.GetHTTP().GetRequest().Method = "GET"
	seg.GetHTTP().GetRequest().URL = "https://inventory.example.com/stock"
	seg.GetHTTP().GetResponse().Status = 200

	lctx, load := xray.BeginSubsegment(ctx, "load_stock")
	ids["load_stock"] = load.ID
	_, query := xray.BeginSubsegment(lctx, "query_shelves")
	ids["query_shelves"] = query.ID
	must(query.AddAnnotation("shelves", 4))
	must(query.AddMetadataToNamespace("inventory", "rows", []int{3, 1, 4}))
	time.Sleep(2 * time.Millisecond) // some measurable work
	query.Close(nil)
	load.Close(nil)

	_, reserve := xray.BeginSubsegment(ctx, "reserve")
	ids["reserve"] = reserve.ID
	reserve.Close(errors.New("out of stock: C-3"))

	seg.Close(nil)

	fetched := false
	select {
	case fetched = <-log.fetched:
	case <-time.After(20 * time.Second):
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"trace_id":               seg.TraceID,
		"ids":                    ids,
		"sampling_rules_fetched": fetched,
	})
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosdk:", err)
		os.Exit(1)
	}
}
