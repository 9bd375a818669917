package e2etest

import (
	"fmt"
	"testing"
	"time"
)

// docBatch is a set of documents and the traces they belong to.
type docBatch struct {
	traceIDs []string
	segIDs   map[string][]string // trace id → segment ids
	docs     []string
}

// newDocBatch makes traces × perTrace segment documents: a root segment and perTrace-1
// downstream segments, each its own document.
func newDocBatch(prefix string, traces, perTrace int) docBatch {
	b := docBatch{segIDs: map[string][]string{}}
	now := time.Now()
	for i := range traces {
		start := now.Add(-time.Duration(traces-i) * time.Millisecond)
		tid := newTraceID(start)
		b.traceIDs = append(b.traceIDs, tid)
		parent := ""
		for j := range perTrace {
			id := newID()
			extra := map[string]any{"annotations": map[string]any{"batch": prefix, "n": i*perTrace + j}}
			if parent != "" {
				extra["parent_id"] = parent
			}
			b.docs = append(b.docs, segmentDoc(tid, id, fmt.Sprintf("%s-svc-%d", prefix, j), start.Add(time.Duration(j)*time.Millisecond), time.Duration(20-j)*time.Millisecond, extra))
			b.segIDs[tid] = append(b.segIDs[tid], id)
			parent = id
		}
	}
	return b
}

// putBatch sends the batch in calls of perCall documents and fails unless each is accepted.
func putBatch(t *testing.T, c *apiClient, b docBatch, perCall int) {
	t.Helper()
	for docs := b.docs; len(docs) > 0; {
		n := min(len(docs), perCall)
		mustPut(t, c, docs[:n]...)
		docs = docs[n:]
	}
}

// checkBatchStored waits until every segment of the batches is returned by BatchGetTraces.
func checkBatchStored(t *testing.T, c *apiClient, batches ...docBatch) {
	t.Helper()
	var ids []string
	want := map[string][]string{}
	for _, b := range batches {
		ids = append(ids, b.traceIDs...)
		for k, v := range b.segIDs {
			want[k] = v
		}
	}
	waitForTraces(t, c, ids, func(m map[string][]doc) error {
		missing, total := 0, 0
		var example string
		for _, tid := range ids {
			got := map[string]bool{}
			for _, d := range m[tid] {
				walk(d, nil, func(e doc, _ []doc) { got[str(e, "id")] = true })
			}
			for _, id := range want[tid] {
				total++
				if !got[id] {
					missing++
					example = tid + "/" + id
				}
			}
		}
		if missing > 0 {
			return fmt.Errorf("%d of %d acknowledged segments missing, e.g. %s", missing, total, example)
		}
		return nil
	})
}

// TestDurability checks that acknowledged documents survive kill -9 and that a clean
// shutdown (SIGINT) keeps everything, including UDP documents still in the pipeline.
func TestDurability(t *testing.T) {
	dataDir := t.TempDir()

	// 50 PutTraceSegments calls of 20 documents each, then SIGKILL right after the last
	// acknowledgement.
	th := startThaw(t, dataDir)
	killed := newDocBatch("kill", 250, 4)
	putBatch(t, th.API(), killed, 20)
	th.Kill()

	th = startThaw(t, dataDir)
	checkBatchStored(t, th.API(), killed)

	// More documents over HTTP and over UDP, then SIGINT as soon as thaw has read the
	// datagrams: a clean shutdown drains what it has received.
	interrupted := newDocBatch("sigint", 50, 4)
	putBatch(t, th.API(), interrupted, 20)
	udp := newDocBatch("udp", 40, 1)
	before := metricSum(scrapeMetrics(t, th.URL), udpReceivedMetric, udpReceivedLabels)
	var datagrams [][]byte
	for _, d := range udp.docs {
		datagrams = append(datagrams, []byte(udpHeader+d))
	}
	sendUDP(t, th.UDPAddr, datagrams...)
	waitForMetric(t, th, udpReceivedMetric, udpReceivedLabels, before+float64(len(datagrams)))
	th.Interrupt()

	th = startThaw(t, dataDir)
	checkBatchStored(t, th.API(), killed, interrupted, udp)
	th.Interrupt()
}

// waitForMetric polls /metrics until the named sum reaches at least want.
func waitForMetric(t *testing.T, th *thawProc, name string, labels map[string]string, want float64) {
	t.Helper()
	eventually(t, visibleTimeout, func() error {
		if got := metricSum(scrapeMetrics(t, th.URL), name, labels); got < want {
			return fmt.Errorf("metric %s = %v, want >= %v", series(name, labels), got, want)
		}
		return nil
	})
}
