package ingest

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/thawtrace/thaw/internal/segment"
)

// Metrics are the ingest path's self-metrics. They are registered on the
// registry given to NewMetrics, never on a global one.
type Metrics struct {
	received     *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	dropped      *prometheus.CounterVec
	stored       prometheus.Counter
	storeErrors  prometheus.Counter
	queueDocs    prometheus.Gauge
	batchDocs    prometheus.Histogram
	storeSeconds prometheus.Histogram
	latency      prometheus.Histogram
}

// NewMetrics creates the counters and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thaw_ingest_received_total",
			Help: "Documents (UDP: datagrams) received, by transport, before validation.",
		}, []string{"transport"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thaw_ingest_rejected_total",
			Help: "Documents rejected as invalid, by transport and reason (X-Ray error code or datagram problem).",
		}, []string{"transport", "reason"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thaw_ingest_dropped_total",
			Help: "Valid documents not stored, by transport and reason (queue_full, store_error, stopping).",
		}, []string{"transport", "reason"}),
		stored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "thaw_ingest_stored_total",
			Help: "Documents durably written to the store.",
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "thaw_store_write_errors_total",
			Help: "Failed store writes (batches).",
		}),
		queueDocs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "thaw_ingest_queue_documents",
			Help: "Documents waiting in the ingest queue.",
		}),
		batchDocs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "thaw_ingest_batch_documents",
			Help:    "Documents per store write.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		storeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "thaw_store_write_seconds",
			Help:    "Latency of one batch write to the store, sync included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "thaw_ingest_latency_seconds",
			Help:    "Time from a document entering the queue to its batch being durably stored.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}),
	}
	for _, t := range []string{"udp", "http"} {
		m.received.WithLabelValues(t)
		for _, c := range segment.Codes {
			m.rejected.WithLabelValues(t, string(c))
		}
		for _, r := range []string{"queue_full", "stopping", "store_error"} {
			m.dropped.WithLabelValues(t, r)
		}
	}
	// Datagram-level reasons, so that every series exists from the start.
	for _, r := range []string{"NoHeader", "InvalidHeader", "Truncated", "EmptyBody"} {
		m.rejected.WithLabelValues("udp", r)
	}
	if reg != nil {
		reg.MustRegister(m.received, m.rejected, m.dropped, m.stored, m.storeErrors, m.queueDocs, m.batchDocs, m.storeSeconds, m.latency)
	}
	return m
}

// Received counts n documents received on transport.
func (m *Metrics) Received(transport string, n int) {
	m.received.WithLabelValues(transport).Add(float64(n))
}

// Rejected counts one document rejected on transport for reason.
func (m *Metrics) Rejected(transport, reason string) {
	m.rejected.WithLabelValues(transport, reason).Inc()
}

// Dropped counts n valid documents not stored.
func (m *Metrics) Dropped(transport, reason string, n int) {
	m.dropped.WithLabelValues(transport, reason).Add(float64(n))
}
