// Package udp implements the X-Ray daemon's UDP protocol (spec/xray.md
// §3.2): one datagram holds a JSON header line and one document. The
// listener validates each datagram and hands documents to the ingest
// pipeline without waiting for the store; what it cannot take is counted.
package udp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/thawtrace/thaw/internal/ingest"
	"github.com/thawtrace/thaw/internal/segment"
)

// Datagram problems, counted as rejection reasons next to segment codes.
const (
	ReasonNoHeader    = "NoHeader"
	ReasonBadHeader   = "InvalidHeader"
	ReasonTruncated   = "Truncated"
	ReasonEmptyBody   = "EmptyBody"
	transport         = "udp"
	readBufferSize    = 65536 + 1 // one byte more than any datagram we accept
	socketBufferBytes = 8 << 20
)

// Config configures the listener.
type Config struct {
	// Addr is the UDP address to listen on.
	Addr string
}

// DefaultConfig listens where the X-Ray daemon does: 127.0.0.1:2000.
func DefaultConfig() Config { return Config{Addr: "127.0.0.1:2000"} }

// Validate reports an address that cannot be listened on.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("udp address %q: %w", c.Addr, err)
	}
	return nil
}

// Listener receives X-Ray daemon datagrams.
type Listener struct {
	cfg  Config
	p    *ingest.Pipeline
	log  *slog.Logger
	conn *net.UDPConn
	// bufBytes is the kernel receive buffer granted.
	bufBytes int
	wg       sync.WaitGroup

	logMu   sync.Mutex
	lastLog time.Time
	skipped int
}

// New returns a listener feeding p. It opens nothing until Start.
func New(cfg Config, p *ingest.Pipeline, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{cfg: cfg, p: p, log: log}
}

// Start binds the socket and starts reading.
func (l *Listener) Start(ctx context.Context) error {
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", l.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen udp %s: %w", l.cfg.Addr, err)
	}
	l.conn = pc.(*net.UDPConn)
	l.bufBytes = enlargeReceiveBuffer(l.conn, socketBufferBytes)
	if l.bufBytes > 0 && l.bufBytes < socketBufferBytes {
		l.log.Warn("udp receive buffer is smaller than asked; bursts may be dropped",
			"granted_bytes", l.bufBytes, "asked_bytes", socketBufferBytes,
			"hint", "raise net.core.rmem_max, or run thaw with CAP_NET_ADMIN")
	}
	// Several readers share the socket, each decoding what it reads, so a
	// burst is drained on every core while the kernel buffer holds the rest.
	for range max(1, runtime.GOMAXPROCS(0)) {
		l.wg.Go(l.readLoop)
	}
	return nil
}

// ReceiveBufferBytes is the socket's receive buffer as the kernel reports it.
func (l *Listener) ReceiveBufferBytes() int { return l.bufBytes }

// Addr returns the bound address (useful with port 0).
func (l *Listener) Addr() net.Addr {
	if l.conn == nil {
		return nil
	}
	return l.conn.LocalAddr()
}

// Shutdown closes the socket and waits for the reader to exit. Safe without
// Start and twice.
func (l *Listener) Shutdown(context.Context) error {
	if l.conn != nil {
		_ = l.conn.Close()
	}
	l.wg.Wait()
	return nil
}

func (l *Listener) readLoop() {
	buf := make([]byte, readBufferSize)
	m := l.p.Metrics()
	for {
		n, _, err := l.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.log.Error("read udp", "err", err)
			// A persistent error must not spin a core; datagrams wait in
			// the socket buffer meanwhile.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		m.Received(transport, 1)
		docs, rejects := Parse(buf[:n], n == len(buf), l.p.MaxDocumentBytes())
		for _, r := range rejects {
			m.Rejected(transport, r.Reason)
			l.logReject(r)
		}
		if len(docs) == 0 {
			continue
		}
		switch err := l.p.Submit(context.Background(), docs, false); {
		case errors.Is(err, ingest.ErrOverloaded):
			m.Dropped(transport, "queue_full", len(docs))
		case errors.Is(err, ingest.ErrStopped):
			m.Dropped(transport, "stopping", len(docs))
		}
	}
}

// logReject logs at most one rejection per second, with the number skipped
// since, so a flood of bad datagrams cannot flood the log.
func (l *Listener) logReject(r Rejection) {
	l.logMu.Lock()
	defer l.logMu.Unlock()
	if time.Since(l.lastLog) < time.Second {
		l.skipped++
		return
	}
	l.log.Warn("rejected datagram", "reason", r.Reason, "detail", r.Detail, "suppressed_since_last", l.skipped)
	l.lastLog = time.Now()
	l.skipped = 0
}

// Rejection is one rejected datagram, or one rejected document of an array
// of subsegments: the reason it is counted under (a segment error code or a
// datagram reason) and a detail for the log.
type Rejection struct {
	Reason string
	Detail string
}

// Parse splits a datagram into header and body, checks the header and
// decodes the body. truncated says the read filled the buffer. It returns
// the accepted documents and one Rejection per rejected datagram or
// document: an array of subsegments may yield both.
func Parse(b []byte, truncated bool, maxDoc int) ([]segment.Document, []Rejection) {
	reject := func(reason, format string, args ...any) ([]segment.Document, []Rejection) {
		return nil, []Rejection{{Reason: reason, Detail: fmt.Sprintf(format, args...)}}
	}
	if truncated {
		return reject(ReasonTruncated, "datagram of %d bytes or more exceeds the 64 KiB limit", len(b))
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return reject(ReasonNoHeader, `datagram has no header line; expected {"format": "json", "version": 1} and a newline before the document`)
	}
	if err := checkHeader(b[:nl]); err != nil {
		return reject(ReasonBadHeader, "%v", err)
	}
	body := bytes.TrimSpace(b[nl+1:])
	if len(body) == 0 {
		return reject(ReasonEmptyBody, "datagram has a header but no document")
	}
	docs, errs := segment.Decode(body, maxDoc)
	var rejects []Rejection
	for _, e := range errs {
		rejects = append(rejects, Rejection{
			Reason: string(e.Code),
			Detail: fmt.Sprintf("trace_id=%s id=%s: %s", e.TraceID, e.ID, e.Error()),
		})
	}
	return docs, rejects
}

func checkHeader(h []byte) error {
	var hdr struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(h, &hdr); err != nil {
		return fmt.Errorf("header %.60q is not JSON: %w", h, err)
	}
	if !strings.EqualFold(hdr.Format, "json") || hdr.Version != 1 {
		return fmt.Errorf(`header %.60q: want format "json" and version 1`, h)
	}
	return nil
}
