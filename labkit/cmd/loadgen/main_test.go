package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBadFlagsExitTwoWithOneLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no url", nil, "-url is required"},
		{"unknown flag", []string{"-x"}, "flag provided but not defined: -x"},
		{"workers not a number", []string{"-url", "http://127.0.0.1:1/", "-c", "many"}, `invalid value "many" for flag -c`},
		{"zero workers", []string{"-url", "http://127.0.0.1:1/", "-c", "0"}, "-c must be between 1 and"},
		{"bad duration", []string{"-url", "http://127.0.0.1:1/", "-d", "abc"}, `invalid value "abc" for flag -d`},
		{"negative duration", []string{"-url", "http://127.0.0.1:1/", "-d", "-1s"}, "Duration must not be negative"},
		{"negative rate", []string{"-url", "http://127.0.0.1:1/", "-rate", "-3"}, "Rate must be 0"},
		{"no end", []string{"-url", "http://127.0.0.1:1/", "-d", "0"}, "set Duration or MaxRequests"},
		{"bad url", []string{"-url", "ftp://x/"}, "bad url"},
		{"bad client", []string{"-url", "http://127.0.0.1:1/", "-client", "curl"}, "-client must be raw, std or auto"},
		{"stray argument", []string{"-url", "http://127.0.0.1:1/", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errOut)
			assert.Equal(t, 2, code)
			assert.Contains(t, errOut.String(), tt.want)
			assert.Equal(t, 1, strings.Count(errOut.String(), "\n"), "one line: %q", errOut.String())
			assert.Empty(t, out.String())
		})
	}
}

func TestRunPrintsSummary(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	for _, client := range []string{"raw", "std", "auto"} {
		t.Run(client, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"-url", srv.URL, "-c", "4", "-n", "200", "-client", client}, &out, &errOut)
			assert.Equal(t, 0, code, errOut.String())
			assert.Contains(t, out.String(), "closed loop, 4 workers")
			assert.Contains(t, out.String(), "p99.9")
			assert.Contains(t, out.String(), "requests 200 ")
			assert.Contains(t, out.String(), "errors 0")
		})
	}
}

func TestRunReportsErrorKinds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-url", srv.URL, "-c", "2", "-rate", "500", "-n", "20"}, &out, &errOut)
	assert.Equal(t, 0, code, errOut.String())
	assert.Contains(t, out.String(), "open loop, 500 req/s target, 2 workers")
	assert.Contains(t, out.String(), "errors 20")
	assert.Contains(t, out.String(), "status 5xx")
}
