// Package httpmetrics exports RED metrics (Rate, Errors, Duration) for the
// HTTP server, plus the in-flight and open-connection gauges the lab's
// faults move.
//
// Labels are the route template (not the raw path) and the status code, so
// the number of series stays bounded however many IDs clients send.
package httpmetrics

import (
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is the server's metric set.
type Metrics struct {
	Requests        *prometheus.CounterVec
	Duration        *prometheus.HistogramVec
	InFlight        prometheus.Gauge
	OpenConnections prometheus.Gauge
	AbortedRequests prometheus.Counter
	LogWrite        prometheus.Histogram

	inFlight atomic.Int64 // the gauge's value, readable without scraping
}

// New registers the metrics on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lab0_http_requests_total",
			Help: "HTTP requests by route and status code."}, []string{"route", "code"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lab0_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"route"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lab0_http_in_flight_requests",
			Help: "Requests being served now."}),
		OpenConnections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lab0_http_open_connections",
			Help: "TCP connections the server holds open (new, active or idle)."}),
		AbortedRequests: prometheus.NewCounter(prometheus.CounterOpts{Name: "lab0_http_shutdown_aborted_requests_total",
			Help: "Requests still in flight when the server stopped serving."}),
		LogWrite: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lab0_access_log_write_seconds",
			Help:    "Time a request spends writing its access-log line.",
			Buckets: []float64{.00001, .00005, .0001, .0005, .001, .005, .01, .05, .1, .5, 1}}),
	}
	reg.MustRegister(m.Requests, m.Duration, m.InFlight, m.OpenConnections, m.AbortedRequests, m.LogWrite)
	return m
}

// Middleware records rate, errors and duration per route.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		m.InFlight.Inc()
		m.inFlight.Add(1)
		defer func() {
			m.InFlight.Dec()
			m.inFlight.Add(-1)
		}()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched" // 404s must not mint a series per path
		}
		m.Requests.WithLabelValues(route, strconv.Itoa(c.Writer.Status())).Inc()
		m.Duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	}
}

// ConnState is an http.Server.ConnState hook that tracks open connections.
func (m *Metrics) ConnState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		m.OpenConnections.Inc()
	case http.StateClosed, http.StateHijacked:
		m.OpenConnections.Dec()
	}
}

// InFlightNow is the number of requests being served now.
func (m *Metrics) InFlightNow() int64 { return m.inFlight.Load() }
