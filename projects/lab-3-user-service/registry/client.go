package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Client talks to a registry at BaseURL. Every call has its own deadline (Timeout), because a
// registry that hangs must not hang the heartbeats or the lookups behind it.
type Client struct {
	BaseURL string // http://host:port
	Timeout time.Duration
	HTTP    *http.Client
}

// NewClient returns a client of the registry at addr (host:port) with a 300 ms deadline per call.
func NewClient(addr string) *Client {
	return &Client{BaseURL: "http://" + addr, Timeout: 300 * time.Millisecond, HTTP: &http.Client{}}
}

func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			cancel()
			return nil, err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("registry %s: %w", c.BaseURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("registry %s: %w", c.BaseURL, err)
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	if resp.StatusCode >= 300 {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("registry %s %s: status %d", method, path, resp.StatusCode)
	}
	return resp, nil
}

// cancelBody ends the call's deadline once the body is closed, not before it is read.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// Register announces (or renews) an instance for ttl.
func (c *Client) Register(ctx context.Context, service, id, addr string, ttl time.Duration) error {
	resp, err := c.do(ctx, http.MethodPut, "/v1/services/"+url.PathEscape(service)+"/"+url.PathEscape(id), putBody{Addr: addr, TTLMs: ttl.Milliseconds()})
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Deregister removes an instance at once, so a graceful shutdown does not wait for its TTL.
func (c *Client) Deregister(ctx context.Context, service, id string) error {
	resp, err := c.do(ctx, http.MethodDelete, "/v1/services/"+url.PathEscape(service)+"/"+url.PathEscape(id), nil)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Lookup returns the live instances of service; an empty list is ErrNoInstances.
func (c *Client) Lookup(ctx context.Context, service string) ([]Instance, error) {
	resp, err := c.do(ctx, http.MethodGet, "/v1/services/"+url.PathEscape(service), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Instances []Instance `json:"instances"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("registry lookup %s: %w", service, err)
	}
	if len(out.Instances) == 0 {
		return nil, fmt.Errorf("%s: %w", service, ErrNoInstances)
	}
	return out.Instances, nil
}

// Heartbeat registers the instance and renews it every ttl/3 until ctx ends, then deregisters
// it. Three renewals per TTL means one lost heartbeat does not drop a healthy instance. onErr,
// if set, hears each failed renewal; the loop keeps trying, since a registry that comes back
// should learn about the instance within one period.
func (c *Client) Heartbeat(ctx context.Context, service, id, addr string, ttl time.Duration, onErr func(error)) {
	period := max(ttl/3, time.Millisecond) // a ticker needs a positive period
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if err := c.Register(ctx, service, id, addr, ttl); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.Timeout)
			_ = c.Deregister(dctx, service, id)
			cancel()
			return
		case <-t.C:
		}
	}
}

// Watcher keeps a service's instance list fresh by polling, and keeps the last good list when
// the registry cannot be reached: a registry outage then freezes the membership instead of
// emptying it. A list that the registry itself says is empty is believed.
type Watcher struct {
	c       *Client
	service string
	every   time.Duration

	mu      sync.Mutex
	list    []Instance
	err     error // the last lookup's error, nil after a success
	updated chan struct{}
	done    chan struct{}
	stop    context.CancelFunc
}

// Watch starts polling service every period; Close stops it. It returns after the first lookup
// (successful or not), so the first request already has a list.
func (c *Client) Watch(ctx context.Context, service string, every time.Duration) *Watcher {
	every = max(every, time.Millisecond) // a ticker needs a positive period
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{c: c, service: service, every: every, updated: make(chan struct{}), done: make(chan struct{}), stop: cancel}
	w.poll(ctx)
	go w.loop(ctx)
	return w
}

func (w *Watcher) poll(ctx context.Context) {
	list, err := w.c.Lookup(ctx, w.service)
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err == nil:
		w.list, w.err = list, nil
	case errors.Is(err, ErrNoInstances):
		w.list, w.err = nil, err
	default:
		w.err = err // keep the stale list
	}
	close(w.updated)
	w.updated = make(chan struct{})
}

func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll(ctx)
		}
	}
}

// Instances returns the last known list and the last lookup's error (nil if it succeeded).
func (w *Watcher) Instances() ([]Instance, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Instance(nil), w.list...), w.err
}

// Updated is closed at the next poll.
func (w *Watcher) Updated() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.updated
}

// Close stops polling and waits for the poller to exit.
func (w *Watcher) Close() {
	w.stop()
	<-w.done
}
