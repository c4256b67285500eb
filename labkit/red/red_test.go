package red

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newMetrics returns Metrics on a fresh registry, so each test counts from
// zero.
func newMetrics(t testing.TB, opts Options) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := New(reg, opts)
	require.NoError(t, err)
	return m, reg
}

// labMux is a small lab server: one route per outcome the metrics must tell
// apart.
func labMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "item")
	})
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "database down", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no such user", http.StatusNotFound)
	})
	mux.HandleFunc("GET /hints", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "page")
	})
	return mux
}

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// histogram returns the histogram child of the metric family name whose
// labels are exactly labels, or nil.
func histogram(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) *dto.Histogram {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metrics
				}
			}
			return m.GetHistogram()
		}
	}
	return nil
}

func TestHandlerCountsPerRouteTemplate(t *testing.T) {
	type req struct{ method, target string }
	tests := []struct {
		name     string
		requests []req
		route    string
		method   string
		code     string
		want     float64
		// minSeconds is a lower bound on the histogram's sum.
		minSeconds float64
	}{
		{name: "ids share one route", requests: []req{{"GET", "/items/1"}, {"GET", "/items/2"}, {"GET", "/items/3"}},
			route: "/items/{id}", method: "GET", code: "200", want: 3},
		{name: "status set by WriteHeader", requests: []req{{"POST", "/items"}, {"POST", "/items"}},
			route: "/items", method: "POST", code: "201", want: 2},
		{name: "5xx counted as its code", requests: []req{{"GET", "/fail"}, {"GET", "/fail"}},
			route: "/fail", method: "GET", code: "503", want: 2},
		{name: "4xx from a matched route keeps its route", requests: []req{{"GET", "/users/7"}},
			route: "/users/{id}", method: "GET", code: "404", want: 1},
		{name: "no route is unmatched", requests: []req{{"GET", "/wp-admin.php"}, {"GET", "/.env"}},
			route: Unmatched, method: "GET", code: "404", want: 2},
		{name: "wrong method on a route is unmatched", requests: []req{{"DELETE", "/fail"}},
			route: Unmatched, method: "DELETE", code: "405", want: 1},
		{name: "non-standard method is other", requests: []req{{"BREW", "/items/1"}},
			route: Unmatched, method: OtherMethod, code: "405", want: 1},
		{name: "1xx is not the final status", requests: []req{{"GET", "/hints"}},
			route: "/hints", method: "GET", code: "200", want: 1},
		{name: "duration is observed", requests: []req{{"GET", "/slow"}, {"GET", "/slow"}},
			route: "/slow", method: "GET", code: "204", want: 2, minSeconds: 0.040},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newMetrics(t, Options{})
			h := m.Handler(labMux(), nil)
			for _, r := range tt.requests {
				serve(h, r.method, r.target)
			}
			assert.InDelta(t, tt.want, testutil.ToFloat64(m.httpRequests.WithLabelValues(tt.route, tt.method, tt.code)), 0)
			assert.Equal(t, 1, testutil.CollectAndCount(m.httpRequests), "one series: every request had the same labels")
			hist := histogram(t, reg, "http_server_request_duration_seconds", map[string]string{"route": tt.route, "method": tt.method})
			require.NotNil(t, hist, "no duration series for route %q method %q", tt.route, tt.method)
			assert.Equal(t, uint64(len(tt.requests)), hist.GetSampleCount())
			assert.GreaterOrEqual(t, hist.GetSampleSum(), tt.minSeconds)
		})
	}
}

// TestHandlerBoundsCardinality is the cardinality-explosion fault in
// miniature: 10,000 distinct raw paths, half matching a route and half a
// scanner's random URLs. The route template keeps the series count fixed;
// the raw path (the fault) makes one series per path.
func TestHandlerBoundsCardinality(t *testing.T) {
	const paths = 10_000
	tests := []struct {
		name   string
		route  func(*http.Request) string
		series int
	}{
		{name: "route template", route: nil, series: 2},
		{name: "raw path", route: func(r *http.Request) string { return r.URL.Path }, series: paths},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newMetrics(t, Options{})
			h := m.Handler(labMux(), tt.route)
			for i := range paths {
				target := fmt.Sprintf("/items/%d", i)
				if i%2 == 1 {
					target = fmt.Sprintf("/scan/%x", i*7919)
				}
				serve(h, http.MethodGet, target)
			}
			assert.Equal(t, tt.series, testutil.CollectAndCount(m.httpRequests, "http_server_requests_total"))
			assert.Equal(t, tt.series, testutil.CollectAndCount(m.httpDuration, "http_server_request_duration_seconds"))
		})
	}
}

func TestHandlerInFlightReturnsToZero(t *testing.T) {
	m, _ := newMetrics(t, Options{})
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /wait", func(w http.ResponseWriter, _ *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) {
		panic("handler bug")
	})
	h := m.Handler(mux, nil)

	const n = 3
	done := make(chan struct{})
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			serve(h, http.MethodGet, "/wait")
		}()
	}
	for range n {
		<-entered
	}
	assert.InDelta(t, n, testutil.ToFloat64(m.httpInFlight), 0, "every blocked request is in flight")
	close(release)
	for range n {
		<-done
	}
	assert.InDelta(t, 0, testutil.ToFloat64(m.httpInFlight), 0)

	// A panicking handler still leaves the gauge and counts a 500.
	assert.Panics(t, func() { serve(h, http.MethodGet, "/panic") })
	assert.InDelta(t, 0, testutil.ToFloat64(m.httpInFlight), 0)
	assert.InDelta(t, 1, testutil.ToFloat64(m.httpRequests.WithLabelValues("/panic", "GET", "500")), 0)
}

// TestHandlerKeepsFlusher streams over a real connection: the client must
// read the first chunk while the handler is still running, which only
// happens if Flush reaches the server's writer through the wrapper.
func TestHandlerKeepsFlusher(t *testing.T) {
	m, _ := newMetrics(t, Options{})
	finish := make(chan struct{})
	handlerErrs := make(chan error, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, _ *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			handlerErrs <- errors.New("wrapped writer is not an http.Flusher")
			return
		}
		_, _ = io.WriteString(w, "first\n")
		f.Flush()
		<-finish
		_, _ = io.WriteString(w, "second\n")
		// ResponseController reaches the connection through Unwrap.
		handlerErrs <- http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute))
	})
	srv := httptest.NewServer(m.Handler(mux, nil))
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	resp, err := client.Get(srv.URL + "/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	first := make(chan string, 1)
	go func() {
		line, _ := br.ReadString('\n')
		first <- line
	}()
	select {
	case line := <-first:
		assert.Equal(t, "first\n", line)
	case err := <-handlerErrs:
		t.Fatalf("handler: %v", err)
	case <-time.After(5 * time.Second):
		close(finish)
		t.Fatal("first chunk not received before the handler returned: Flush did not reach the connection")
	}
	close(finish)
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "second\n", string(rest))
	require.NoError(t, <-handlerErrs)
	assert.InDelta(t, 1, testutil.ToFloat64(m.httpRequests.WithLabelValues("/events", "GET", "200")), 0)
}

// TestHandlerNeedsTheMuxRequest pins the documented limit of Pattern: a
// middleware between Handler and the mux that copies the request hides the
// pattern the mux sets, and every request reads as unmatched.
func TestHandlerNeedsTheMuxRequest(t *testing.T) {
	tests := []struct {
		name  string
		wrap  func(http.Handler) http.Handler
		route string
	}{
		{name: "mux directly", wrap: func(h http.Handler) http.Handler { return h }, route: "/items/{id}"},
		{name: "request copied", wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r.WithContext(r.Context())) })
		}, route: Unmatched},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newMetrics(t, Options{})
			serve(m.Handler(tt.wrap(labMux()), nil), http.MethodGet, "/items/1")
			assert.InDelta(t, 1, testutil.ToFloat64(m.httpRequests.WithLabelValues(tt.route, "GET", "200")), 0)
		})
	}
}

func TestPattern(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"", Unmatched},
		{"/items/{id}", "/items/{id}"},
		{"GET /items/{id}", "/items/{id}"},
		{"POST example.com/upload", "example.com/upload"},
		{"example.com/", "example.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Pattern = tt.pattern
			assert.Equal(t, tt.want, Pattern(r))
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		buckets []float64
	}{
		{"decreasing", []float64{0.1, 0.05}},
		{"repeated", []float64{0.1, 0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(prometheus.NewRegistry(), Options{Buckets: tt.buckets})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "increasing")
		})
	}
}

func TestNewDuplicateNamesMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := New(reg, Options{})
	require.NoError(t, err)
	_, err = New(reg, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "http_server_requests_total")
	var are prometheus.AlreadyRegisteredError
	assert.ErrorAs(t, err, &are)
}

func TestCustomBucketsBracketThreshold(t *testing.T) {
	m, reg := newMetrics(t, Options{Buckets: []float64{0.25, 0.3, 0.35}})
	serve(m.Handler(labMux(), nil), http.MethodGet, "/items/1")
	hist := histogram(t, reg, "http_server_request_duration_seconds", map[string]string{"route": "/items/{id}", "method": "GET"})
	require.NotNil(t, hist)
	var bounds []float64
	for _, b := range hist.GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
	}
	assert.Equal(t, []float64{0.25, 0.3, 0.35}, bounds)
}

func TestMetricsLint(t *testing.T) {
	m, reg := newMetrics(t, Options{})
	h := m.Handler(labMux(), nil)
	for _, target := range []string{"/items/1", "/fail", "/nowhere"} {
		serve(h, http.MethodGet, target)
	}
	m.observeGRPC("/lab.v1.Store/Get", nil, time.Millisecond)
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
	// Every metric has a series, so the lint saw all of them.
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	assert.ElementsMatch(t, []string{
		"http_server_requests_total", "http_server_request_duration_seconds", "http_server_in_flight_requests",
		"grpc_server_handled_total", "grpc_server_handling_seconds",
	}, names, strings.Join(names, ","))
}

// BenchmarkHandler compares a bare handler with the same handler behind the
// middleware; the difference is the per-request cost of RED.
func BenchmarkHandler(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	m, _ := newMetrics(b, Options{})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", mux},
		{"red", m.Handler(mux, nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/items/42", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
	}
}
