package debugserver_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/debugserver"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestServesPprofMetricsAndHealth(t *testing.T) {
	s, err := debugserver.Start("127.0.0.1:0", telemetry.NewRegistry())
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Shutdown(context.Background())) }()

	tests := []struct {
		path, want string
	}{
		{"/healthz", "ok"},
		{"/metrics", "go_goroutines"},
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile"},
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := client.Get("http://" + s.Addr() + tt.path)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Contains(t, string(body), tt.want)
		})
	}
}

func TestDoesNotUseTheDefaultMux(t *testing.T) {
	// Something registered on the default mux must not be reachable. The
	// default mux is process-wide and refuses a pattern twice, so with
	// -count=N the second run finds it already there.
	probe := httptest.NewRequest(http.MethodGet, "/leak-check", nil)
	if _, pattern := http.DefaultServeMux.Handler(probe); pattern != "/leak-check" {
		http.DefaultServeMux.HandleFunc("/leak-check", func(w http.ResponseWriter, _ *http.Request) {})
	}
	s, err := debugserver.Start("127.0.0.1:0", telemetry.NewRegistry())
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Shutdown(context.Background())) }()
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + s.Addr() + "/leak-check")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestStartReportsABusyPort(t *testing.T) {
	s, err := debugserver.Start("127.0.0.1:0", telemetry.NewRegistry())
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Shutdown(context.Background())) }()
	_, err = debugserver.Start(s.Addr(), telemetry.NewRegistry())
	require.Error(t, err)
	assert.Contains(t, err.Error(), s.Addr())
}
