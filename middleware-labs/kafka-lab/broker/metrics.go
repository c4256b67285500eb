package broker

import "github.com/prometheus/client_golang/prometheus"

// Collectors are the broker's counters as Prometheus metrics, read at
// scrape time from the counters the broker keeps anyway.
func (b *Broker) Collectors() []prometheus.Collector {
	counter := func(name, help string, v func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kafka_lab", Subsystem: "broker", Name: name, Help: help}, v)
	}
	return []prometheus.Collector{
		counter("requests_total", "Requests decoded.", func() float64 { return float64(b.stats.Requests.Load()) }),
		counter("produced_batches_total", "Record batches appended.", func() float64 { return float64(b.stats.ProducedBatches.Load()) }),
		counter("produced_records_total", "Records appended.", func() float64 { return float64(b.stats.ProducedRecords.Load()) }),
		counter("duplicate_batches_total", "Retried idempotent batches answered without a second append.", func() float64 { return float64(b.stats.DuplicateBatches.Load()) }),
		counter("malformed_frames_total", "Connections closed on a frame that could not be read or decoded.", func() float64 { return float64(b.stats.MalformedFrames.Load()) }),
		counter("rebalances_total", "Consumer-group generations completed.", func() float64 { return float64(b.Group.Rebalances()) }),
	}
}
