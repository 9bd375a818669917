package daemon

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/thawtrace/thaw/internal/loadgen"
)

// startDemo feeds the server the traces of a small serverless app, the
// "register" API: API Gateway → a Lambda function (cold starts now and
// then) → a DynamoDB table (throttled at times) and a third-party HTTP API
// (failing or slow at times). The documents go over the server's own UDP
// listener, the path every X-Ray SDK takes, at DemoRate traces a second.
func (s *Server) startDemo(ctx context.Context) error {
	conn, err := net.Dial("udp", s.udp.Addr().String())
	if err != nil {
		return fmt.Errorf("demo: dial own udp listener: %w", err)
	}
	ctx, s.stopDemo = context.WithCancel(context.WithoutCancel(ctx))
	s.demoDone = make(chan struct{})
	g := loadgen.New(uint64(time.Now().UnixNano()))
	g.ColdStartRate, g.ErrorRate, g.ThrottleRate, g.SlowRate = 0.08, 0.04, 0.03, 0.02
	log := s.log.With("component", "demo")
	go func() {
		defer close(s.demoDone)
		defer conn.Close()
		t := time.NewTicker(time.Duration(float64(time.Second) / s.cfg.DemoRate))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// Started a little in the past, so that the trace has ended
			// (a cold start takes up to a second) when its documents go.
			tr := g.Trace(time.Now().Add(-1200 * time.Millisecond))
			for _, d := range tr.Docs {
				if _, err := conn.Write(loadgen.Datagram(d)); err != nil {
					log.Warn("send demo segment", "err", err)
					break
				}
			}
		}
	}()
	fmt.Fprintf(s.out, "demo     sending %g traces/s of a built-in serverless app (API Gateway → Lambda → DynamoDB + HTTP API)\n", s.cfg.DemoRate)
	return nil
}
