package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/config"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/middleware"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type running struct {
	srv       *server.Server
	reg       *prometheus.Registry
	stop      func() error
	accessLog string
}

func startServer(t *testing.T, tune func(*config.Config)) running {
	t.Helper()
	return startServerLogging(t, zap.NewNop(), tune)
}

func startServerLogging(t *testing.T, log *zap.Logger, tune func(*config.Config)) running {
	t.Helper()
	cfg := config.Default()
	cfg.Addr, cfg.DebugAddr, cfg.AccessLog = "127.0.0.1:0", "", t.TempDir()+"/access.log"
	tune(&cfg)
	reg := prometheus.NewRegistry()
	srv, err := server.New(cfg, server.Deps{Log: log, Metrics: reg, Tracer: noop.NewTracerProvider()})
	require.NoError(t, err)
	require.NoError(t, srv.Listen(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return running{srv: srv, reg: reg, stop: stop, accessLog: cfg.AccessLog}
}

func client() *http.Client { return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} }

// postWork calls the endpoint whose dependency takes DownstreamLatency.
func postWork(ctx context.Context, r running) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.srv.Addr()+"/api/v1/work", nil)
	if err != nil {
		return nil, err
	}
	return client().Do(req)
}

// TestShutdownDrainsInFlightRequests is the property the no-graceful-shutdown
// fault breaks: a request accepted before SIGTERM completes.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	tests := []struct {
		name        string
		fault       bool
		wantSuccess bool
	}{
		{"graceful drains", false, true},
		{"fault drops", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startServer(t, func(c *config.Config) {
				c.DownstreamLatency = 300 * time.Millisecond
				c.Faults.NoGracefulShutdown = tt.fault
			})
			got := make(chan error, 1)
			go func() {
				resp, err := postWork(t.Context(), r)
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					err = errors.Join(err, resp.Body.Close())
					if err == nil && resp.StatusCode != http.StatusOK {
						err = assert.AnError
					}
				}
				got <- err
			}()
			require.Eventually(t, func() bool { return r.srv.InFlight() == 1 }, 2*time.Second, 5*time.Millisecond)
			require.NoError(t, r.stop())
			err := <-got
			if tt.wantSuccess {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err, "the in-flight request should have been cut off")
			}
		})
	}
}

// TestEveryCutOffRequestIsLoggedAndWarned: the requests a shutdown cuts off
// each leave their 502 line in the access log (Run closes the log only after
// the last handler has written), and a CutOff warning, which a drained
// request never writes: the warning is evidence of the defect, not of a
// branch announcing itself.
func TestEveryCutOffRequestIsLoggedAndWarned(t *testing.T) {
	const n = 8
	tests := []struct {
		name                 string
		fault                bool
		want5xx, wantWarning int
	}{
		{"graceful drains", false, 0, 0},
		{"fault cuts off", true, n, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := newObserved()
			r := startServerLogging(t, zap.New(core), func(c *config.Config) {
				c.DownstreamLatency = 300 * time.Millisecond
				c.Faults.NoGracefulShutdown = tt.fault
			})
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					if resp, err := postWork(t.Context(), r); err == nil {
						// The client's view is not what this test judges (the
						// access log and the warnings are), so a cut-off
						// body's read or Close error is expected and ignored.
						_, _ = io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
					}
				})
			}
			require.Eventually(t, func() bool { return r.srv.InFlight() == n }, 2*time.Second, 5*time.Millisecond)
			require.NoError(t, r.stop())
			wg.Wait()
			b, err := os.ReadFile(r.accessLog)
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			require.Len(t, lines, n, "one access-log line per request, none lost to an early Close")
			fivexx := 0
			for _, l := range lines {
				var line struct{ Status int }
				require.NoError(t, json.Unmarshal([]byte(l), &line))
				if line.Status >= 500 {
					fivexx++
				}
			}
			assert.Equal(t, tt.want5xx, fivexx)
			assert.Equal(t, tt.wantWarning, logs.FilterMessageSnippet("cut off mid-flight").Len())
		})
	}
}

func TestRoutesAndMiddleware(t *testing.T) {
	r := startServer(t, func(c *config.Config) { c.RequestTimeout = 50 * time.Millisecond; c.DownstreamLatency = time.Second })
	base := "http://" + r.srv.Addr()
	tests := []struct {
		path     string
		reqID    string
		wantCode int
		wantBody string
	}{
		{"/healthz", "", http.StatusOK, `"ok"`},
		{"/readyz", "", http.StatusOK, `"ready"`},
		{"/api/v1/items/7", "abc-123", http.StatusOK, `"item-7"`},
		{"/api/v1/items/x", "", http.StatusBadRequest, "non-negative integer"},
		{"/nope", "", http.StatusNotFound, ""},
	}
	tests = append(tests, struct {
		path     string
		reqID    string
		wantCode int
		wantBody string
	}{"/api/v1/work", "", http.StatusGatewayTimeout, "timed out"}) // RequestTimeout < DownstreamLatency
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			method := http.MethodGet
			if tt.path == "/api/v1/work" {
				method = http.MethodPost
			}
			req, err := http.NewRequestWithContext(t.Context(), method, base+tt.path, nil)
			require.NoError(t, err)
			if tt.reqID != "" {
				req.Header.Set(middleware.RequestIDHeader, tt.reqID)
			}
			resp, err := client().Do(req)
			require.NoError(t, err)
			defer func() { assert.NoError(t, resp.Body.Close()) }()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.wantCode, resp.StatusCode)
			assert.Contains(t, string(body), tt.wantBody)
			id := resp.Header.Get(middleware.RequestIDHeader)
			assert.NotEmpty(t, id)
			if tt.reqID != "" {
				assert.Equal(t, tt.reqID, id, "a caller's request ID is kept")
			}
		})
	}
	assert.Equal(t, 1.0, requests(t, r.reg, "/api/v1/items/:id", "200"))
	assert.Equal(t, 1.0, requests(t, r.reg, "unmatched", "404"), "404s share one series")
}

// requests reads lab0_http_requests_total{route, code} as Prometheus would.
func requests(t *testing.T, reg *prometheus.Registry, route, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "lab0_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no lab0_http_requests_total{route=%q,code=%q}", route, code)
	return 0
}

func TestRecoveryAnswersJSONAndLogsTheStack(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	core, logs := newObserved()
	e := gin.New()
	e.Use(middleware.RequestID(), middleware.Recovery(zap.New(core)))
	e.GET("/boom", func(*gin.Context) { panic("nil map write") })
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/boom", nil))
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	var body map[string]string
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.Equal(t, "internal error", body["error"])
	assert.NotEmpty(t, body["request_id"])
	require.Equal(t, 1, logs.Len())
	assert.Contains(t, logs.All()[0].ContextMap()["stack"], "server_test.TestRecoveryAnswersJSONAndLogsTheStack")
}

func newObserved() (zapcore.Core, *observer.ObservedLogs) { return observer.New(zapcore.InfoLevel) }

// BenchmarkMiddlewareChain measures what the full production chain (request
// ID, tracing, RED metrics, recovery, async access log, timeout) costs per
// request, in memory, without the network.
func BenchmarkMiddlewareChain(b *testing.B) {
	for _, syncLog := range []bool{false, true} {
		name := map[bool]string{false: "async-log", true: "sync-log-fault"}[syncLog]
		b.Run(name, func(b *testing.B) {
			cfg := config.Default()
			cfg.Addr, cfg.AccessLog, cfg.Faults.SyncLogging = "127.0.0.1:0", b.TempDir()+"/access.log", syncLog
			srv, err := server.New(cfg, server.Deps{Log: zap.NewNop(), Metrics: prometheus.NewRegistry(), Tracer: noop.NewTracerProvider()})
			require.NoError(b, err)
			h := srv.Handler()
			req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, "/api/v1/items/42", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
			require.NoError(b, srv.Close())
		})
	}
}
