// Package telemetry sets up the three signals every lab emits: zap logs that
// carry request and trace IDs, a Prometheus registry with the Go and process
// collectors, and an OpenTelemetry tracer provider.
//
// Nothing here touches a global: the registry is not prometheus.DefaultRegisterer
// and the tracer provider is returned, not installed, so two labs (or two
// tests) in one process never see each other's metrics or spans.
package telemetry

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LoggerOptions tune NewLogger.
type LoggerOptions struct {
	// Console selects the human-readable encoder; JSON otherwise. Use
	// IsTerminal to pick console for people and JSON for machines.
	Console bool
	Level   zapcore.Level
}

// NewLogger returns a zap logger writing to w. Every line carries the calling
// function's name ("func"), so a log line found in evidence points at code.
func NewLogger(w io.Writer, opts LoggerOptions) *zap.Logger {
	cfg := zap.NewProductionEncoderConfig()
	cfg.TimeKey = "ts"
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	cfg.FunctionKey = "func"
	enc := zapcore.NewJSONEncoder(cfg)
	if opts.Console {
		cfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
		cfg.FunctionKey = zapcore.OmitKey
		enc = zapcore.NewConsoleEncoder(cfg)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), opts.Level)
	return zap.New(core, zap.AddCaller())
}

// IsTerminal reports whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type requestIDKey struct{}

// WithRequestID returns a context carrying a request ID for Logger.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Logger returns base with the request ID and the trace and span IDs of the
// context's span, so a log line and a trace can be joined.
func Logger(ctx context.Context, base *zap.Logger) *zap.Logger {
	var fields []zap.Field
	if id := RequestID(ctx); id != "" {
		fields = append(fields, zap.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		fields = append(fields, zap.String("trace_id", sc.TraceID().String()), zap.String("span_id", sc.SpanID().String()))
	}
	return base.With(fields...)
}

// NewRegistry returns a Prometheus registry with the Go runtime and process
// collectors registered.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Register adds collectors to reg and stops at the first that fails, with an
// error naming it (a prometheus.AlreadyRegisteredError stays reachable with
// errors.As). Labs call it instead of MustRegister, so a duplicate metric is
// an error verdict and not a panic.
func Register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register metric %s: %w", describe(c), err)
		}
	}
	return nil
}

var fqName = regexp.MustCompile(`fqName: "([^"]*)"`)

// describe names a collector by the first metric it describes (Desc has no
// accessor for its name; its String has it).
func describe(c prometheus.Collector) string {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	name := "(a collector without metrics)"
	first := true
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); first && m != nil {
			name, first = m[1], false
		}
	}
	return name
}

// Tracing is a tracer provider and how to stop it.
type Tracing struct {
	Provider *sdktrace.TracerProvider
	// Recorder holds finished spans when no exporter was configured, so
	// tests and the lab runner can inspect them. Nil with OTLP.
	Recorder *tracetest.InMemoryExporter
	// Exporter names where spans go: "otlp", "stdout" or "memory".
	Exporter string
}

// Shutdown flushes and stops the provider.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.Provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: shut down tracing: %w", err)
	}
	return nil
}

// TracingOptions tune NewTracing.
type TracingOptions struct {
	Service string
	// Stdout, when not nil and no OTLP endpoint is set, prints spans there
	// as JSON.
	Stdout io.Writer
	// InMemory, when no OTLP endpoint is set, keeps finished spans in
	// Tracing.Recorder. Only for bounded runs (tests, a lab scenario): a
	// long-running server would grow without bound.
	InMemory bool
	// Getenv reads the environment (os.Getenv when nil); tests replace it.
	Getenv func(string) string
}

// NewTracing builds a tracer provider. With OTEL_EXPORTER_OTLP_ENDPOINT set
// (an empty value counts as unset, as the OpenTelemetry spec says) it exports
// over OTLP/gRPC, and the exporter reads the rest of the OTEL_* variables
// itself; otherwise spans go to Stdout, to an in-memory recorder, or nowhere:
// trace IDs are still made and propagated, so logs keep their trace_id.
func NewTracing(ctx context.Context, opts TracingOptions) (*Tracing, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName(opts.Service)))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	t := &Tracing{}
	var exp sdktrace.SpanExporter
	switch {
	case getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "":
		if exp, err = otlptracegrpc.New(ctx); err != nil {
			return nil, fmt.Errorf("telemetry: OTLP exporter: %w", err)
		}
		t.Exporter = "otlp"
	case opts.Stdout != nil:
		if exp, err = stdouttrace.New(stdouttrace.WithWriter(opts.Stdout)); err != nil {
			return nil, fmt.Errorf("telemetry: stdout exporter: %w", err)
		}
		t.Exporter = "stdout"
	case opts.InMemory:
		t.Recorder = tracetest.NewInMemoryExporter()
		exp = t.Recorder
		t.Exporter = "memory"
	default:
		t.Exporter = "none"
		t.Provider = sdktrace.NewTracerProvider(sdktrace.WithResource(res))
		return t, nil
	}
	// Batching keeps export off the request path; the in-memory recorder is
	// synchronous so a test sees a span as soon as it ends.
	var sp sdktrace.SpanProcessor
	if t.Recorder != nil {
		sp = sdktrace.NewSimpleSpanProcessor(exp)
	} else {
		sp = sdktrace.NewBatchSpanProcessor(exp)
	}
	t.Provider = sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(sp))
	return t, nil
}
