package graph

import (
	"maps"
	"math"
	"slices"
)

// Histogram bounds (spec/xray.md §6.4). A response lists one entry per
// distinct millisecond up to maxDistinct values; beyond that every value
// is rounded to two significant digits. A Graph itself keeps exact
// milliseconds until a histogram holds more than coarseAfter values, then
// switches it to two significant digits for good, so that a long-lived
// rollup stays small.
const (
	maxDistinct = 200
	coarseAfter = 1000
)

// histogram counts durations by milliseconds.
//
// Whether a histogram is coarse depends only on the set of values ever
// added (coarse once more than coarseAfter distinct milliseconds were
// seen), and rounding to two significant digits is idempotent, so adding
// values and merging histograms give the same result in any order.
type histogram struct {
	counts map[int64]int64
	coarse bool
}

// millis rounds a duration in seconds to whole milliseconds.
func millis(seconds float64) int64 { return int64(math.Round(seconds * 1e3)) }

// twoDigits rounds a positive number of milliseconds to two significant
// digits; below 100 ms it is unchanged.
func twoDigits(ms int64) int64 {
	if ms < 100 {
		return ms
	}
	p := int64(1)
	for ms/p >= 100 {
		p *= 10
	}
	return (ms + p/2) / p * p
}

func (h *histogram) add(seconds float64) { h.addCount(millis(seconds), 1) }

func (h *histogram) addCount(ms, n int64) {
	if h.counts == nil {
		h.counts = make(map[int64]int64, 4)
	}
	if h.coarse {
		ms = twoDigits(ms)
	}
	h.counts[ms] += n
	if !h.coarse && len(h.counts) > coarseAfter {
		h.coarsen()
	}
}

func (h *histogram) coarsen() {
	old := h.counts
	h.counts = make(map[int64]int64, maxDistinct)
	h.coarse = true
	for ms, n := range old {
		h.counts[twoDigits(ms)] += n
	}
}

func (h *histogram) merge(o *histogram) {
	if o.coarse && !h.coarse {
		h.coarsen()
	}
	for ms, n := range o.counts {
		h.addCount(ms, n)
	}
}

// entries returns the histogram as X-Ray lists it, by ascending value,
// bounded to two significant digits beyond maxDistinct values. It is
// never nil.
func (h *histogram) entries() []HistogramEntry {
	counts := h.counts
	if !h.coarse && len(counts) > maxDistinct {
		c := histogram{counts: counts}
		c.coarsen()
		counts = c.counts
	}
	keys := slices.Sorted(maps.Keys(counts))
	out := make([]HistogramEntry, len(keys))
	for i, ms := range keys {
		out[i] = HistogramEntry{Value: float64(ms) / 1e3, Count: counts[ms]}
	}
	return out
}
