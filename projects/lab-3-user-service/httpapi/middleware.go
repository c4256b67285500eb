package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/auth"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/rbac"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/reqstats"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/user"
)

const (
	keyRequestID = "request_id"
	keyLogger    = "logger"
	keyIdentity  = "identity"
	keyAccount   = "account"
)

func requestID(c *gin.Context) string { return c.GetString(keyRequestID) }

func logFor(c *gin.Context) *zap.Logger {
	if l, ok := c.Get(keyLogger); ok {
		return l.(*zap.Logger)
	}
	return zap.NewNop()
}

func identity(c *gin.Context) auth.Identity {
	id, _ := c.Get(keyIdentity)
	v, _ := id.(auth.Identity)
	return v
}

// account is the caller's row as authenticate read it; the zero User outside authenticated routes.
func account(c *gin.Context) user.User {
	u, _ := c.Get(keyAccount)
	v, _ := u.(user.User)
	return v
}

// requestIDMiddleware accepts a sane incoming X-Request-ID or makes one, and echoes it.
func requestIDMiddleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(keyRequestID, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

// tracing starts the server span for the request; SQL spans become its children.
func tracing(tp trace.TracerProvider) gin.HandlerFunc {
	tr := tp.Tracer("lab-3/httpapi")
	return func(c *gin.Context) {
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		ctx, span := tr.Start(c.Request.Context(), c.Request.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", c.Request.Method), attribute.String("http.route", route)))
		defer span.End()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		status := c.Writer.Status()
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
}

// accessLog logs one line per request with the request and trace ids, and hands handlers a
// logger that carries them.
func accessLog(base *zap.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		fields := []zap.Field{zap.String("request_id", requestID(c))}
		if sc := trace.SpanContextFromContext(c.Request.Context()); sc.HasTraceID() {
			fields = append(fields, zap.String("trace_id", sc.TraceID().String()))
		}
		l := base.With(fields...)
		c.Set(keyLogger, l)
		c.Next()
		l.Info("request",
			zap.String("method", c.Request.Method),
			zap.String("route", c.FullPath()),
			zap.Int("status", c.Writer.Status()),
			zap.Duration("duration", time.Since(start)),
			zap.String("client_ip", c.ClientIP()),
			zap.Int("bytes", c.Writer.Size()),
		)
	}
}

// recovery turns a panic into a JSON 500 and logs the stack; the process keeps serving.
func recovery(m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				// net/http's way to abort a response: let it reach the server.
				if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(r)
				}
				m.panics.Inc()
				logFor(c).Error("panic", zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
				if !c.Writer.Written() {
					abort(c, http.StatusInternalServerError, "internal", "internal error", nil)
				}
				c.Abort()
			}
		}()
		c.Next()
	}
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	queries  *prometheus.HistogramVec
	inFlight prometheus.Gauge
	panics   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lab3_http_requests_total", Help: "HTTP requests by route, method and status code."}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lab3_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "method"}),
		queries: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "lab3_http_sql_queries_per_request", Help: "SQL statements one request caused; N+1 patterns show as dozens.",
			Buckets: []float64{0, 1, 2, 3, 5, 10, 20, 50, 100, 200}}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lab3_http_in_flight_requests", Help: "Requests being served."}),
		panics:   prometheus.NewCounter(prometheus.CounterOpts{Name: "lab3_http_panics_total", Help: "Handler panics recovered."}),
	}
	if err := telemetry.Register(reg, m.requests, m.duration, m.queries, m.inFlight, m.panics); err != nil {
		return nil, err
	}
	return m, nil
}

// red records rate, errors (by code) and duration per route, and SQL statements per request.
func red(m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		ctx, stats := reqstats.With(c.Request.Context())
		c.Request = c.Request.WithContext(ctx)
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
		m.queries.WithLabelValues(route).Observe(float64(stats.Queries.Load()))
	}
}

// timeout gives the request a deadline; every layer below honours the context.
func timeout(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// bulkhead admits at most n requests at once to the routes behind it and sheds, with a 503, a
// request that finds no slot within wait. n <= 0 admits everything.
func bulkhead(n int, wait time.Duration) gin.HandlerFunc {
	if n <= 0 {
		return func(c *gin.Context) { c.Next() }
	}
	// exercise:begin db-overload
	slots := make(chan struct{}, n)
	return func(c *gin.Context) {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case slots <- struct{}{}:
		case <-t.C:
			fail(c, fmt.Errorf("%w: no report slot free within %s", user.ErrUnavailable, wait))
			return
		case <-c.Request.Context().Done():
			fail(c, c.Request.Context().Err())
			return
		}
		defer func() { <-slots }()
		c.Next()
	}
	// exercise:stub
	// return func(c *gin.Context) { c.Next() } // every report runs at once
	// exercise:end
}

// authenticate requires a valid bearer access token.
func (a *API) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		_, tok, ok := cutBearer(c.GetHeader("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="lab-3"`)
			abort(c, http.StatusUnauthorized, "unauthenticated", "expected Authorization: Bearer <access token>", nil)
			return
		}
		id, u, err := a.svc.Authenticate(c.Request.Context(), tok)
		if err != nil {
			fail(c, err)
			return
		}
		c.Set(keyIdentity, id)
		c.Set(keyAccount, u)
		c.Next()
	}
}

// require enforces one permission of the RBAC matrix; deny is the default.
func (a *API) require(perm rbac.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := identity(c)
		if !a.matrix.Allowed(id.Role, perm) {
			fail(c, fmt.Errorf("%w: role %s lacks %s", user.ErrForbidden, id.Role, perm))
			return
		}
		c.Next()
	}
}

func cutBearer(h string) (scheme, tok string, ok bool) {
	scheme, tok, ok = strings.Cut(h, " ")
	return scheme, strings.TrimSpace(tok), ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) != ""
}

func identityOf(u user.User) auth.Identity { return auth.Identity{UserID: u.ID, Role: u.Role} }
