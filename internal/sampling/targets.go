package sampling

import (
	"context"
	"math"
	"math/bits"
	"time"

	"github.com/thawtrace/thaw/internal/xrayapi"
)

// msThreshold tells the units of a statistics Timestamp apart: the Java SDK
// sends milliseconds, the others seconds, and 1e11 s lies in the year 5138.
const msThreshold = 1e11

// report is one client's statistics document for one rule.
type report struct {
	at                         time.Time
	requests, sampled, borrows int64
}

// GetSamplingTargets records the statistics documents and answers, for each
// rule they name, the reporting client's share of the rule's reservoir
// (spec/xray.md §3.5): floor(ReservoirSize × the client's requests ÷ all
// clients' requests over the window), or the whole reservoir for a lone
// client, so the quotas of all clients never add up to more than the
// reservoir. Documents naming an unknown rule come back unprocessed.
func (r *Rules) GetSamplingTargets(_ context.Context, in xrayapi.GetSamplingTargetsInput) (*xrayapi.GetSamplingTargetsOutput, error) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := &xrayapi.GetSamplingTargetsOutput{
		SamplingTargetDocuments: []xrayapi.SamplingTargetDocument{},
		UnprocessedStatistics:   []xrayapi.UnprocessedStatistics{},
	}
	byName := make(map[string]xrayapi.SamplingRule, len(r.rules))
	for _, rec := range r.rules {
		byName[rec.SamplingRule.RuleName] = rec.SamplingRule
		out.LastRuleModification = max(out.LastRuleModification, rec.ModifiedAt)
	}
	r.prune(now)
	// A call comes from one SDK, so one ClientID; should several appear,
	// the first to name a rule gets its target.
	var order []string
	requester := map[string]string{}
	for _, st := range in.SamplingStatisticsDocuments {
		if _, ok := byName[st.RuleName]; !ok {
			out.UnprocessedStatistics = append(out.UnprocessedStatistics,
				xrayapi.UnprocessedStatistics{RuleName: st.RuleName, ErrorCode: "404", Message: "Rule not found"})
			continue
		}
		if st.ClientID == "" || st.RequestCount < 0 || st.SampledCount < 0 || st.BorrowCount < 0 {
			out.UnprocessedStatistics = append(out.UnprocessedStatistics,
				xrayapi.UnprocessedStatistics{RuleName: st.RuleName, ErrorCode: "400", Message: "ClientID is required and counts must not be negative"})
			continue
		}
		clients := r.stats[st.RuleName]
		if clients == nil {
			clients = map[string][]report{}
			r.stats[st.RuleName] = clients
		}
		clients[st.ClientID] = append(clients[st.ClientID], report{
			at: r.statTime(st.Timestamp, now), requests: st.RequestCount, sampled: st.SampledCount, borrows: st.BorrowCount,
		})
		if _, ok := requester[st.RuleName]; !ok {
			requester[st.RuleName] = st.ClientID
			order = append(order, st.RuleName)
		}
	}
	ttl := float64(now.Add(r.cfg.QuotaTTL).Unix())
	interval := int(r.cfg.Interval / time.Second)
	for _, name := range order {
		rule := byName[name]
		quota := quota(rule.ReservoirSize, r.stats[name], requester[name])
		out.SamplingTargetDocuments = append(out.SamplingTargetDocuments, xrayapi.SamplingTargetDocument{
			RuleName: name, FixedRate: rule.FixedRate, ReservoirQuota: &quota, ReservoirQuotaTTL: &ttl, Interval: &interval,
		})
	}
	return out, nil
}

// GetSamplingStatisticSummaries returns, for each rule with statistics in the
// window, the counts of all clients added up, in rule order. Timestamp is the
// time of the oldest document counted.
func (r *Rules) GetSamplingStatisticSummaries(context.Context, xrayapi.GetSamplingStatisticSummariesInput) (*xrayapi.GetSamplingStatisticSummariesOutput, error) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune(now)
	out := &xrayapi.GetSamplingStatisticSummariesOutput{SamplingStatisticSummaries: []xrayapi.SamplingStatisticSummary{}}
	for _, rec := range r.rules {
		clients := r.stats[rec.SamplingRule.RuleName]
		if len(clients) == 0 {
			continue
		}
		s := xrayapi.SamplingStatisticSummary{RuleName: rec.SamplingRule.RuleName}
		first := now
		for _, reports := range clients {
			for _, rep := range reports {
				s.RequestCount = addSat(s.RequestCount, rep.requests)
				s.SampledCount = addSat(s.SampledCount, rep.sampled)
				s.BorrowCount = addSat(s.BorrowCount, rep.borrows)
				if rep.at.Before(first) {
					first = rep.at
				}
			}
		}
		s.Timestamp = float64(first.UnixMilli()) / 1000
		out.SamplingStatisticSummaries = append(out.SamplingStatisticSummaries, s)
	}
	return out, nil
}

// statTime is when a document was taken: its Timestamp, in seconds or, above
// msThreshold, milliseconds; or now when that is not within the window, so
// a client with a skewed clock still counts, for one window.
func (r *Rules) statTime(ts xrayapi.Time, now time.Time) time.Time {
	f := float64(ts)
	if f > msThreshold {
		f /= 1000
	}
	if math.IsNaN(f) || f <= 0 {
		return now
	}
	at := time.UnixMilli(int64(f * 1000))
	if at.After(now) || !at.After(now.Add(-r.cfg.Window)) {
		return now
	}
	return at
}

// prune drops the reports that have left the window, and with them clients
// and rules without reports: what bounds the statistics' memory. Callers
// hold mu.
func (r *Rules) prune(now time.Time) {
	cutoff := now.Add(-r.cfg.Window)
	for name, clients := range r.stats {
		for id, reports := range clients {
			kept := reports[:0]
			for _, rep := range reports {
				if rep.at.After(cutoff) {
					kept = append(kept, rep)
				}
			}
			if len(kept) == 0 {
				delete(clients, id)
			} else {
				clients[id] = kept
			}
		}
		if len(clients) == 0 {
			delete(r.stats, name)
		}
	}
}

// quota is client's share of a reservoir of size among clients, by requests.
func quota(size int, clients map[string][]report, client string) int {
	if len(clients) <= 1 {
		return size
	}
	var mine, total int64
	for id, reports := range clients {
		var n int64
		for _, rep := range reports {
			n = addSat(n, rep.requests)
		}
		total = addSat(total, n)
		if id == client {
			mine = n
		}
	}
	if total == 0 {
		return size / len(clients)
	}
	// size × mine overflows int64 for large counts; mine ≤ total keeps the
	// 128-bit quotient within size.
	hi, lo := bits.Mul64(uint64(size), uint64(mine))
	q, _ := bits.Div64(hi, lo, uint64(total))
	return int(q)
}

// addSat adds two non-negative counts, stopping at the largest int64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
