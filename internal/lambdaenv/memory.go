package lambdaenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// memoryPoll is how often an invocation's memory is read. Lambda enforces
// the limit with the microVM's memory; here the resident memory of the
// environment's process group is polled from /proc and the group is killed
// past the limit, so a spike shorter than the interval can go unseen.
const memoryPoll = 20 * time.Millisecond

// watchMemory records the environment's peak resident memory while ctx
// lasts and, when it passes the memory size, kills the process group and
// cancels the invocation. stop ends the watch and waits for it.
func (e *Env) watchMemory(ctx context.Context, cancel context.CancelFunc) (stop func()) {
	limitKB := int64(e.cfg.MemoryMB) * 1024
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		// The first reading comes after one interval, so a quick
		// invocation pays nothing for the watch; its memory is read in
		// the tail instead.
		t := time.NewTicker(memoryPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-t.C:
			}
			kb := groupRSS(e.cmd.Process.Pid)
			if kb > e.maxRSSKB {
				e.maxRSSKB = kb
			}
			if limitKB > 0 && kb > limitKB {
				e.oom = true
				_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
				cancel()
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

func (e *Env) oomed() bool { return e.oom }

// groupRSS is the resident memory, in KiB, of every process in process
// group pgid.
func groupRSS(pgid int) int64 {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total int64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 4 {
			continue
		}
		if g, err := strconv.Atoi(string(f[2])); err != nil || g != pgid {
			continue
		}
		total += statusKB(filepath.Join(filepath.Dir(p), "status"), "VmRSS:")
	}
	return total
}

// statusKB reads a "Name: N kB" line of /proc/PID/status.
func statusKB(path, name string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte(name)); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return n
			}
		}
	}
	return 0
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
