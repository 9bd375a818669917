package embedded

import (
	"sync"

	"github.com/thawtrace/thaw/internal/segment"
)

// pending keeps the decoded documents of traces whose summaries are stale,
// so the summarizer need not read back and decode what was just written: on
// the write path that read-back was a fifth of thaw's CPU.
//
// The cache is only an optimisation, and a conservative one. An entry starts
// with the first document of a trace the cache does not hold, and the
// summarizer trusts it to hold every document of the trace only when the
// store has no summary of the trace from before the entry (the summarizer
// looks the summary up anyway) and the number of cached documents matches
// the dirty markers it is about to consume. In every other case it reads the
// store, which is always complete, and drops the entry.
//
// Writers add documents to the cache before a summarizer pass can see their
// markers (DB.commitMu), so the cache is never behind the markers: a count
// that matches means the same documents.
type pending struct {
	mu     sync.Mutex
	traces map[segment.TraceID]*pendingTrace
	// uncached holds traces with stale summaries that are not cached
	// (markers found at Open, or the cache was full): their later documents
	// must not start an entry that would look complete.
	uncached map[segment.TraceID]bool
	bytes    int // raw size of the documents held, the budget's measure
	max      int
	// hits and misses count summaries computed from the cache and from the
	// store, for tests and benchmarks.
	hits, misses int
}

type pendingTrace struct {
	docs  []segment.Document
	bytes int
	// unsummarized counts documents added since the last summary.
	unsummarized uint64
	// summarized says a summary was computed from this entry, so a stored
	// summary is the entry's own and not a sign of older documents.
	summarized bool
}

func newPending(maxBytes int) *pending {
	return &pending{traces: map[segment.TraceID]*pendingTrace{}, uncached: map[segment.TraceID]bool{}, max: maxBytes}
}

// add records documents that were just committed.
func (p *pending) add(docs []segment.Document) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range docs {
		d := docs[i]
		t := p.traces[d.TraceID]
		if t == nil {
			if p.uncached[d.TraceID] {
				continue
			}
			if p.bytes >= p.max {
				p.uncached[d.TraceID] = true
				continue
			}
			t = &pendingTrace{}
			p.traces[d.TraceID] = t
		}
		n := len(d.Raw)
		d.Raw = nil // the summarizer reads only the entity
		t.docs = append(t.docs, d)
		t.bytes += n
		t.unsummarized++
		p.bytes += n
	}
}

// markUncached records traces whose documents predate the cache.
func (p *pending) markUncached(ids []segment.TraceID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		p.uncached[id] = true
	}
}

// take returns a copy of the trace's documents if the cache holds all of
// them: exactly the documents that markers counts unsummarized, and, when the
// store has a summary (stored), one the entry itself led to.
func (p *pending) take(id segment.TraceID, markers uint64, stored bool) ([]segment.Document, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.traces[id]
	if t == nil || t.unsummarized != markers || (stored && !t.summarized) {
		p.misses++
		return nil, false
	}
	p.hits++
	return append([]segment.Document(nil), t.docs...), true
}

// summarized records that a summary covering markers documents of the
// trace was committed, computed from the cache or not. An entry that was not
// used, or has nothing left to summarize, is dropped: dropping is always
// safe, since a new entry is trusted only if the store has no summary.
func (p *pending) summarized(id segment.TraceID, markers uint64, fromCache bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.uncached, id)
	t := p.traces[id]
	if t == nil {
		return
	}
	t.unsummarized -= min(markers, t.unsummarized)
	t.summarized = true
	if !fromCache || t.unsummarized == 0 {
		p.bytes -= t.bytes
		delete(p.traces, id)
	}
}

func (p *pending) stats() (hits, misses, held int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits, p.misses, p.bytes
}
