// Package gateway is the front door of the microservice seedling: one address for clients, the
// user service's instances behind it, found through the registry. It spreads requests round
// robin, bounds every hop with a deadline, takes an instance that fails out of rotation for a
// while (a passive health check), and retries only what is safe to retry: a request whose
// connection was refused never reached the service, so it goes to the next instance.
package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/registry"
)

// Instances is what the gateway needs from discovery; *registry.Watcher implements it.
type Instances interface {
	Instances() ([]registry.Instance, error)
}

// Config tunes the gateway.
type Config struct {
	Upstream Instances
	// DialTimeout bounds connecting to an instance (default 300 ms); Timeout bounds the whole
	// request through the gateway (default 12 s: above the service's own 10 s report deadline,
	// so the service answers its own 504 first).
	DialTimeout, Timeout time.Duration
	// Eject is how long an instance that failed stays out of rotation (default 2 s).
	Eject time.Duration
	// MaxBody is the largest body the gateway buffers for a retry (default 1 MiB); the service
	// applies its own, smaller limit.
	MaxBody int64
}

// Gateway is an http.Handler.
type Gateway struct {
	cfg   Config
	proxy *httputil.ReverseProxy
	next  atomic.Uint64

	mu      sync.Mutex
	ejected map[string]time.Time // addr -> back in rotation at
}

// New returns a gateway in front of cfg.Upstream.
func New(cfg Config) (*Gateway, error) {
	if cfg.Upstream == nil {
		return nil, errors.New("gateway: Config.Upstream is nil (want the registry watcher of the user service)")
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 300 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 12 * time.Second
	}
	if cfg.Eject == 0 {
		cfg.Eject = 2 * time.Second
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 1 << 20
	}
	g := &Gateway{cfg: cfg, ejected: map[string]time.Time{}}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: cfg.DialTimeout}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	g.proxy = &httputil.ReverseProxy{
		// The instance is chosen per attempt in RoundTrip; the service sees the gateway as the
		// client (no X-Forwarded-For: it trusts no proxy, so the header would be ignored anyway).
		Rewrite:      func(pr *httputil.ProxyRequest) { pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "upstream" },
		Transport:    &retrying{g: g, next: tr},
		ErrorHandler: g.fail,
	}
	return g, nil
}

type errNoInstance struct{ err error }

func (e errNoInstance) Error() string {
	if e.err != nil {
		return "no instance of the user service is known: " + e.err.Error()
	}
	return "no instance of the user service is in rotation"
}

// pick returns the next instance in rotation, skipping excluded and ejected ones.
func (g *Gateway) pick(exclude string) (string, error) {
	list, err := g.cfg.Upstream.Instances()
	if len(list) == 0 {
		return "", errNoInstance{err: err}
	}
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	start := g.next.Add(1)
	for i := range list {
		addr := list[(start+uint64(i))%uint64(len(list))].Addr
		if addr == exclude || now.Before(g.ejected[addr]) {
			continue
		}
		return addr, nil
	}
	return "", errNoInstance{}
}

func (g *Gateway) eject(addr string) {
	g.mu.Lock()
	g.ejected[addr] = time.Now().Add(g.cfg.Eject)
	g.mu.Unlock()
}

// ServeHTTP buffers the body (so a refused connection can be retried elsewhere) and proxies.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.Timeout)
	defer cancel()
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBody))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large", "body larger than the gateway buffers")
			return
		}
	}
	r = r.WithContext(context.WithValue(ctx, bodyKey{}, body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	g.proxy.ServeHTTP(w, r)
}

type bodyKey struct{}

// retrying sends each attempt to an instance from the registry and retries once, elsewhere,
// when the connection was refused or could not be made: the request never left the gateway.
type retrying struct {
	g    *Gateway
	next http.RoundTripper
}

func (t *retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := req.Context().Value(bodyKey{}).([]byte)
	tried := ""
	for attempt := 0; ; attempt++ {
		addr, err := t.g.pick(tried)
		if err != nil {
			return nil, err
		}
		out := req.Clone(req.Context())
		out.URL.Host, out.Host = addr, addr
		out.Body = io.NopCloser(bytes.NewReader(body))
		resp, err := t.next.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		t.g.eject(addr)
		if attempt > 0 || !neverSent(err) {
			return nil, err
		}
		tried = addr
	}
}

// neverSent reports whether err happened before any byte of the request reached the instance.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

// fail answers in the API's one error shape.
func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, err error) {
	var none errNoInstance
	switch {
	case errors.As(err, &none):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "unavailable", none.Error())
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(r.Context().Err(), context.DeadlineExceeded):
		writeError(w, http.StatusGatewayTimeout, "deadline_exceeded", "the user service did not answer within the gateway's deadline")
	case errors.Is(err, context.Canceled):
		writeError(w, 499, "canceled", "client closed the request")
	default:
		writeError(w, http.StatusBadGateway, "bad_gateway", "the user service failed to answer")
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
