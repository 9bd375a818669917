package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/thawtrace/thaw/internal/loadgen"
	"github.com/thawtrace/thaw/internal/store/embedded"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// runBench runs `thaw bench ingest`: it starts this binary's `serve` as a
// child process on a fresh data directory, so the server's CPU and memory
// are measured apart from the load generator's, and drives it over UDP and
// PutTraceSegments with generated serverless traces.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "ingest" {
		return usageError("thaw bench ingest [flags]; see 'thaw bench ingest -h'")
	}
	fs := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: thaw bench ingest [flags]

Starts thaw serve on a fresh data directory and measures it: segments per
second over UDP and PutTraceSegments, CPU per 1,000 segments, trace-by-id
latency, memory and disk.

flags:
`)
		fs.PrintDefaults()
	}
	segments := fs.Int("segments", 1_000_000, "segments (documents) to send in all; half over UDP, half over HTTP")
	udpRate := fs.Int("udp-rate", 60_000, "UDP documents per second to offer (0: as fast as possible)")
	clients := fs.Int("http-clients", 8, "concurrent PutTraceSegments clients")
	batch := fs.Int("batch", 50, "documents per PutTraceSegments call (the X-Ray daemon sends 50)")
	queries := fs.Int("queries", 2000, "trace-by-id queries after ingest")
	spread := fs.Duration("spread", 0, "spread the traces' start times over this much of the past (e.g. 1h), as a real hour of traffic would; then also measure filtered searches and service graphs")
	profile := fs.String("cpuprofile", "", "have the server write a CPU profile of the whole run to this file")
	dir := fs.String("data", "", "data directory (default: a new temporary one, removed afterwards)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError(err.Error())
	}
	keep := *dir != ""
	if !keep {
		d, err := os.MkdirTemp("", "thaw-bench-")
		if err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
		*dir = d
		defer os.RemoveAll(d)
	}
	b := &bench{out: stdout, ids: make([]string, 0, 1<<16), spread: *spread, epoch: time.Now()}
	if err := b.start(ctx, *dir, *profile, stderr); err != nil {
		return err
	}
	defer b.kill()

	fmt.Fprintf(stdout, "thaw bench ingest: %d segments of generated API Gateway → Lambda → DynamoDB + HTTP traces, %d cores, %s\n",
		*segments, runtime.NumCPU(), runtime.Version())
	udpDocs := *segments / 2
	if err := b.udpPhase(ctx, udpDocs, *udpRate); err != nil {
		return err
	}
	if err := b.httpPhase(ctx, *segments-udpDocs, *clients, *batch); err != nil {
		return err
	}
	if err := b.queryPhase(ctx, *queries); err != nil {
		return err
	}
	return b.stop(ctx)
}

type bench struct {
	out     io.Writer
	cmd     *exec.Cmd
	udpAddr string
	base    string
	hc      *http.Client
	stored  int64 // documents known stored, for per-segment figures
	// ingestCPU is the server's CPU over both ingest phases, summaries and
	// flushes included.
	ingestCPU time.Duration
	// spread > 0 places trace starts at random in [epoch−spread, epoch).
	spread time.Duration
	epoch  time.Time

	mu  sync.Mutex
	ids []string // sample of trace ids sent, for queries
	n   int
}

func (b *bench) start(ctx context.Context, dir, profile string, stderr io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	args := []string{"serve", "--data", dir, "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "warn"}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	b.cmd = exec.CommandContext(ctx, exe, args...)
	b.cmd.Stderr = stderr
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := b.cmd.Start(); err != nil {
		return fmt.Errorf("start thaw serve: %w", err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && (b.udpAddr == "" || b.base == "") {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "udp" {
			b.udpAddr = f[1]
		}
		if len(f) >= 2 && f[0] == "http" {
			b.base = f[1]
		}
	}
	if b.udpAddr == "" || b.base == "" {
		return errors.New("thaw serve did not print its listeners")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	b.hc = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	return nil
}

func (b *bench) kill() {
	if b.cmd != nil && b.cmd.ProcessState == nil {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
	}
}

// cpu returns the server's user+system CPU time so far.
func (b *bench) cpu() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", b.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields of the whole line.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks
}

func (b *bench) statusField(name string) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", b.cmd.Process.Pid))
	if err != nil {
		return "?"
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func (b *bench) metric(ctx context.Context, name string) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/metrics", nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		// name is a whole series, labels (in Prometheus' sorted order) included.
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}

// waitIdle waits until the server has used under 2% of a core for 500 ms
// (or 30 s passed), so a phase's CPU figure includes the summaries and
// flushes its documents caused, and the next phase starts on a quiet server.
func (b *bench) waitIdle() {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c0 := b.cpu()
		time.Sleep(500 * time.Millisecond)
		if b.cpu()-c0 < 10*time.Millisecond {
			return
		}
	}
}

// traceStart is when a generated trace starts: now, or with --spread a
// random time in the spread window.
func (b *bench) traceStart() time.Time {
	if b.spread <= 0 {
		return time.Now()
	}
	return b.epoch.Add(-time.Duration(rand.Int64N(int64(b.spread))))
}

func (b *bench) remember(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	if len(b.ids) < cap(b.ids) {
		b.ids = append(b.ids, id)
	} else if j := rand.IntN(b.n); j < len(b.ids) {
		b.ids[j] = id // reservoir sample over all traces sent
	}
}

func (b *bench) udpPhase(ctx context.Context, n, rate int) error {
	conn, err := net.Dial("udp", b.udpAddr)
	if err != nil {
		return err
	}
	defer conn.Close()
	storedBefore, err := b.metric(ctx, "thaw_ingest_stored_total")
	if err != nil {
		return err
	}
	const (
		receivedSeries = `thaw_ingest_received_total{transport="udp"}`
		droppedSeries  = `thaw_ingest_dropped_total{reason="queue_full",transport="udp"}`
	)
	recvBefore, err := b.metric(ctx, receivedSeries)
	if err != nil {
		return err
	}
	dropBefore, err := b.metric(ctx, droppedSeries)
	if err != nil {
		return err
	}
	cpu0, t0 := b.cpu(), time.Now()
	g := newGenerator(1)
	sent := 0
	start := time.Now()
	for sent < n {
		tr := g.Trace(b.traceStart())
		b.remember(tr.ID)
		for _, d := range tr.Docs {
			if _, err := conn.Write(loadgen.Datagram(d)); err != nil {
				return fmt.Errorf("send datagram: %w", err)
			}
			sent++
		}
		if rate > 0 { // pace: never ahead of the offered rate
			if ahead := time.Duration(float64(sent)/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	sendTime := time.Since(t0)
	// Wait until the stored count stops moving.
	var stored float64
	for last, still := -1.0, 0; still < 5; {
		time.Sleep(100 * time.Millisecond)
		if stored, err = b.metric(ctx, "thaw_ingest_stored_total"); err != nil {
			return err
		}
		if stored == last {
			still++
		} else {
			still, last = 0, stored
		}
	}
	elapsed := time.Since(t0) - 500*time.Millisecond // the quiet period above
	b.waitIdle()
	got := stored - storedBefore
	recv, err := b.metric(ctx, receivedSeries)
	if err != nil {
		return err
	}
	drop, err := b.metric(ctx, droppedSeries)
	if err != nil {
		return err
	}
	cpu := b.cpu() - cpu0
	b.stored += int64(got)
	b.ingestCPU += cpu
	fmt.Fprintf(b.out, "udp    offered %d segments in %.2fs (%.0f/s); stored %.0f (%.2f%%) in %.2fs = %.0f segments/s; server CPU %.2fs = %.1f ms per 1000 segments\n",
		sent, sendTime.Seconds(), float64(sent)/sendTime.Seconds(), got, 100*got/float64(sent), elapsed.Seconds(),
		got/elapsed.Seconds(), cpu.Seconds(), perThousand(cpu, got))
	fmt.Fprintf(b.out, "       lost in the kernel's socket buffer %.0f, dropped by a full queue %.0f\n",
		float64(sent)-(recv-recvBefore), drop-dropBefore)
	return nil
}

func (b *bench) httpPhase(ctx context.Context, n, clients, batch int) error {
	cpu0, t0 := b.cpu(), time.Now()
	var next atomic.Int64
	var acked atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	per := (n + clients - 1) / clients
	for c := range clients {
		wg.Go(func() {
			g := newGenerator(uint64(100 + c))
			var docs []string
			flush := func() error {
				body, _ := json.Marshal(xrayapi.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/TraceSegments", bytes.NewReader(body))
				resp, err := b.hc.Do(req)
				if err != nil {
					return err
				}
				var out xrayapi.PutTraceSegmentsOutput
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil {
					return fmt.Errorf("PutTraceSegments: status %d: decode answer: %w", resp.StatusCode, err)
				}
				if resp.StatusCode != http.StatusOK || len(out.UnprocessedTraceSegments) > 0 {
					return fmt.Errorf("PutTraceSegments: status %d, %d unprocessed", resp.StatusCode, len(out.UnprocessedTraceSegments))
				}
				acked.Add(int64(len(docs)))
				docs = docs[:0]
				return nil
			}
			for sent := 0; sent < per && next.Load() < int64(n); {
				tr := g.Trace(b.traceStart())
				b.remember(tr.ID)
				for _, d := range tr.Docs {
					docs = append(docs, string(d))
					sent++
					next.Add(1)
					if len(docs) == batch {
						if err := flush(); err != nil {
							errc <- err
							return
						}
					}
				}
			}
			if len(docs) > 0 {
				if err := flush(); err != nil {
					errc <- err
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	elapsed := time.Since(t0)
	b.waitIdle()
	cpu := b.cpu() - cpu0
	got := float64(acked.Load())
	b.stored += int64(got)
	b.ingestCPU += cpu
	fmt.Fprintf(b.out, "http   %.0f segments acknowledged (synced) in %.2fs = %.0f segments/s, %d clients × %d per call; server CPU %.2fs = %.1f ms per 1000 segments\n",
		got, elapsed.Seconds(), got/elapsed.Seconds(), clients, batch, cpu.Seconds(), perThousand(cpu, got))
	return nil
}

func (b *bench) queryPhase(ctx context.Context, n int) error {
	fmt.Fprintf(b.out, "ingest %d segments stored; server CPU %.2fs = %.1f ms per 1000 segments over both phases\n",
		b.stored, b.ingestCPU.Seconds(), perThousand(b.ingestCPU, float64(b.stored)))
	c := xrayapi.NewClient(b.base, b.hc)
	lat := make([]time.Duration, 0, n)
	found := 0
	for i := range n {
		id := b.ids[i%len(b.ids)]
		t0 := time.Now()
		out, err := c.BatchGetTraces(ctx, xrayapi.BatchGetTracesInput{TraceIDs: []string{id}})
		if err != nil {
			return fmt.Errorf("BatchGetTraces %s: %w", id, err)
		}
		lat = append(lat, time.Since(t0))
		if len(out.Traces) == 1 && len(out.Traces[0].Segments) > 0 {
			found++
		}
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	fmt.Fprintf(b.out, "query  trace by id (BatchGetTraces over HTTP, one id) over %d stored segments: p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d/%d found\n",
		b.stored, q(0.5), q(0.99), q(1), found, n)
	if b.spread > 0 {
		return b.searchPhase(ctx, c)
	}
	return nil
}

// newGenerator returns the benchmark's trace generator: one trace in a
// hundred has a failed third-party call (a fault root cause), the
// selectivity the search targets are set for.
func newGenerator(seed uint64) *loadgen.Generator {
	g := loadgen.New(seed)
	g.ErrorRate = 0.01
	return g
}

// searchPhase times GetTraceSummaries' first page with filters of
// different selectivity, and GetServiceGraph, over the spread window.
func (b *bench) searchPhase(ctx context.Context, c *xrayapi.Client) error {
	start, end := xrayapi.Time(float64(b.epoch.Add(-b.spread).Unix())), xrayapi.Time(float64(b.epoch.Add(time.Minute).Unix()))
	median := func(f func() (string, error)) (time.Duration, string, error) {
		var ds []time.Duration
		var info string
		for range 5 {
			t0 := time.Now()
			s, err := f()
			if err != nil {
				return 0, "", err
			}
			ds = append(ds, time.Since(t0))
			info = s
		}
		slices.Sort(ds)
		return ds[len(ds)/2], info, nil
	}
	for _, expr := range []string{
		"",
		`annotation.ColdStart = true`, // one trace in 20
		`rootcause.fault.service { name = "api.partner.example" }`, // one in 100
		`fault`, // none: the partner's 503s do not fault the entry point
		`responsetime > 0.15`,
		`responsetime > 1`,               // slow cold starts
		`annotation.user_id = "user-42"`, // one in 5,000
		`user = "user-42" AND annotation.ColdStart = true`,
		`service("users") { ok }`,
	} {
		d, info, err := median(func() (string, error) {
			out, err := c.GetTraceSummaries(ctx, xrayapi.GetTraceSummariesInput{StartTime: &start, EndTime: &end, FilterExpression: expr})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d summaries of %d scanned", len(out.TraceSummaries), out.TracesProcessedCount), nil
		})
		if err != nil {
			return fmt.Errorf("GetTraceSummaries %q: %w", expr, err)
		}
		fmt.Fprintf(b.out, "search first page over %s, filter %-32q %8.1f ms median of 5 (%s)\n", b.spread, expr, float64(d.Microseconds())/1000, info)
	}
	// A graph reads per-minute rollups; a minute without one is built from
	// its traces on first use (at most 20,000 traces a call) and by the
	// server's warmer, which rebuilds the last hour's stale minutes every
	// 20 s. Right after a bulk load every minute is stale, so the first
	// call is timed on its own, then the calls repeat until the window's
	// rollups are all there, then the median of 5 is the steady state.
	for _, w := range []time.Duration{time.Minute, 5 * time.Minute, time.Hour} {
		gs, ge := xrayapi.Time(float64(b.epoch.Add(-w).Unix())), xrayapi.Time(float64(b.epoch.Unix()))
		graph := func() (string, error) {
			out, err := c.GetServiceGraph(ctx, xrayapi.GetServiceGraphInput{StartTime: &gs, EndTime: &ge})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d services", len(out.Services)), nil
		}
		t0 := time.Now()
		_, err := graph()
		first := time.Since(t0)
		for err != nil && time.Since(t0) < 3*time.Minute {
			time.Sleep(time.Second)
			_, err = graph()
		}
		if err != nil {
			fmt.Fprintf(b.out, "graph  service graph of the last %s: %v\n", w, err)
			continue
		}
		ready := time.Since(t0)
		d, info, err := median(graph)
		if err != nil {
			fmt.Fprintf(b.out, "graph  service graph of the last %s: %v\n", w, err)
			continue
		}
		fmt.Fprintf(b.out, "graph  service graph of the last %s: %.1f ms median of 5 (%s); first call %.1f ms, all rollups ready after %.1f s\n",
			w, float64(d.Microseconds())/1000, info, float64(first.Microseconds())/1000, ready.Seconds())
	}
	return nil
}

func (b *bench) stop(ctx context.Context) error {
	rss := b.statusField("VmHWM")
	if err := b.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	if err := b.cmd.Wait(); err != nil {
		return fmt.Errorf("thaw serve exited: %w", err)
	}
	fmt.Fprintf(b.out, "memory peak RSS of thaw serve %s\n", rss)
	dir := b.cmd.Args[3]
	total, wal := dirSize(dir)
	perSeg := func(n int64) float64 { return float64(n) / float64(max(1, b.stored)) }
	fmt.Fprintf(b.out, "disk   %.1f MB after shutdown = %.0f bytes per segment (write-ahead logs kept for reuse: %.1f MB, a fixed cost)\n",
		float64(total)/1e6, perSeg(total), float64(wal)/1e6)
	// What a long-running store settles to: everything compacted into the
	// bottom level, the write-ahead logs aside.
	db, err := embedded.Open(embedded.Config{Dir: dir, SummaryInterval: time.Second, MaxTraceSpan: time.Hour,
		CacheSize: 8 << 20, MemTableSize: 4 << 20, PendingBytes: 1}, nil)
	if err != nil {
		return fmt.Errorf("reopen store to compact it: %w", err)
	}
	err = errors.Join(db.Compact(ctx), db.Close())
	if err != nil {
		return err
	}
	total, wal = dirSize(dir)
	fmt.Fprintf(b.out, "disk   %.1f MB fully compacted, logs aside = %.0f bytes per segment\n", float64(total-wal)/1e6, perSeg(total-wal))
	return nil
}

// dirSize returns the bytes of the files in dir, and of its Pebble
// write-ahead logs (*.log) among them.
func dirSize(dir string) (total, wal int64) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
				if filepath.Ext(path) == ".log" {
					wal += info.Size()
				}
			}
		}
		return nil
	})
	return total, wal
}

func perThousand(cpu time.Duration, n float64) float64 {
	if n == 0 {
		return 0
	}
	return float64(cpu.Milliseconds()) / (n / 1000)
}
