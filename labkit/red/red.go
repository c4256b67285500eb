// Package red exports RED metrics (Rate, Errors, Duration) for HTTP and
// gRPC servers: a net/http middleware and a pair of gRPC server
// interceptors that count requests by outcome and time them in a histogram.
//
// Why RED: when a page fires, the on-call's first question about a service
// is "how much traffic, how much of it fails, how slow is it" — the three
// numbers users feel. Every lab server exports the same three metrics under
// the same names, so one dashboard and one set of SLO rules fit them all.
//
// Why the route template and not the raw path: /items/17 and /items/18 are
// the same endpoint. Each distinct label value is a separate time series
// that Prometheus keeps in memory, so a path label grows with the number of
// items, users or a scanner's random URLs, until the TSDB runs out of
// memory. The route label is the http.ServeMux pattern (/items/{id}); a
// request that matched no pattern lands in one value, "unmatched". Method is
// bounded to the standard verbs, status code to three digits, and the gRPC
// method to the service definitions registered on the server (grpc-go
// rejects unknown methods before interceptors run). With bounded labels the
// series count is the product of small sets, fixed when the code is written,
// not when traffic arrives. Ids that help debugging belong in logs, traces
// or exemplars, never in labels.
package red

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
)

// Unmatched is the route label of a request that matched no route, such as a
// 404 from http.ServeMux or a redirect it issued itself.
const Unmatched = "unmatched"

// OtherMethod is the method label of a request with a non-standard method.
const OtherMethod = "other"

// DefaultBuckets returns the histogram bounds used when Options.Buckets is
// empty, in seconds.
//
// Buckets should bracket the SLO's latency threshold: a latency SLI such as
// "99% of requests under 300 ms" is read as the share of observations in
// the le="0.3" bucket, so the threshold must be a bound, and the p99 that
// histogram_quantile estimates is only interpolated between the bounds on
// either side of it. Sparse bounds near the threshold make the estimate stick
// at a bound whatever the real latency is. These defaults are dense between
// 50 ms and 500 ms, where the labs set their thresholds; a service with
// another SLO passes its own.
func DefaultBuckets() []float64 {
	return []float64{.005, .01, .025, .05, .075, .1, .15, .2, .25, .3, .4, .5, .75, 1, 2.5, 5, 10}
}

// Options configures Metrics.
type Options struct {
	// Buckets are the duration histograms' upper bounds in seconds, in
	// increasing order. Empty means DefaultBuckets.
	Buckets []float64
}

// Metrics holds the RED collectors of one server. Create it with New.
type Metrics struct {
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight prometheus.Gauge

	grpcHandled  *prometheus.CounterVec
	grpcDuration *prometheus.HistogramVec
}

// New creates the HTTP and gRPC RED collectors and registers them on reg
// (pass a per-server registry such as telemetry.NewRegistry, never the
// global default, so tests and several servers in one process don't
// collide). A duplicate registration or bad buckets return an error naming
// the metric.
func New(reg prometheus.Registerer, opts Options) (*Metrics, error) {
	buckets := opts.Buckets
	if len(buckets) == 0 {
		buckets = DefaultBuckets()
	}
	// client_golang panics on unsorted bounds; a bad option is an error.
	for i := 1; i < len(buckets); i++ {
		if buckets[i] <= buckets[i-1] {
			return nil, fmt.Errorf("red: buckets must be increasing, got %v after %v at index %d", buckets[i], buckets[i-1], i)
		}
	}
	m := &Metrics{
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_server_requests_total",
			Help: "HTTP requests served, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_server_request_duration_seconds",
			Help:    "Time from receiving an HTTP request to its handler returning, by route template and method.",
			Buckets: slices.Clone(buckets),
		}, []string{"route", "method"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_server_in_flight_requests",
			Help: "HTTP requests being served now.",
		}),
		grpcHandled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_handled_total",
			Help: "gRPC calls completed on the server, by full method name and status code.",
		}, []string{"method", "code"}),
		grpcDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grpc_server_handling_seconds",
			Help:    "Time a gRPC call spent in its handler, by full method name.",
			Buckets: slices.Clone(buckets),
		}, []string{"method"}),
	}
	if err := telemetry.Register(reg, m.httpRequests, m.httpDuration, m.httpInFlight, m.grpcHandled, m.grpcDuration); err != nil {
		return nil, fmt.Errorf("red: %w", err)
	}
	return m, nil
}

// Pattern is the default route function: the http.ServeMux pattern that
// matched r without its method ("GET /items/{id}" gives "/items/{id}";
// method is a label of its own), or Unmatched. It must run after the mux has
// served r, which is when Handler calls it.
func Pattern(r *http.Request) string {
	p := r.Pattern
	if p == "" {
		return Unmatched
	}
	// A pattern is "[METHOD ][HOST]/[PATH]"; a method is followed by a space.
	if i := strings.IndexAny(p, " \t"); i >= 0 {
		p = strings.TrimLeft(p[i:], " \t")
	}
	return p
}

// methodLabel bounds the method label: any client can send "FOO /".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return OtherMethod
}

// Handler wraps next so every request it serves is counted and timed. route
// names the request's route template; nil means Pattern. route is called
// after next returns, because http.ServeMux sets r.Pattern while it serves,
// so next is typically the mux itself. A middleware between Handler and the
// mux that copies the request (r.WithContext, http.StripPrefix,
// http.TimeoutHandler) hides the pattern from Pattern, and every request
// reads as unmatched: put such middleware outside Handler, or pass a route
// function that reads the route another way. route must return a value
// from a small fixed set: never the raw path, a query value or an id.
func (m *Metrics) Handler(next http.Handler, route func(*http.Request) string) http.Handler {
	if route == nil {
		route = Pattern
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.httpInFlight.Inc()
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		returned := false
		// Deferred so the gauge returns to zero and the request is counted
		// even when next panics (net/http recovers it and drops the
		// connection; the client sees a failure, so it counts as a 500).
		defer func() {
			m.httpInFlight.Dec()
			code := sw.statusCode()
			if !returned && !sw.wrote {
				code = http.StatusInternalServerError
			}
			rt, method := route(r), methodLabel(r.Method)
			m.httpRequests.WithLabelValues(rt, method, strconv.Itoa(code)).Inc()
			m.httpDuration.WithLabelValues(rt, method).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
		returned = true
	})
}

// statusWriter records the status code a handler sends. It implements
// http.Flusher, because streaming handlers type-assert for it, and Unwrap,
// so http.ResponseController reaches the server's writer for Hijack,
// deadlines and full duplex.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	// 1xx responses other than 101 are informational (103 Early Hints);
	// the final status comes later.
	if !w.wrote && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client; like a bare http.Flusher it
// cannot report failure, and it does nothing when the underlying writer
// can't flush.
func (w *statusWriter) Flush() {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusCode is what the client received: a handler that writes nothing
// sends 200.
func (w *statusWriter) statusCode() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.status
}
