package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// HTTP returns a Target that sends the request newRequest builds (it receives the run's context;
// build the request with it) and reads the whole response body so the connection is reused. A
// status of 400 or above is a *StatusError. Pass a client from NewHTTPClient unless you need
// something else: http.DefaultClient keeps only two idle connections per host, which turns a
// 64-worker run into a connection-churn benchmark.
func HTTP(client *http.Client, newRequest func(ctx context.Context) (*http.Request, error)) Target {
	return func(ctx context.Context) error {
		req, err := newRequest(ctx)
		if err != nil {
			return &KindError{K: KindBadRequest, Err: err}
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		// io.Discard implements ReaderFrom with a pooled buffer, so draining allocates nothing.
		_, copyErr := io.Copy(io.Discard, resp.Body)
		closeErr := resp.Body.Close()
		switch {
		case resp.StatusCode >= 400:
			return &StatusError{Code: resp.StatusCode}
		case copyErr != nil:
			return fmt.Errorf("read body: %w", copyErr)
		case closeErr != nil:
			return fmt.Errorf("close body: %w", closeErr)
		}
		return nil
	}
}

// Get returns an HTTP target that sends GET url. The URL is parsed once, here, so a bad URL is
// an error now rather than a failed request per call.
func Get(client *http.Client, url string) (Target, error) {
	tmpl, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("loadgen: bad url %q: %w", url, err)
	}
	if tmpl.URL.Scheme != "http" && tmpl.URL.Scheme != "https" {
		return nil, fmt.Errorf("loadgen: bad url %q: want an http:// or https:// URL", url)
	}
	if tmpl.URL.Host == "" {
		return nil, fmt.Errorf("loadgen: bad url %q: no host", url)
	}
	return HTTP(client, func(ctx context.Context) (*http.Request, error) {
		// WithContext is a shallow copy of the parsed template: no URL parsing per request.
		return tmpl.WithContext(ctx), nil
	}), nil
}

// NewHTTPClient returns a client tuned for load generation on loopback: up to maxConns
// keep-alive connections to each host (set it to the number of workers), no compression, no
// proxy from the environment, HTTP/1.1. Its timeout is left to the run's context.
func NewHTTPClient(maxConns int) *http.Client {
	if maxConns < 1 {
		maxConns = 1
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			MaxIdleConns:        maxConns,
			MaxIdleConnsPerHost: maxConns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
			// Fewer syscalls per response on small bodies.
			ReadBufferSize:  16 << 10,
			WriteBufferSize: 4 << 10,
		},
		// Never follow redirects silently: a redirect is a response worth counting as it is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
