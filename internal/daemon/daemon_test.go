package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thawtrace/thaw/internal/daemon"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

func testConfig(dir string) daemon.Config {
	cfg := daemon.DefaultConfig()
	cfg.UDPAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Store.Dir = dir
	cfg.Store.CacheSize = 1 << 20
	cfg.Store.MemTableSize = 1 << 20
	return cfg
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		udp      string
		http     string
		insecure bool
		wantErr  string // "" for valid
	}{
		{"defaults", "127.0.0.1:2000", "127.0.0.1:2000", false, ""},
		{"localhost", "localhost:2000", "localhost:2001", false, ""},
		{"IPv6 loopback", "[::1]:2000", "[::1]:2000", false, ""},
		{"all interfaces", "0.0.0.0:2000", "127.0.0.1:2000", false,
			`udp address "0.0.0.0:2000" is not loopback: thaw has no authentication yet, so binding beyond this machine needs --insecure`},
		{"all interfaces, HTTP", "127.0.0.1:2000", "0.0.0.0:2000", false, `http address "0.0.0.0:2000" is not loopback`},
		{"empty host binds everywhere", "127.0.0.1:2000", ":2000", false, `http address ":2000" is not loopback`},
		{"all interfaces, insecure", "0.0.0.0:2000", "0.0.0.0:2000", true, ""},
		{"no port", "127.0.0.1", "127.0.0.1:2000", false, `udp address "127.0.0.1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := daemon.DefaultConfig()
			cfg.UDPAddr, cfg.HTTPAddr, cfg.Insecure = tc.udp, tc.http, tc.insecure
			err := cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate(udp %s, http %s, insecure %v) = %v, want nil", tc.udp, tc.http, tc.insecure, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate(udp %s, http %s, insecure %v) = %v, want an error containing %q", tc.udp, tc.http, tc.insecure, err, tc.wantErr)
			}
			if _, nerr := daemon.New(cfg, io.Discard, nil); (nerr == nil) != (err == nil) {
				t.Errorf("New = %v, want the Validate error %v", nerr, err)
			}
		})
	}
	cfg := daemon.DefaultConfig()
	cfg.API.MaxRequestBytes = 0
	if err := cfg.Validate(); err == nil {
		t.Error("Validate with a zero request body limit = nil, want an error")
	}
}

// client talks to a test server without keep-alive connections, which
// would outlive the test.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

func post(t *testing.T, base, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: read answer: %v", path, err)
	}
	return resp.StatusCode, b
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func start(t *testing.T, cfg daemon.Config) (*daemon.Server, string) {
	t.Helper()
	var out bytes.Buffer
	srv, err := daemon.New(cfg, &out, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return srv, out.String()
}

func shutdown(t *testing.T, srv *daemon.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// checkListenerLines checks the lines Start prints, one per listener, with
// the addresses it bound.
func checkListenerLines(t *testing.T, out string, srv *daemon.Server, dir string) {
	t.Helper()
	udp, http := srv.UDPAddr(), "http://"+srv.HTTPAddr()
	want := []string{
		"store embedded  " + dir,
		fmt.Sprintf(`udp   %s   X-Ray daemon (SDKs): export AWS_XRAY_DAEMON_ADDRESS="tcp:%s udp:%s"`, udp, srv.HTTPAddr(), udp),
		fmt.Sprintf("http  %s   X-Ray API: aws xray ... --endpoint-url %s", http, http),
		fmt.Sprintf("console  %s/   metrics %s/metrics", http, http),
	}
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if !slices.Equal(want, got) {
		t.Errorf("printed:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
	if !regexp.MustCompile(`^127\.0\.0\.1:[1-9][0-9]*$`).MatchString(udp) {
		t.Errorf("UDPAddr() = %q, want 127.0.0.1 and the bound port", udp)
	}
}

// waitForTraces polls BatchGetTraces until every id is found, for at most
// 10 s, and returns the traces by id.
func waitForTraces(t *testing.T, base string, ids ...string) map[string]xrayapi.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	body, err := json.Marshal(xrayapi.BatchGetTracesInput{TraceIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	for {
		status, b := post(t, base, "/Traces", string(body))
		if status != http.StatusOK {
			t.Fatalf("BatchGetTraces = %d %s", status, b)
		}
		var out xrayapi.BatchGetTracesOutput
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("BatchGetTraces answer %s: %v", b, err)
		}
		found := map[string]xrayapi.Trace{}
		for _, tr := range out.Traces {
			found[tr.ID] = tr
		}
		if len(found) == len(ids) {
			return found
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("after 10 s BatchGetTraces found %d of %q: %s", len(found), ids, b)
		}
	}
}

func segmentJSON(traceID, id string, now time.Time) string {
	start := float64(now.UnixMicro()) / 1e6
	return fmt.Sprintf(`{"trace_id":%q,"id":%q,"name":"web","start_time":%.6f,"end_time":%.6f}`, traceID, id, start, start+0.25)
}

func TestServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(dir)
	srv, out := start(t, cfg)
	defer shutdown(t, srv) // a second Shutdown is safe
	checkListenerLines(t, out, srv, dir)
	base := "http://" + srv.HTTPAddr()

	// Trace ids of now: the store's retention works on the id's epoch.
	now := time.Now()
	viaHTTP := fmt.Sprintf("1-%08x-%024x", now.Unix(), 1)
	viaUDP := fmt.Sprintf("1-%08x-%024x", now.Unix(), 2)

	docs, err := json.Marshal([]string{segmentJSON(viaHTTP, "00000000000000a1", now), `{"id":"bad"}`})
	if err != nil {
		t.Fatal(err)
	}
	status, b := post(t, base, "/TraceSegments", `{"TraceSegmentDocuments":`+string(docs)+`}`)
	var put xrayapi.PutTraceSegmentsOutput
	if err := json.Unmarshal(b, &put); err != nil || status != http.StatusOK || len(put.UnprocessedTraceSegments) != 1 || put.UnprocessedTraceSegments[0].ID != "bad" {
		t.Fatalf("PutTraceSegments = %d %s, want 200 with the second document unprocessed", status, b)
	}

	conn, err := net.Dial("udp", srv.UDPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(`{"format":"json","version":1}` + "\n" + segmentJSON(viaUDP, "00000000000000b1", now))); err != nil {
		t.Fatal(err)
	}
	traces := waitForTraces(t, base, viaHTTP, viaUDP)
	for id, tr := range traces {
		if tr.Duration == nil || *tr.Duration != 0.25 || len(tr.Segments) != 1 {
			t.Errorf("trace %s = %+v, want one segment lasting 0.25 s", id, tr)
		}
	}

	// The other routes of the main port.
	if status, body := get(t, base+"/healthz"); status != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q", status, body)
	}
	// The console: its page for / and for client-side routes, its assets.
	for _, path := range []string{"/", "/traces", "/trace/1-00000000-000000000000000000000000"} {
		if status, body := get(t, base+path); status != http.StatusOK || !strings.Contains(body, `<script type="module" src="/static/app.js">`) {
			t.Errorf("GET %s = %d %q, want the console page", path, status, truncate(body, 200))
		}
	}
	if status, body := get(t, base+"/static/app.js"); status != http.StatusOK || !strings.Contains(body, "export function render") {
		t.Errorf("GET /static/app.js = %d, want the console's script", status)
	}
	if status, _ := get(t, base+"/static/nope.js"); status != http.StatusNotFound {
		t.Errorf("GET /static/nope.js = %d, want 404", status)
	}
	status, metrics := get(t, base+"/metrics")
	for _, want := range []string{`thaw_ingest_received_total{transport="http"} 2`, `thaw_ingest_received_total{transport="udp"} 1`, `thaw_ingest_rejected_total{reason="InvalidTraceId",transport="http"} 1`} {
		if status != http.StatusOK || !strings.Contains(metrics, want) {
			t.Errorf("GET /metrics = %d, lacks %s", status, want)
		}
	}
	if status, body := post(t, base, "/NoSuchOperation", "{}"); status != http.StatusBadRequest || !strings.Contains(string(body), "POST /NoSuchOperation is not an X-Ray operation") {
		t.Errorf("POST /NoSuchOperation = %d %s, want 400 naming it", status, body)
	}
	if status, body := post(t, base, "/SamplingTargets", `{"SamplingStatisticsDocuments":[{"RuleName":"Default","ClientID":"a1b2c3d4e5f60718293a4b5c","RequestCount":1,"SampledCount":1,"BorrowCount":0,"Timestamp":1700000010}]}`); status != http.StatusOK || !strings.Contains(string(body), `"ReservoirQuota":1,`) {
		t.Errorf("GetSamplingTargets = %d %s", status, body)
	}

	shutdown(t, srv)

	// Everything acknowledged is durable: a new server on the same
	// directory finds both traces, and their summaries.
	srv2, _ := start(t, cfg)
	defer shutdown(t, srv2)
	base2 := "http://" + srv2.HTTPAddr()
	waitForTraces(t, base2, viaHTTP, viaUDP)
	in, err := json.Marshal(map[string]any{"StartTime": now.Unix() - 60, "EndTime": now.Unix() + 60})
	if err != nil {
		t.Fatal(err)
	}
	status, b = post(t, base2, "/TraceSummaries", string(in))
	var sums xrayapi.GetTraceSummariesOutput
	if err := json.Unmarshal(b, &sums); err != nil || status != http.StatusOK {
		t.Fatalf("GetTraceSummaries = %d %s", status, b)
	}
	var ids []string
	for _, s := range sums.TraceSummaries {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{viaHTTP, viaUDP}) {
		t.Errorf("summaries after restart = %q, want %q and %q", ids, viaHTTP, viaUDP)
	}
}

func TestServerShutdownWithoutStart(t *testing.T) {
	t.Parallel()
	srv, err := daemon.New(testConfig(t.TempDir()), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := srv.Shutdown(t.Context()); err != nil {
			t.Errorf("Shutdown without Start = %v, want nil", err)
		}
	}
}

// A Start that fails undoes what it started: the store is closed (so it
// opens again) and the UDP port is free.
func TestServerFailedStart(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := testConfig(t.TempDir())
	cfg.HTTPAddr = busy.Addr().String()
	srv, err := daemon.New(cfg, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "listen http "+cfg.HTTPAddr) {
		t.Fatalf("Start on a busy HTTP port = %v, want an error naming it", err)
	}
	udpAddr := srv.UDPAddr()
	pc, err := net.ListenPacket("udp", udpAddr)
	if err != nil {
		t.Errorf("UDP %s still bound after the failed Start: %v", udpAddr, err)
	} else {
		pc.Close()
	}
	cfg.HTTPAddr = "127.0.0.1:0"
	srv2, _ := start(t, cfg) // the store directory is not locked any more
	shutdown(t, srv2)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// TestDemo checks thaw serve --demo: the built-in app's traces arrive over
// the server's own UDP listener and are searchable, with the register
// app's service graph (API Gateway stage, Lambda, DynamoDB table, the
// third-party host).
func TestDemo(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	cfg.DemoRate = 50
	srv, out := start(t, cfg)
	defer shutdown(t, srv)
	if !strings.Contains(out, "demo     sending 50 traces/s") {
		t.Errorf("output %q does not announce the demo", out)
	}
	base := "http://" + srv.HTTPAddr()
	deadline := time.Now().Add(15 * time.Second)
	for {
		now := float64(time.Now().Unix())
		body := fmt.Sprintf(`{"StartTime":%f,"EndTime":%f}`, now-120, now+60)
		status, b := post(t, base, "/ServiceGraph", body)
		var g xrayapi.GetServiceGraphOutput
		if status == http.StatusOK && json.Unmarshal(b, &g) == nil {
			types := map[string]bool{}
			for _, s := range g.Services {
				types[s.Type] = true
			}
			if types["AWS::ApiGateway::Stage"] && types["AWS::Lambda::Function"] && types["AWS::DynamoDB::Table"] && types["remote"] {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s of demo traffic the service graph is %d %s; want the register app's nodes", status, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
