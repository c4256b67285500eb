// Package server assembles the service: gin with its middleware, the
// http.Server around it, and the lifecycle from listen to graceful shutdown.
// Two of the lab's faults live here, next to their fixes:
//
//   - no-server-timeouts: newHTTPServer builds an http.Server with no
//     timeouts and accepts unlimited connections, so slow clients hold a
//     goroutine and a socket each for as long as they like;
//   - no-graceful-shutdown: stop closes every connection at once instead of
//     draining in-flight requests.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/net/netutil"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/api"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/config"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/downstream"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/httpmetrics"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/logsink"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/middleware"
)

// Deps are what the server needs from its process.
type Deps struct {
	Log     *zap.Logger           // application log (not the access log)
	Metrics prometheus.Registerer // where RED metrics are registered
	Tracer  trace.TracerProvider
}

// Server is the lab-0 service.
type Server struct {
	cfg     config.Config
	log     *zap.Logger
	access  logsink.Sink
	metrics *httpmetrics.Metrics
	api     *api.API
	http    *http.Server
	limit   func(net.Listener) net.Listener // what Listen wraps its listener in
	running handlers

	mu sync.Mutex
	ln net.Listener
}

// handlers counts requests inside the handler chain, so Run closes the
// access log only after the last of them has written its line.
type handlers struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (h *handlers) track(c *gin.Context) {
	h.mu.Lock()
	if h.n++; h.n == 1 {
		h.idle = make(chan struct{})
	}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		if h.n--; h.n == 0 {
			close(h.idle)
		}
		h.mu.Unlock()
	}()
	c.Next()
}

// wait returns when no request is inside the handler chain, or with ctx's
// error.
func (h *handlers) wait(ctx context.Context) error {
	h.mu.Lock()
	if h.n == 0 {
		h.mu.Unlock()
		return nil
	}
	idle := h.idle
	h.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// New builds the server; it does not listen yet.
func New(cfg config.Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	access, err := logsink.Open(cfg.AccessLog, cfg.Faults.SyncLogging)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: deps.Log, access: access, metrics: httpmetrics.New(deps.Metrics),
		api: api.New(downstream.Simulated{Latency: cfg.DownstreamLatency})}
	deps.Metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "lab0_access_log_dropped_lines_total",
		Help: "Access-log lines dropped because the sink's buffer was full (the price of never blocking a request on its log line)."},
		func() float64 { return float64(access.Dropped()) }))
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	engine.Use(
		s.running.track, // outermost: a request leaves it after its access-log line is written
		middleware.RequestID(),
		otelgin.Middleware("lab-0", otelgin.WithTracerProvider(deps.Tracer)),
		s.metrics.Middleware(),
		middleware.Recovery(deps.Log),
		middleware.AccessLog(accessLogger(access), func(d time.Duration) { s.metrics.LogWrite.Observe(d.Seconds()) }),
		middleware.CutOff(deps.Log),
		middleware.Timeout(cfg.RequestTimeout),
	)
	s.api.Register(engine)
	s.http, s.limit = newHTTPServer(cfg, engine, s.metrics)
	return s, nil
}

func accessLogger(sink logsink.Sink) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), sink, zapcore.InfoLevel))
}

// newHTTPServer is where the no-server-timeouts fault lives: the server and
// the bound on the connections one process will hold.
func newHTTPServer(cfg config.Config, h http.Handler, m *httpmetrics.Metrics) (*http.Server, func(net.Listener) net.Listener) {
	if cfg.Faults.NoServerTimeouts {
		// The defect: the zero http.Server waits forever for a client to
		// finish its headers, its body, or its next keep-alive request, and
		// nothing bounds how many such clients it holds.
		return &http.Server{Handler: h, ConnState: m.ConnState}, unlimited
	}
	// exercise:begin no-server-timeouts
	srv := &http.Server{
		Handler:           h,
		ConnState:         m.ConnState,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout, // a slowloris client is cut off here
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
	return srv, limitConns(cfg.MaxConns)
	// exercise:stub
	// return &http.Server{Handler: h, ConnState: m.ConnState}, unlimited
	// exercise:end
}

// limitConns bounds the sockets and goroutines one process will hold; excess
// clients wait in the kernel's accept queue instead.
func limitConns(n int) func(net.Listener) net.Listener {
	return func(ln net.Listener) net.Listener { return netutil.LimitListener(ln, n) }
}

func unlimited(ln net.Listener) net.Listener { return ln }

// Listen binds the address. With ReusePort a second process can bind the
// same port while this one drains: the zero-downtime restart pattern.
func (s *Server) Listen(ctx context.Context) error {
	lc := net.ListenConfig{}
	if s.cfg.ReusePort {
		lc.Control = reusePort
	}
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	ln = s.limit(ln)
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

// Addr is the bound address (valid after Listen).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// Run serves until ctx is cancelled (SIGTERM in cmd/server), then stops.
// It listens first if Listen was not called.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		if err := s.Listen(ctx); err != nil {
			return err
		}
		ln = s.ln
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(ln) }()
	s.log.Info("serving", zap.String("addr", ln.Addr().String()))

	select {
	case err := <-serveErr:
		_ = s.access.Close()
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}
	// ctx is cancelled by now, which is why we are stopping; the drain gets
	// its own deadline but keeps ctx's values (WithoutCancel).
	stopCtx := context.WithoutCancel(ctx)
	stopErr := s.stop(stopCtx)
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		stopErr = errors.Join(stopErr, err)
	}
	// Close returns while the handlers it cut off are still running, and
	// each still writes its access-log line (a 502). Close the log under them
	// and those lines are lost, which hides the very requests that failed.
	waitCtx, cancel := context.WithTimeout(stopCtx, s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.running.wait(waitCtx); err != nil {
		s.log.Error("handlers still running when the access log closes", zap.Error(err))
	}
	return errors.Join(stopErr, s.access.Close())
}

// stop is where the no-graceful-shutdown fault lives. ctx must not be
// cancelled already (Run passes one detached from its own): the drain's
// deadline is ShutdownTimeout from now.
func (s *Server) stop(ctx context.Context) error {
	inFlight := s.metrics.InFlightNow()
	if s.cfg.Faults.NoGracefulShutdown {
		// The defect: Close drops every connection, including those whose
		// request is half-way through, and returns at once. (The evidence
		// is not this branch's log line, which looks like the fixed one's,
		// but what the cut-off handlers write: middleware.CutOff.)
		s.metrics.AbortedRequests.Add(float64(inFlight))
		s.log.Info("stopped", zap.Int64("in_flight_at_stop", inFlight))
		if err := s.http.Close(); err != nil {
			return fmt.Errorf("server: close: %w", err)
		}
		return nil
	}
	// exercise:begin no-graceful-shutdown
	// Fail readiness first so a load balancer stops routing here, then stop
	// accepting and wait for in-flight requests, up to the deadline.
	s.api.SetReady(false)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		left := s.metrics.InFlightNow()
		s.metrics.AbortedRequests.Add(float64(left))
		s.log.Error("drain deadline passed; closing", zap.Int64("in_flight", left))
		return fmt.Errorf("server: shutdown: %w", errors.Join(err, s.http.Close()))
	}
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	s.log.Info("drained", zap.Int64("in_flight_at_stop", inFlight))
	return nil
	// exercise:stub
	// s.metrics.AbortedRequests.Add(float64(inFlight))
	// s.log.Info("stopped", zap.Int64("in_flight_at_stop", inFlight))
	// if err := s.http.Close(); err != nil {
	// 	return fmt.Errorf("server: close: %w", err)
	// }
	// return nil
	// exercise:end
}

// Handler is the HTTP handler with every middleware installed (for
// benchmarks and in-memory tests).
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Close releases what New opened (the access log) for a server that never
// ran; Run releases it itself.
func (s *Server) Close() error { return s.access.Close() }

// InFlight is the number of requests being served now.
func (s *Server) InFlight() int64 { return s.metrics.InFlightNow() }
