package e2etest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long thaw may take to print its listeners, and stopTimeout how long
// it may take to exit after SIGINT.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// thawProc is one running `thaw serve` process.
type thawProc struct {
	t       *testing.T
	dataDir string
	cmd     *exec.Cmd
	stdout  *watchedBuffer
	stderr  *watchedBuffer
	exited  chan struct{} // closed when cmd.Wait returned
	waitErr error         // cmd.Wait's result, set before exited is closed

	// UDPAddr is the X-Ray daemon UDP address (host:port) and URL the HTTP API base URL.
	UDPAddr string
	URL     string
}

// The listener lines `thaw serve` prints, one per listener.
var (
	udpLineRE  = regexp.MustCompile(`(?m)^udp\s+(\S+:\d+)\s`)
	httpLineRE = regexp.MustCompile(`(?m)^http\s+(http://\S+:\d+)\s`)
)

// startThaw starts `thaw serve` on free loopback ports with dataDir as its data directory and
// waits until it has printed its UDP and HTTP listeners. The process is killed when the test
// ends if it is still running; its output is logged if the test failed.
func startThaw(t *testing.T, dataDir string) *thawProc {
	t.Helper()
	requireThaw(t)
	p := &thawProc{
		t:       t,
		dataDir: dataDir,
		stdout:  newWatchedBuffer(),
		stderr:  newWatchedBuffer(),
		exited:  make(chan struct{}),
	}
	args := []string{"serve", "--data", dataDir, "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0"}
	args = append(args, serveExtraArgs()...)
	p.cmd = exec.Command(thawBin, args...)
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	p.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", thawBin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if p.running() {
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.exited
		}
		if t.Failed() {
			t.Logf("thaw (pid %d, data %s) stdout:\n%s\nstderr:\n%s", p.cmd.Process.Pid, dataDir, p.stdout.String(), p.stderr.String())
		}
	})

	deadline := time.After(startTimeout)
	for {
		out := p.stdout.String()
		u, h := udpLineRE.FindStringSubmatch(out), httpLineRE.FindStringSubmatch(out)
		if u != nil && h != nil {
			p.UDPAddr, p.URL = u[1], h[1]
			return p
		}
		select {
		case <-p.stdout.changed:
		case <-p.exited:
			t.Fatalf("thaw serve exited before printing its listeners: %v\nstdout:\n%s\nstderr:\n%s", p.waitErr, out, p.stderr.String())
		case <-deadline:
			t.Fatalf("thaw serve printed no udp and http listener lines within %v\nstdout:\n%s\nstderr:\n%s", startTimeout, out, p.stderr.String())
		}
	}
}

// serveExtraArgs are extra `thaw serve` flags from THAW_E2E_SERVE_ARGS (space separated).
func serveExtraArgs() []string {
	return strings.Fields(os.Getenv("THAW_E2E_SERVE_ARGS"))
}

func (p *thawProc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Interrupt sends SIGINT and fails the test unless thaw exits with status 0 in time.
func (p *thawProc) Interrupt() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.t.Fatalf("SIGINT thaw pid %d: %v", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		p.t.Fatalf("thaw pid %d still running %v after SIGINT", p.cmd.Process.Pid, stopTimeout)
	}
	if p.waitErr != nil {
		p.t.Fatalf("thaw pid %d after SIGINT: %v (want exit status 0)\nstderr:\n%s", p.cmd.Process.Pid, p.waitErr, p.stderr.String())
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *thawProc) Kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("SIGKILL thaw pid %d: %v", p.cmd.Process.Pid, err)
	}
	<-p.exited
}

// CheckRunning fails the test if thaw has exited.
func (p *thawProc) CheckRunning() {
	p.t.Helper()
	if !p.running() {
		p.t.Fatalf("thaw pid %d exited: %v\nstderr:\n%s", p.cmd.Process.Pid, p.waitErr, p.stderr.String())
	}
}

// API returns a client for thaw's HTTP API.
func (p *thawProc) API() *apiClient {
	return &apiClient{base: p.URL}
}

// watchedBuffer is an io.Writer that keeps everything written to it and signals each write.
type watchedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatchedBuffer() *watchedBuffer {
	return &watchedBuffer{changed: make(chan struct{}, 1)}
}

func (w *watchedBuffer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return w.buf.Write(b)
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// freePort returns a loopback TCP port that was free a moment ago, for servers such as
// dynalite that cannot report the port they bound.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runResult is what a finished client program printed.
type runResult struct {
	Stdout, Stderr string
	Err            error
}

// runProgram runs a client program to completion (at most timeout) and returns its output.
func runProgram(t *testing.T, timeout time.Duration, env []string, dir, name string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s still running after %v: %w", name, timeout, errors.Join(err, ctx.Err()))
	}
	return runResult{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// mustRun is runProgram that fails the test unless the program exits with status 0.
func mustRun(t *testing.T, timeout time.Duration, env []string, dir, name string, args ...string) runResult {
	t.Helper()
	r := runProgram(t, timeout, env, dir, name, args...)
	if r.Err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r
}
