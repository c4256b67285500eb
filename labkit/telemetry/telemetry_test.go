package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestLoggerCarriesRequestAndTraceIDs(t *testing.T) {
	ctx := context.Background()
	tr, err := telemetry.NewTracing(ctx, telemetry.TracingOptions{Service: "test", InMemory: true,
		Getenv: func(string) string { return "" }})
	require.NoError(t, err)
	defer func() { require.NoError(t, tr.Shutdown(ctx)) }()

	ctx, span := tr.Provider.Tracer("t").Start(telemetry.WithRequestID(ctx, "req-1"), "op")
	var buf bytes.Buffer
	telemetry.Logger(ctx, telemetry.NewLogger(&buf, telemetry.LoggerOptions{})).Info("hello")
	span.End()

	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "req-1", line["request_id"])
	assert.Equal(t, span.SpanContext().TraceID().String(), line["trace_id"])
	assert.Contains(t, line["func"], "TestLoggerCarriesRequestAndTraceIDs", "the func field points at code")
	assert.Len(t, tr.Recorder.GetSpans(), 1)
}

func TestTracingExporterChoice(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		opts telemetry.TracingOptions
		want string
	}{
		{"nothing configured drops spans", nil, telemetry.TracingOptions{}, "none"},
		{"empty endpoint counts as unset", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, telemetry.TracingOptions{}, "none"},
		{"in memory", nil, telemetry.TracingOptions{InMemory: true}, "memory"},
		{"stdout", nil, telemetry.TracingOptions{Stdout: &bytes.Buffer{}}, "stdout"},
		{"otlp", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, telemetry.TracingOptions{}, "otlp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Getenv = func(k string) string { return tt.env[k] }
			tr, err := telemetry.NewTracing(context.Background(), tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.want, tr.Exporter)
			// No span was made, so shutdown has nothing to send and returns
			// promptly even for the unreachable OTLP endpoint.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			require.NoError(t, tr.Shutdown(ctx))
		})
	}
}

func TestRegistryHasGoAndProcessCollectors(t *testing.T) {
	mfs, err := telemetry.NewRegistry().Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	assert.True(t, names["go_goroutines"])
	assert.True(t, names["process_cpu_seconds_total"] || names["process_start_time_seconds"])
}

func TestRegister(t *testing.T) {
	gauge := func(name string) prometheus.Collector {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "h"})
	}
	reg := prometheus.NewRegistry()
	require.NoError(t, telemetry.Register(reg, gauge("a"), gauge("b")))
	families, err := reg.Gather()
	require.NoError(t, err)
	assert.Len(t, families, 2)

	err = telemetry.Register(reg, gauge("c"), gauge("a"))
	require.EqualError(t, err, "register metric a: duplicate metrics collector registration attempted")
	var are prometheus.AlreadyRegisteredError
	assert.ErrorAs(t, err, &are)
}
