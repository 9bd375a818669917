package e2etest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The two rules the SDK sampling tests create: /health is never traced, /checkout gets a
// reservoir of one trace per second and no fixed rate.
const (
	healthRule   = "e2e-health-off"
	checkoutRule = "e2e-checkout-1ps"
)

// samplingRun is what testdata/node/sampling.js and testdata/gosampling print.
type samplingRun struct {
	RulesFetched    bool `json:"rules_fetched"`
	TargetsReported bool `json:"targets_reported"`
	Paths           map[string]*struct {
		Requests int      `json:"requests"`
		Sampled  int      `json:"sampled"`
		TraceIDs []string `json:"trace_ids"`
	} `json:"paths"`
	LoadSeconds float64 `json:"load_seconds"`
}

// createSDKSamplingRules creates the /health and /checkout rules through the HTTP API.
func createSDKSamplingRules(t *testing.T, api *apiClient) {
	t.Helper()
	for _, r := range []struct {
		name          string
		priority      int
		reservoirSize int
		path          string
	}{
		{healthRule, 1, 0, "/health"},
		{checkoutRule, 2, 1, "/checkout"},
	} {
		in := map[string]any{"SamplingRule": map[string]any{
			"RuleName": r.name, "ResourceARN": "*", "Priority": r.priority,
			"FixedRate": 0, "ReservoirSize": r.reservoirSize,
			"ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*",
			"URLPath": r.path, "Version": 1,
		}}
		if err := api.call(t.Context(), "/CreateSamplingRule", in, nil); err != nil {
			t.Fatalf("CreateSamplingRule %s: %v", r.name, err)
		}
	}
}

// parseSamplingRun decodes the program's last output line and checks that it saw both paths.
func parseSamplingRun(t *testing.T, r runResult) samplingRun {
	t.Helper()
	var run samplingRun
	if err := json.Unmarshal([]byte(lastLine(r.Stdout)), &run); err != nil || run.Paths["/health"] == nil || run.Paths["/checkout"] == nil {
		t.Fatalf("program printed %q, want a JSON line with paths /health and /checkout: %v\nstderr:\n%s", r.Stdout, err, r.Stderr)
	}
	t.Logf("SDK decisions: /health %d of %d sampled, /checkout %d of %d sampled, load %.1f s; rules fetched %v, statistics reported %v",
		run.Paths["/health"].Sampled, run.Paths["/health"].Requests, run.Paths["/checkout"].Sampled, run.Paths["/checkout"].Requests,
		run.LoadSeconds, run.RulesFetched, run.TargetsReported)
	return run
}

// checkSDKSampling checks that the SDK obeyed thaw's rules: no /health trace, /checkout
// capped near one trace per second (borrowed before the first quota, then the reservoir
// quota thaw granted), every sampled trace stored and tagged with its rule under
// aws.xray.<ruleField>, nothing else stored, and the SDK's statistics visible in
// GetSamplingStatisticSummaries.
func checkSDKSampling(t *testing.T, api *apiClient, since time.Time, run samplingRun, stderr, ruleField string, wantHealth, wantCheckout int) {
	t.Helper()
	health, checkout := run.Paths["/health"], run.Paths["/checkout"]
	if !run.RulesFetched {
		t.Errorf("the SDK did not fetch the sampling rules from thaw; its log:\n%s", stderr)
	}
	if health.Requests != wantHealth || checkout.Requests != wantCheckout {
		t.Fatalf("program served %d /health and %d /checkout requests, want %d and %d", health.Requests, checkout.Requests, wantHealth, wantCheckout)
	}
	if health.Sampled != 0 {
		t.Errorf("the SDK sampled %d of %d /health requests, want none (rule %s: FixedRate 0, ReservoirSize 0); its log:\n%s", health.Sampled, health.Requests, healthRule, stderr)
	}
	// One per started second, plus slack for a second boundary and the borrow/quota handover.
	maxCheckout := int(math.Ceil(run.LoadSeconds)) + 2
	if checkout.Sampled < 1 || checkout.Sampled > maxCheckout {
		t.Errorf("the SDK sampled %d of %d /checkout requests over %.1f s, want 1..%d (rule %s: ReservoirSize 1, FixedRate 0); its log:\n%s",
			checkout.Sampled, checkout.Requests, run.LoadSeconds, maxCheckout, checkoutRule, stderr)
	}
	if checkout.Sampled >= checkout.Requests {
		t.Errorf("the SDK sampled all %d /checkout requests: the rule's cap had no effect", checkout.Requests)
	}

	// Every sampled trace arrives, recorded as matched by the /checkout rule.
	if len(checkout.TraceIDs) > 0 {
		waitForTraces(t, api, checkout.TraceIDs, func(m map[string][]doc) error {
			for id, docs := range m {
				if len(docs) != 1 {
					return fmt.Errorf("trace %s has %d documents, want 1:\n%s", id, len(docs), outline(docs))
				}
				if got := str(docs[0], "aws", "xray", ruleField); got != checkoutRule {
					return fmt.Errorf("trace %s: aws.xray.%s = %q, want %q; segment %s", id, ruleField, got, checkoutRule, mustJSON(docs[0]))
				}
				if u := str(docs[0], "http", "request", "url"); !strings.HasSuffix(u, "/checkout") {
					return fmt.Errorf("trace %s: http.request.url = %q, want a /checkout URL", id, u)
				}
			}
			return nil
		})
	}

	// Nothing else was stored: in particular no /health trace.
	want := slices.Clone(checkout.TraceIDs)
	sort.Strings(want)
	req := summariesRequest{StartTime: epoch(since.Add(-time.Minute)), EndTime: epoch(time.Now().Add(time.Minute))}
	check := func(sums []traceSummary) error {
		var got, healthURLs []string
		for _, s := range sums {
			got = append(got, s.Id)
			if s.Http != nil && strings.Contains(s.Http.HttpURL, "/health") {
				healthURLs = append(healthURLs, s.Id)
			}
		}
		sort.Strings(got)
		if len(healthURLs) > 0 {
			return fmt.Errorf("/health traces were stored: %v", healthURLs)
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("stored traces %v, want exactly the %d sampled /checkout traces %v", got, len(want), want)
		}
		return nil
	}
	waitForSummaries(t, api, req, check)
	time.Sleep(time.Second) // stragglers would have arrived by now
	sums, _, err := api.TraceSummaries(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := check(sums); err != nil {
		t.Errorf("a second later: %v", err)
	}

	// The SDK reported its counts with SamplingTargets (about 10 s after it started).
	if !run.TargetsReported {
		t.Errorf("the SDK did not report sampling statistics with POST /SamplingTargets within 25 s of starting; its log:\n%s", stderr)
		return
	}
	type stat struct {
		RuleName                                string
		RequestCount, SampledCount, BorrowCount int64
	}
	eventually(t, visibleTimeout, func() error {
		var out struct{ SamplingStatisticSummaries []stat }
		if err := api.call(t.Context(), "/SamplingStatisticSummaries", map[string]any{}, &out); err != nil {
			return err
		}
		got := map[string]stat{}
		for _, s := range out.SamplingStatisticSummaries {
			got[s.RuleName] = s
		}
		h, c := got[healthRule], got[checkoutRule]
		// The counts are the SDK's own, which thaw sums. Once, on a
		// loaded machine, aws-xray-sdk-go reported 21 requests for the 20
		// it served (a decision counted twice on its side), so the request
		// count is checked as a floor; what the rule decided, nothing
		// sampled or borrowed, stays exact.
		if h.RequestCount < int64(health.Requests) || h.RequestCount > int64(health.Requests)+2 || h.SampledCount+h.BorrowCount != 0 {
			return fmt.Errorf("GetSamplingStatisticSummaries %s = %+v, want RequestCount %d (or a request or two more, as the SDK counts) and nothing sampled or borrowed; all: %+v",
				healthRule, h, health.Requests, out.SamplingStatisticSummaries)
		}
		if c.RequestCount < int64(checkout.Requests) || c.RequestCount > int64(checkout.Requests)+2 || c.SampledCount+c.BorrowCount != int64(checkout.Sampled) {
			return fmt.Errorf("GetSamplingStatisticSummaries %s = %+v, want RequestCount %d and SampledCount+BorrowCount %d; all: %+v",
				checkoutRule, c, checkout.Requests, checkout.Sampled, out.SamplingStatisticSummaries)
		}
		return nil
	})
}

// TestNodeSDKCentralSampling serves requests with aws-xray-sdk-core's centralized sampler
// (the decision the express middleware makes) against rules created in thaw.
func TestNodeSDKCentralSampling(t *testing.T) {
	node := requireNode(t)
	th := startThaw(t, t.TempDir())
	api := th.API()
	createSDKSamplingRules(t, api)
	u, err := url.Parse(th.URL)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	r := mustRun(t, time.Minute, []string{
		"NODE_PATH=" + nodeModules(),
		"AWS_XRAY_DAEMON_ADDRESS=tcp:" + u.Host + " udp:" + th.UDPAddr,
		"HEALTH_REQUESTS=20", "CHECKOUT_REQUESTS=30",
	}, testdataDir("node"), node, "sampling.js")
	t.Logf("sampling.js ran %.1f s", time.Since(start).Seconds())
	run := parseSamplingRun(t, r)
	checkSDKSampling(t, api, start, run, r.Stderr, "rule_name", 20, 30)
}

var gosamplingBuild struct {
	once sync.Once
	bin  string
	err  error
}

// buildGoSamplingProgram builds testdata/gosampling (its own module) once per test binary.
func buildGoSamplingProgram(t *testing.T) string {
	t.Helper()
	gosamplingBuild.once.Do(func() {
		out := filepath.Join(binDir, "gosampling")
		r := runProgram(t, 5*time.Minute, nil, testdataDir("gosampling"), "go", "build", "-o", out, ".")
		if r.Err != nil {
			gosamplingBuild.err = fmt.Errorf("go build testdata/gosampling: %w\n%s%s", r.Err, r.Stdout, r.Stderr)
			return
		}
		gosamplingBuild.bin = out
	})
	if gosamplingBuild.err != nil {
		t.Fatal(gosamplingBuild.err)
	}
	return gosamplingBuild.bin
}

// TestGoSDKCentralSampling serves requests through aws-xray-sdk-go's xray.Handler, whose
// centralized sampling strategy fetches rules and quotas from thaw.
func TestGoSDKCentralSampling(t *testing.T) {
	bin := buildGoSamplingProgram(t)
	th := startThaw(t, t.TempDir())
	api := th.API()
	createSDKSamplingRules(t, api)
	u, err := url.Parse(th.URL)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	r := mustRun(t, time.Minute, []string{
		"AWS_XRAY_DAEMON_ADDRESS=tcp:" + u.Host + " udp:" + th.UDPAddr,
		"HEALTH_REQUESTS=20", "CHECKOUT_REQUESTS=30",
	}, t.TempDir(), bin)
	t.Logf("gosampling ran %.1f s", time.Since(start).Seconds())
	run := parseSamplingRun(t, r)
	checkSDKSampling(t, api, start, run, r.Stderr, "sampling_rule_name", 20, 30)
}
