// Package daemon is thaw's composition root: it builds the store, the ingest
// pipeline, the transports and the API from one Config, starts them in order
// and stops them in the reverse order. It is the only package that picks a
// store backend.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/thawtrace/thaw/internal/console"
	"github.com/thawtrace/thaw/internal/groups"
	"github.com/thawtrace/thaw/internal/ingest"
	"github.com/thawtrace/thaw/internal/ingest/udp"
	"github.com/thawtrace/thaw/internal/query"
	"github.com/thawtrace/thaw/internal/sampling"
	"github.com/thawtrace/thaw/internal/store"
	"github.com/thawtrace/thaw/internal/store/embedded"
	"github.com/thawtrace/thaw/internal/xrayapi"
)

// Config is the whole server's configuration: one Config per component.
type Config struct {
	// UDPAddr is the X-Ray daemon UDP address.
	UDPAddr string
	// HTTPAddr serves the X-Ray API (the daemon's TCP side too), /metrics and
	// the console.
	HTTPAddr string
	// Pprof serves Go's profiler at /debug/pprof/ on the HTTP address.
	Pprof bool
	// Insecure allows binding to non-loopback addresses without
	// authentication.
	Insecure bool

	// DemoRate, when positive, feeds the server this many traces a second
	// of a built-in serverless app (see startDemo).
	DemoRate float64

	Store    embedded.Config
	Ingest   ingest.Config
	Query    query.Config
	API      xrayapi.Config
	Sampling sampling.Config
	Groups   groups.Config
}

// DefaultConfig is thaw with no flags: loopback only, port 2000 for UDP and
// HTTP as the X-Ray daemon, the embedded store in ./thaw-data.
func DefaultConfig() Config {
	return Config{
		UDPAddr:  "127.0.0.1:2000",
		HTTPAddr: "127.0.0.1:2000",
		Store:    embedded.DefaultConfig(),
		Ingest:   ingest.DefaultConfig(),
		Query:    query.DefaultConfig(),
		API:      xrayapi.DefaultConfig(),
		Sampling: sampling.DefaultConfig(),
		Groups:   groups.DefaultConfig(),
	}
}

// Validate checks every component's config and the listen addresses.
func (c Config) Validate() error {
	errs := []error{c.Store.Validate(), c.Ingest.Validate(), c.Query.Validate(), c.Sampling.Validate(), c.Groups.Validate(), c.API.Validate()}
	for _, a := range []struct{ name, addr string }{{"udp", c.UDPAddr}, {"http", c.HTTPAddr}} {
		host, _, err := net.SplitHostPort(a.addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s address %q: %w", a.name, a.addr, err))
			continue
		}
		if !isLoopback(host) && !c.Insecure {
			errs = append(errs, fmt.Errorf("%s address %q is not loopback: thaw has no authentication yet, so binding beyond this machine needs --insecure", a.name, a.addr))
		}
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server is a running thaw.
type Server struct {
	cfg  Config
	log  *slog.Logger
	out  io.Writer
	reg  *prometheus.Registry
	db   *embedded.DB
	pipe *ingest.Pipeline
	udp  *udp.Listener
	http *http.Server
	hl   net.Listener
	wg   sync.WaitGroup

	stopWarm context.CancelFunc // stops the graph rollup warmer
	warmDone chan struct{}
	stopDemo context.CancelFunc // stops the demo traffic
	demoDone chan struct{}
}

// New builds a server; it opens and starts nothing.
func New(cfg Config, out io.Writer, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if out == nil {
		out = io.Discard
	}
	return &Server{cfg: cfg, log: log, out: out, reg: prometheus.NewRegistry()}, nil
}

// Run starts the server, prints one line per listener, serves until ctx
// ends, then shuts down.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return s.Shutdown(sctx)
}

// Start opens the store and starts the pipeline and listeners. On failure it
// undoes what it started.
func (s *Server) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Shutdown(context.WithoutCancel(ctx)))
		}
	}()
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.db, err = embedded.Open(s.cfg.Store, s.log.With("component", "store"))
	if err != nil {
		return err
	}
	s.db.Start()
	s.pipe, err = ingest.New(s.cfg.Ingest, s.db, ingest.NewMetrics(s.reg), s.log.With("component", "ingest"))
	if err != nil {
		return err
	}
	s.pipe.Start()

	s.udp = udp.New(udp.Config{Addr: s.cfg.UDPAddr}, s.pipe, s.log.With("component", "udp"))
	if err := s.udp.Start(ctx); err != nil {
		return err
	}
	rules, err := sampling.Open(ctx, s.cfg.Sampling, samplingStore{s.db})
	if err != nil {
		return fmt.Errorf("load sampling rules: %w", err)
	}
	grps, err := groups.Open(ctx, s.cfg.Groups, groupStore{s.db})
	if err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	q := query.New(s.cfg.Query, s.db, grps, s.log.With("component", "query"))
	s.startWarmer(ctx, q)
	api := xrayapi.NewHandler(s.cfg.API, s.pipe, q, rules, grps, s.log.With("component", "api"))
	ui, err := console.New()
	if err != nil {
		return fmt.Errorf("load console: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	if s.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if api.Routes(r) {
			api.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			ui.ServeHTTP(w, r) // the console's pages and assets
			return
		}
		w.Header().Set("x-amzn-RequestId", "0")
		xrayapi.WriteError(w, xrayapi.InvalidRequest("%s %s is not an X-Ray operation thaw knows; X-Ray operations are POST /<Operation path>, see docs/api.md", r.Method, r.URL.Path))
	})
	var lc net.ListenConfig
	s.hl, err = lc.Listen(ctx, "tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen http %s: %w", s.cfg.HTTPAddr, err)
	}
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// A slow or stalled upload must not hold shutdown or a connection
		// for ever: 5 MiB at a modest 100 KiB/s fits in a minute.
		ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(s.log.With("component", "http").Handler(), slog.LevelWarn),
	}
	s.wg.Go(func() {
		if err := s.http.Serve(s.hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve http", "err", err)
		}
	})
	s.printListeners()
	if s.cfg.DemoRate > 0 {
		return s.startDemo(ctx)
	}
	return nil
}

func (s *Server) printListeners() {
	u := s.udp.Addr().(*net.UDPAddr)
	h := s.hl.Addr().(*net.TCPAddr)
	daemonAddr := u.String()
	if u.Port != h.Port || !u.IP.Equal(h.IP) {
		daemonAddr = fmt.Sprintf("%q", "tcp:"+h.String()+" udp:"+u.String())
	}
	base := "http://" + h.String()
	fmt.Fprintf(s.out, "store embedded  %s\n", s.cfg.Store.Dir)
	fmt.Fprintf(s.out, "udp   %s   X-Ray daemon (SDKs): export AWS_XRAY_DAEMON_ADDRESS=%s\n", u, daemonAddr)
	fmt.Fprintf(s.out, "http  %s   X-Ray API: aws xray ... --endpoint-url %s\n", base, base)
	fmt.Fprintf(s.out, "console  %s/   metrics %s/metrics\n", base, base)
}

// HTTPAddr returns the bound HTTP address.
func (s *Server) HTTPAddr() string { return s.hl.Addr().String() }

// UDPAddr returns the bound UDP address.
func (s *Server) UDPAddr() string { return s.udp.Addr().String() }

// Shutdown stops in the order that loses nothing: first the listeners, so
// no new documents arrive (in-flight PutTraceSegments calls finish and are
// answered), then the pipeline drains its queue into the store, then the
// store summarizes what is pending and flushes. Safe after a failed Start.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		errs = append(errs, s.http.Shutdown(ctx))
		s.wg.Wait()
	}
	if s.stopDemo != nil {
		s.stopDemo()
		<-s.demoDone
	}
	if s.udp != nil {
		errs = append(errs, s.udp.Shutdown(ctx))
	}
	if s.stopWarm != nil {
		s.stopWarm()
		<-s.warmDone
	}
	if s.pipe != nil {
		errs = append(errs, s.pipe.Shutdown(ctx))
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}

// Graph rollups of the minutes that ended in the last warmWindow are built
// every warmEvery, so that service graphs of recent windows read rollups
// from the first query. Older minutes are built when a query first needs
// them.
const (
	warmEvery  = 20 * time.Second
	warmWindow = time.Hour
)

func (s *Server) startWarmer(ctx context.Context, q *query.Service) {
	ctx, s.stopWarm = context.WithCancel(context.WithoutCancel(ctx))
	s.warmDone = make(chan struct{})
	log := s.log.With("component", "rollups")
	go func() {
		defer close(s.warmDone)
		t := time.NewTicker(warmEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := q.WarmGraphRollups(ctx, warmWindow)
			if err != nil && ctx.Err() == nil {
				log.Warn("build graph rollups", "err", err)
			} else if n > 0 {
				log.Debug("built graph rollups", "minutes", n)
			}
		}
	}()
}

// samplingStore keeps the sampling rules in the embedded store.
type samplingStore struct{ db *embedded.DB }

func (s samplingStore) LoadRules(ctx context.Context) ([]byte, error) {
	v, err := s.db.LoadSamplingRules(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, sampling.ErrNoRules
	}
	return v, err
}

func (s samplingStore) SaveRules(ctx context.Context, v []byte) error {
	return s.db.SaveSamplingRules(ctx, v)
}

// groupStore keeps the groups in the embedded store.
type groupStore struct{ db *embedded.DB }

func (s groupStore) LoadGroups(ctx context.Context) ([]byte, error) {
	v, err := s.db.LoadGroups(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, groups.ErrNoGroups
	}
	return v, err
}

func (s groupStore) SaveGroups(ctx context.Context, v []byte) error {
	return s.db.SaveGroups(ctx, v)
}
