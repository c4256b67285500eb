//go:build integration

package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// receiver is an OTLP/gRPC trace endpoint that keeps what it is sent.
type receiver struct {
	coltracepb.UnimplementedTraceServiceServer
	mu       sync.Mutex
	names    map[string]int
	traceIDs map[string]bool
}

func (r *receiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.names[s.GetName()]++
				r.traceIDs[fmt.Sprintf("%x", s.GetTraceId())] = true
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := new(net.ListenConfig).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close(), "the port must be free for the process that takes it")
	return addr
}

// get is client.Get with the test's context, so a finished test cancels it.
func get(ctx context.Context, client *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}

func TestIntegrationMetricsAndTracesEndToEnd(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not on PATH: this test scrapes lab 0 with a real Prometheus; install it (apt-get install -y --no-install-recommends prometheus) or start docker-env's observability profile")
	}
	dir := t.TempDir()

	// 1. The OTLP receiver.
	rcv := &receiver{names: map[string]int{}, traceIDs: map[string]bool{}}
	ln, err := new(net.ListenConfig).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, rcv)
	go func() { _ = gs.Serve(ln) }()
	defer gs.Stop()

	// 2. The real server binary.
	bin := filepath.Join(dir, "server")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "../cmd/server")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	addr, debugAddr := freePort(t), freePort(t)
	accessLog := filepath.Join(dir, "access.log")
	srv := exec.CommandContext(t.Context(), bin)
	srv.Env = append(os.Environ(), "ADDR="+addr, "DEBUG_ADDR="+debugAddr, "ACCESS_LOG="+accessLog,
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+ln.Addr().String(), "OTEL_EXPORTER_OTLP_INSECURE=true")
	srvLog, err := os.Create(filepath.Join(dir, "server.log"))
	require.NoError(t, err)
	srv.Stdout, srv.Stderr = srvLog, srvLog
	require.NoError(t, srv.Start())
	defer func() { _ = srv.Process.Kill() }()

	// 3. A real Prometheus scraping the debug port every second.
	promAddr := freePort(t)
	cfg := fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: lab-0\n    static_configs: [{targets: ['%s']}]\n", debugAddr)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644))
	prom := exec.CommandContext(t.Context(), promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+promAddr)
	promLog, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	prom.Stdout, prom.Stderr = promLog, promLog
	require.NoError(t, prom.Start())
	defer func() { _ = prom.Process.Kill(); _ = prom.Wait() }()

	client := &http.Client{Timeout: 2 * time.Second}
	require.Eventually(t, func() bool {
		resp, err := get(t.Context(), client, "http://"+addr+"/readyz")
		if err != nil {
			return false
		}
		// A readiness probe reads only the status; a Close error on its
		// unread body says nothing about readiness.
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond, "the server never became ready; see %s", srvLog.Name())

	const n = 50
	for i := range n {
		resp, err := get(t.Context(), client, fmt.Sprintf("http://%s/api/v1/items/%d", addr, i))
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}

	// Prometheus has scraped what the server counted.
	query := `sum(lab0_http_requests_total{route="/api/v1/items/:id",code="200"})`
	var got float64
	require.Eventually(t, func() bool {
		got = promQuery(t, client, promAddr, query)
		return got >= n
	}, 30*time.Second, 500*time.Millisecond, "Prometheus never saw %d requests (last %v); see %s", n, got, promLog.Name())
	assert.Equal(t, float64(n), got)

	// SIGTERM: the server drains and flushes its spans before exiting.
	require.NoError(t, srv.Process.Signal(syscall.SIGTERM))
	require.NoError(t, srv.Wait(), "the server should exit 0 on SIGTERM; see %s", srvLog.Name())

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	assert.GreaterOrEqual(t, rcv.names["GET /api/v1/items/:id"], n, "spans received: %v", rcv.names)
	// The access log's trace IDs are the exported spans' trace IDs.
	f, err := os.Open(accessLog)
	require.NoError(t, err)
	defer func() { _ = f.Close() }() // read-only: its Close cannot lose anything
	matched, lines := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			Route   string `json:"route"`
			TraceID string `json:"trace_id"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		if line.Route != "/api/v1/items/:id" {
			continue
		}
		lines++
		if rcv.traceIDs[line.TraceID] {
			matched++
		}
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, n, lines)
	assert.Equal(t, n, matched, "every access-log line's trace_id must name an exported trace")
}

func promQuery(t *testing.T, client *http.Client, promAddr, q string) float64 {
	t.Helper()
	resp, err := get(t.Context(), client, "http://"+promAddr+"/api/v1/query?query="+url.QueryEscape(q))
	if err != nil {
		return 0
	}
	// Polled inside require.Eventually: a failed query, or Close, is a "not
	// yet" and the next poll asks again.
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Data struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil || len(body.Data.Result) == 0 || len(body.Data.Result[0].Value) < 2 {
		return 0
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	v, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return v
}
