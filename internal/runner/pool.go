// Package runner runs a project's functions the way Lambda does: a pool of
// execution environments per function (a cold start when none is idle,
// the most recently used idle one otherwise, shut down after an idle
// period), the Lambda Invoke API in front of them, and the platform's
// X-Ray segments for every recorded invocation (spec/lambda.md §1.7–1.8,
// §2.7, §5).
//
// It imports lambdaenv, runtimeapi and template.
package runner

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/thawtrace/thaw/internal/lambdaenv"
	"github.com/thawtrace/thaw/internal/runtimeapi"
)

// ErrThrottled is returned when a function is at its concurrency limit.
var ErrThrottled = errors.New("runner: the function is at its concurrency limit")

// Outcome is one invocation as the platform saw it.
type Outcome struct {
	Result runtimeapi.Result
	// Received is when the invocation arrived; Timing the environment's
	// timeline (dispatch, response, end of overhead), complete after
	// Wait: the caller has its answer before the runtime's overhead ends.
	Received time.Time
	Timing   lambdaenv.Timing
	tail     *lambdaenv.Tail
	// Cold is set when the invocation started an environment; InitStart
	// and InitEnd bound its Init.
	Cold               bool
	InitStart, InitEnd time.Time
}

// Pool holds a function's execution environments.
type Pool struct {
	cfg     lambdaenv.Config
	log     *slog.Logger
	limit   int           // most environments at once; 0 means no limit
	idleTTL time.Duration // an idle environment is shut down after this

	mu        sync.Mutex
	idle      []*idleEnv // most recently used last
	busy      int
	finishing int           // busy environments past their answer, in their tail
	freed     chan struct{} // closed and replaced when an environment is released
	closed    bool
	closeDone bool // Close has shut the environments down
	stop      chan struct{}
	wg        sync.WaitGroup
}

type idleEnv struct {
	env  *lambdaenv.Env
	used time.Time
}

// NewPool returns the pool of a function, with at most limit environments
// (0: no limit) kept idle for idleTTL.
func NewPool(cfg lambdaenv.Config, limit int, idleTTL time.Duration, log *slog.Logger) *Pool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pool{cfg: cfg, log: log, limit: limit, idleTTL: idleTTL, stop: make(chan struct{}), freed: make(chan struct{})}
	p.wg.Go(p.reap)
	return p
}

// Invoke runs one invocation in an idle environment, or a new one.
func (p *Pool) Invoke(ctx context.Context, inv lambdaenv.Invocation) (Outcome, error) {
	out := Outcome{Received: time.Now()}
	env, err := p.acquire()
	if err != nil {
		return out, err
	}
	if env == nil {
		out.Cold, out.InitStart = true, time.Now()
		env, err = lambdaenv.Start(ctx, p.cfg, p.log)
		var f *lambdaenv.InitFailure
		if errors.As(err, &f) {
			// A suppressed init: Lambda runs Init once more inside the
			// invocation, bounded by the function's timeout (spec §1.2).
			retry := p.cfg
			retry.Phase, retry.InitTimeout = "invoke", max(p.cfg.Timeout, time.Second)
			env, err = lambdaenv.Start(ctx, retry, p.log)
		}
		out.InitEnd = time.Now()
		if err != nil {
			p.release(nil)
			var f *lambdaenv.InitFailure
			if errors.As(err, &f) {
				// The invocation that caused the cold start fails with the
				// init error (spec §2.5).
				out.Result = runtimeapi.Result{Error: f.Err, At: out.InitEnd}
				out.Timing = lambdaenv.Timing{Start: out.InitEnd, Response: out.InitEnd, End: out.InitEnd}
				return out, nil
			}
			return out, err
		}
	}
	res, tail, err := env.Invoke(ctx, inv)
	if err != nil {
		env.Shutdown()
		p.release(nil)
		return out, err
	}
	out.Result, out.tail = res, tail
	out.Timing = lambdaenv.Timing{Start: res.At, Response: res.At, End: res.At} // until Wait
	// The environment stays busy until the runtime asks for its next
	// event; the caller already has the answer.
	p.mu.Lock()
	p.finishing++
	p.mu.Unlock()
	go func() {
		tail.Wait()
		if env.Reset() {
			p.mu.Lock()
			p.finishing--
			p.mu.Unlock()
			env.Shutdown()
			p.release(nil)
			return
		}
		p.finished(env)
	}()
	return out, nil
}

// Wait waits for the end of the invocation (the runtime's overhead) and
// completes Timing.
func (o *Outcome) Wait() {
	if o.tail != nil {
		o.Timing = o.tail.Wait()
	}
}

// Log returns the end of the invocation's log, after its tail.
func (o *Outcome) Log() []byte {
	if o.tail == nil {
		return nil
	}
	return o.tail.Log()
}

// finishWait is how long an invocation waits for an environment that has
// answered and is about to ask for its next event, rather than start a
// new one: with no extensions that takes microseconds on Lambda, so a
// caller's next request finds the environment warm.
const finishWait = 20 * time.Millisecond

// acquire takes the most recently used idle environment, or reserves room
// for a new one (nil).
func (p *Pool) acquire() (*lambdaenv.Env, error) {
	deadline := time.Now().Add(finishWait)
	p.mu.Lock()
	for len(p.idle) == 0 && p.finishing > 0 && !p.closed {
		freed := p.freed
		p.mu.Unlock()
		wait := time.Until(deadline)
		if wait <= 0 {
			p.mu.Lock()
			break
		}
		select {
		case <-freed:
		case <-time.After(wait):
		}
		p.mu.Lock()
	}
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("runner: the pool is closed")
	}
	if n := len(p.idle); n > 0 {
		e := p.idle[n-1].env
		p.idle = p.idle[:n-1]
		p.busy++
		return e, nil
	}
	if p.limit > 0 && p.busy >= p.limit {
		return nil, ErrThrottled
	}
	p.busy++
	return nil, nil
}

// release returns an environment to the idle list (nil: it is gone).
func (p *Pool) release(e *lambdaenv.Env) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(e)
}

// finished returns an environment whose invocation's tail has run. It
// stops counting as finishing in the same step, so that acquire never sees
// it as neither finishing nor idle and starts a cold one instead.
func (p *Pool) finished(e *lambdaenv.Env) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishing--
	p.releaseLocked(e)
}

func (p *Pool) releaseLocked(e *lambdaenv.Env) {
	p.busy--
	close(p.freed)
	p.freed = make(chan struct{})
	if e == nil {
		return
	}
	if p.closeDone { // Close gave up waiting for this one
		go e.Shutdown()
		return
	}
	p.idle = append(p.idle, &idleEnv{env: e, used: time.Now()}) // Close shuts it down
}

// Environments reports how many environments are idle and busy.
func (p *Pool) Environments() (idle, busy int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle), p.busy
}

// reap shuts down environments idle for longer than the TTL.
func (p *Pool) reap() {
	every := min(max(p.idleTTL/4, 10*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		var expired []*lambdaenv.Env
		p.mu.Lock()
		kept := p.idle[:0]
		for _, ie := range p.idle {
			if time.Since(ie.used) >= p.idleTTL {
				expired = append(expired, ie.env)
				continue
			}
			kept = append(kept, ie)
		}
		p.idle = kept
		p.mu.Unlock()
		for _, e := range expired {
			p.log.Debug("shut down idle environment", "function", p.cfg.FunctionName)
			e.Shutdown()
		}
	}
}

// closeWait bounds how long Close waits for busy environments.
const closeWait = 10 * time.Second

// Close waits (up to closeWait) for the busy environments to finish, then
// shuts every environment down, so that no runtime process outlives thaw.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	close(p.stop)
	p.wg.Wait()
	deadline := time.Now().Add(closeWait)
	for {
		p.mu.Lock()
		busy, freed := p.busy, p.freed
		p.mu.Unlock()
		if busy == 0 || !time.Now().Before(deadline) {
			break
		}
		select {
		case <-freed:
		case <-time.After(time.Until(deadline)):
		}
	}
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closeDone = true
	p.mu.Unlock()
	for _, ie := range idle {
		ie.env.Shutdown()
	}
}
