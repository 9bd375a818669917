package e2etest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sdkRun is what the Node and Go SDK programs print: the trace id and the id of each entity
// by name.
type sdkRun struct {
	TraceID              string            `json:"trace_id"`
	IDs                  map[string]string `json:"ids"`
	SamplingRulesFetched *bool             `json:"sampling_rules_fetched"`
}

func parseSDKRun(t *testing.T, r runResult) sdkRun {
	t.Helper()
	var out sdkRun
	if err := json.Unmarshal([]byte(lastLine(r.Stdout)), &out); err != nil || out.TraceID == "" {
		t.Fatalf("program printed %q, want a JSON line with trace_id: %v\nstderr:\n%s", r.Stdout, err, r.Stderr)
	}
	return out
}

// entityCheck is what one named entity of an SDK trace must look like.
type entityCheck struct {
	name     string
	parent   string         // name of the enclosing entity; "" for the segment itself
	fields   map[string]any // dotted path → JSON value (compared as JSON)
	hasCause string         // substring of the first exception's message, if any
}

// checkSDKTrace checks nesting, annotations, metadata and causes of an SDK-recorded trace.
func checkSDKTrace(t *testing.T, docs []doc, run sdkRun, checks []entityCheck) {
	t.Helper()
	for _, c := range checks {
		f, err := findOne(docs, c.name, withID(run.IDs[c.name]))
		if err != nil {
			t.Errorf("%s (id %s): %v", c.name, run.IDs[c.name], err)
			continue
		}
		if str(f.E, "name") != c.name {
			t.Errorf("entity %s has name %q, want %q", run.IDs[c.name], str(f.E, "name"), c.name)
		}
		parent := ""
		if len(f.Ancestors) > 0 {
			parent = str(f.Ancestors[len(f.Ancestors)-1], "name")
		}
		if parent != c.parent {
			t.Errorf("%s is nested under %v, want directly under %q\n%s", c.name, names(f.Ancestors), c.parent, outline(docs))
		}
		for path, want := range c.fields {
			if got := field(f.E, strings.Split(path, ".")...); !jsonEqual(got, want) {
				t.Errorf("%s: %s = %s, want %s", c.name, path, mustJSON(got), mustJSON(want))
			}
		}
		if c.hasCause != "" {
			var ex map[string]any
			if exs, _ := field(f.E, "cause", "exceptions").([]any); len(exs) > 0 {
				ex, _ = exs[0].(map[string]any)
			}
			if !isTrue(f.E, "fault") || !strings.Contains(str(ex, "message"), c.hasCause) {
				t.Errorf("%s: fault = %v, cause = %s, want fault and an exception %q", c.name, field(f.E, "fault"), mustJSON(field(f.E, "cause")), c.hasCause)
			}
		}
	}
}

// TestNodeSDK sends a segment recorded by aws-xray-sdk-core over UDP and reads it back.
func TestNodeSDK(t *testing.T) {
	node := requireNode(t)
	th := startThaw(t, t.TempDir())
	api := th.API()

	r := mustRun(t, time.Minute, []string{
		"NODE_PATH=" + nodeModules(),
		"AWS_XRAY_DAEMON_ADDRESS=" + th.UDPAddr,
	}, testdataDir("node"), node, "checkout.js")
	run := parseSDKRun(t, r)

	docs := waitForTrace(t, api, run.TraceID, func(docs []doc) error {
		for name, id := range run.IDs {
			if _, err := findOne(docs, name, withID(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if len(docs) != 1 {
		t.Errorf("trace has %d documents, want the one segment:\n%s", len(docs), outline(docs))
	}
	checkSDKTrace(t, docs, run, []entityCheck{
		{name: "checkout", fields: map[string]any{
			"annotations":            map[string]any{"customer_tier": "gold", "cart_items": 3, "express": true},
			"metadata.shop.cart":     map[string]any{"items": []any{map[string]any{"sku": "A-1", "qty": 2}, map[string]any{"sku": "B-7", "qty": 1}}, "total": 41.5},
			"metadata.default.build": "e2e",
			"user":                   "customer-42",
			"http.request.method":    "POST",
			"http.request.url":       "http://shop.example.com/checkout",
			"http.request.client_ip": "10.1.2.3",
			"http.response.status":   402,
			"aws.xray.sdk":           "X-Ray for Node.js",
			"service.runtime":        "node",
			"trace_id":               run.TraceID,
		}},
		{name: "validate_cart", parent: "checkout"},
		{name: "price_lookup", parent: "validate_cart", fields: map[string]any{
			"annotations.sku_count":   2,
			"metadata.default.prices": map[string]any{"A-1": 12.25, "B-7": 17},
		}},
		{name: "price_cache", parent: "price_lookup", fields: map[string]any{"annotations.cache_hit": false}},
		{name: "charge_card", parent: "checkout", fields: map[string]any{"annotations.gateway": "acme"}, hasCause: "card declined"},
	})

	// Node sends stack frames with "line": null; the frame must survive.
	charge, err := findOne(docs, "charge_card", withID(run.IDs["charge_card"]))
	if err == nil {
		exs, _ := field(charge.E, "cause", "exceptions").([]any)
		if len(exs) == 1 {
			stack, _ := exs[0].(map[string]any)["stack"].([]any)
			if len(stack) < 2 {
				t.Errorf("charge_card exception stack = %v, want the frames the SDK sent (some with line null)", stack)
			}
		}
	}

	// The summary aggregates the annotations of every entity and the segment's user.
	req := summariesRequest{StartTime: epoch(time.Now().Add(-5 * time.Minute)), EndTime: epoch(time.Now().Add(5 * time.Minute))}
	waitForSummaries(t, api, req, func(sums []traceSummary) error {
		if len(sums) != 1 || sums[0].Id != run.TraceID {
			return fmt.Errorf("want the summary of %s alone, got %v", run.TraceID, summaryIDs(sums))
		}
		var errs []error
		for key, want := range map[string]string{
			"customer_tier": `{"StringValue":"gold"}`,
			"cart_items":    `{"NumberValue":3}`,
			"express":       `{"BooleanValue":true}`,
			"sku_count":     `{"NumberValue":2}`,
			"cache_hit":     `{"BooleanValue":false}`,
			"gateway":       `{"StringValue":"acme"}`,
		} {
			if err := checkAnnotation(sums[0].Annotations, key, want); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
}

// checkAnnotation checks that a summary's Annotations hold exactly one value for key.
func checkAnnotation(anns map[string][]json.RawMessage, key, want string) error {
	vals := anns[key]
	if len(vals) != 1 {
		return fmt.Errorf("summary annotation %s has %d values, want 1 (%s); all: %s", key, len(vals), want, mustJSON(anns))
	}
	var v struct{ AnnotationValue json.RawMessage }
	if err := json.Unmarshal(vals[0], &v); err != nil {
		return fmt.Errorf("summary annotation %s: %s: %w", key, vals[0], err)
	}
	var got, exp any
	if json.Unmarshal(v.AnnotationValue, &got) != nil || json.Unmarshal([]byte(want), &exp) != nil || !jsonEqual(got, exp) {
		return fmt.Errorf("summary annotation %s AnnotationValue = %s, want %s", key, v.AnnotationValue, want)
	}
	return nil
}

var gosdkBuild struct {
	once sync.Once
	bin  string
	err  error
}

// buildGoSDKProgram builds testdata/gosdk (its own module) once per test binary.
func buildGoSDKProgram(t *testing.T) string {
	t.Helper()
	gosdkBuild.once.Do(func() {
		out := filepath.Join(binDir, "gosdk")
		r := runProgram(t, 5*time.Minute, nil, testdataDir("gosdk"), "go", "build", "-o", out, ".")
		if r.Err != nil {
			gosdkBuild.err = fmt.Errorf("go build testdata/gosdk: %w\n%s%s", r.Err, r.Stdout, r.Stderr)
			return
		}
		gosdkBuild.bin = out
	})
	if gosdkBuild.err != nil {
		t.Fatal(gosdkBuild.err)
	}
	return gosdkBuild.bin
}

// TestGoSDK records a segment with github.com/aws/aws-xray-sdk-go, whose sampling client
// also fetches the sampling rules from thaw, and reads the segment back.
func TestGoSDK(t *testing.T) {
	bin := buildGoSDKProgram(t)
	th := startThaw(t, t.TempDir())
	api := th.API()
	u, err := url.Parse(th.URL)
	if err != nil {
		t.Fatal(err)
	}

	r := mustRun(t, time.Minute, []string{
		"AWS_XRAY_DAEMON_ADDRESS=tcp:" + u.Host + " udp:" + th.UDPAddr,
	}, t.TempDir(), bin)
	run := parseSDKRun(t, r)
	if run.SamplingRulesFetched == nil || !*run.SamplingRulesFetched {
		t.Errorf("the Go SDK did not fetch sampling rules from POST %s/GetSamplingRules; its log:\n%s", th.URL, r.Stderr)
	}

	docs := waitForTrace(t, api, run.TraceID, func(docs []doc) error {
		for name, id := range run.IDs {
			if _, err := findOne(docs, name, withID(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if len(docs) != 1 {
		t.Errorf("trace has %d documents, want the one segment:\n%s", len(docs), outline(docs))
	}
	checkSDKTrace(t, docs, run, []entityCheck{
		{name: "inventory", fields: map[string]any{
			"annotations":               map[string]any{"warehouse": "north", "items_requested": 12, "priority": true},
			"metadata.default.request":  map[string]any{"skus": []any{"A-1", "C-3"}, "note": "e2e"},
			"metadata.inventory.limits": map[string]any{"max": 50},
			"http.request.method":       "GET",
			"http.request.url":          "https://inventory.example.com/stock",
			"http.response.status":      200,
			"service.version":           "1.4.2",
			"aws.xray.sdk":              "X-Ray for Go",
		}},
		{name: "load_stock", parent: "inventory"},
		{name: "query_shelves", parent: "load_stock", fields: map[string]any{
			"annotations.shelves":     4,
			"metadata.inventory.rows": []any{3, 1, 4},
		}},
		{name: "reserve", parent: "inventory", hasCause: "out of stock: C-3"},
	})
}
