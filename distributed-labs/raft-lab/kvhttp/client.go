package kvhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
)

// ErrMisdirected is a 421: the node does not lead, and did nothing.
var ErrMisdirected = errors.New("kvhttp: node does not lead")

// ErrUnavailable is a 503 or no answer: the outcome of a write is unknown.
var ErrUnavailable = errors.New("kvhttp: no answer from a leader")

// StatusError is any other non-200 answer, such as 400 for bad input.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string { return fmt.Sprintf("kvhttp: %d: %s", e.Code, e.Msg) }

// Client talks to a cluster: it remembers the leader, follows 421 hints,
// and retries a write with the same client id and sequence number until it
// is acknowledged or ctx ends, so the write applies at most once. Reads may
// run concurrently; writes through one Client run one at a time.
type Client struct {
	id    string
	addrs map[string]string // node ID → address to dial
	order []string
	http  *http.Client
	// writeMu keeps one write in flight per client: the state machine keeps
	// a client's last sequence number only (Raft thesis §6.3), so two
	// concurrent writes could arrive out of order and the older be refused.
	// Use one Client per concurrent writer.
	writeMu sync.Mutex
	seq     uint64
	log     *zap.Logger
	// seen is the highest store revision any answer to this client has
	// reflected: a later answer reflecting less comes from the past.
	seen  atomic.Uint64
	stale atomic.Int64

	mu     sync.Mutex
	leader string
}

// NewClient is a client named id (the dedupe session) of the nodes in
// addrs. timeout bounds one attempt.
func NewClient(id string, addrs map[string]string, timeout time.Duration, opts ...Option) *Client {
	c := &Client{id: id, addrs: addrs, http: &http.Client{Timeout: timeout}, log: zap.NewNop()}
	for _, o := range opts {
		o(c)
	}
	for name := range addrs {
		c.order = append(c.order, name)
	}
	slices.Sort(c.order)
	return c
}

// Option configures a Client.
type Option func(*Client)

// WithLog makes the client warn about answers older than what it has
// already been told (see Stale).
func WithLog(log *zap.Logger) Option { return func(c *Client) { c.log = log } }

// Stale is how many read answers reflected a store revision older than one
// this client had already been acknowledged or shown before it asked:
// answers a linearizable store never gives.
func (c *Client) Stale() int64 { return c.stale.Load() }

// observe raises the floor to rev.
func (c *Client) observe(rev uint64) {
	for {
		cur := c.seen.Load()
		if rev <= cur || c.seen.CompareAndSwap(cur, rev) {
			return
		}
	}
}

// checkFresh compares a read's answer with the floor the client had when it
// asked. It runs on every read, whatever the node's read path; only a node
// that answers from a stale copy makes it warn.
func (c *Client) checkFresh(node, key string, floor uint64, got GetReply) {
	if got.StoreRev >= floor {
		c.observe(got.StoreRev)
		return
	}
	c.stale.Add(1)
	c.log.Warn("stale read: the answer is older than a write this client was already acknowledged",
		zap.String("node", node), zap.String("key", key),
		zap.Uint64("answer_rev", got.StoreRev), zap.Uint64("acknowledged_rev", floor))
}

// Close drops idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Put sets key to value.
func (c *Client) Put(ctx context.Context, key, value string) (kv.Result, error) {
	return c.write(ctx, http.MethodPut, "/kv/"+url.PathEscape(key), nil, value)
}

// Delete removes key.
func (c *Client) Delete(ctx context.Context, key string) (kv.Result, error) {
	return c.write(ctx, http.MethodDelete, "/kv/"+url.PathEscape(key), nil, "")
}

// CAS sets key to value if it holds expect (or, with absent, if it does not
// exist). Result.OK says whether it did.
func (c *Client) CAS(ctx context.Context, key, expect string, absent bool, value string) (kv.Result, error) {
	q := url.Values{}
	if absent {
		q.Set("absent", "true")
	} else {
		q.Set("expect", expect)
	}
	return c.write(ctx, http.MethodPost, "/cas/"+url.PathEscape(key), q, value)
}

// Get reads key linearizably from the leader (as the node's read path allows).
func (c *Client) Get(ctx context.Context, key string) (GetReply, error) {
	var out GetReply
	floor := c.seen.Load()
	err := c.retry(ctx, func(node string) error {
		if err := c.do(ctx, node, http.MethodGet, "/kv/"+url.PathEscape(key), "", &out); err != nil {
			return err
		}
		c.checkFresh(node, key, floor, out)
		return nil
	})
	return out, err
}

// GetFrom reads key from one node, without following redirects: how a
// client pinned to its nearest replica reads.
func (c *Client) GetFrom(ctx context.Context, node, key string) (GetReply, error) {
	var out GetReply
	floor := c.seen.Load()
	if err := c.do(ctx, node, http.MethodGet, "/kv/"+url.PathEscape(key), "", &out); err != nil {
		return out, err
	}
	c.checkFresh(node, key, floor, out)
	return out, nil
}

// List reads the entries under prefix linearizably.
func (c *Client) List(ctx context.Context, prefix string) (map[string]kv.Entry, error) {
	var out struct {
		Entries map[string]kv.Entry `json:"entries"`
	}
	err := c.retry(ctx, func(node string) error {
		return c.do(ctx, node, http.MethodGet, "/keys?prefix="+url.QueryEscape(prefix), "", &out)
	})
	return out.Entries, err
}

func (c *Client) write(ctx context.Context, method, path string, q url.Values, body string) (kv.Result, error) {
	if q == nil {
		q = url.Values{}
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.seq++
	q.Set("client", c.id)
	q.Set("seq", strconv.FormatUint(c.seq, 10))
	path += "?" + q.Encode()
	var out kv.Result
	err := c.retry(ctx, func(node string) error { return c.do(ctx, node, method, path, body, &out) })
	if err == nil {
		c.observe(out.Rev)
	}
	return out, err
}

// retry tries the leader it knows, then each node in turn, until one
// answers, an answer is final (a 4xx), or ctx ends.
func (c *Client) retry(ctx context.Context, attempt func(node string) error) error {
	var last error
	for i := 0; ; i++ {
		node := c.target(i)
		err := attempt(node)
		var se *StatusError
		switch {
		case err == nil:
			c.setLeader(node)
			return nil
		case errors.As(err, &se):
			return err
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("kvhttp: %w (last: %w)", ctx.Err(), last)
		case <-time.After(backoff(i)):
		}
	}
}

func backoff(i int) time.Duration { return time.Duration(min(i+1, 10)) * 10 * time.Millisecond }

func (c *Client) target(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader != "" && i%2 == 0 {
		return c.leader
	}
	return c.order[i%len(c.order)]
}

func (c *Client) setLeader(node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.addrs[node]; ok {
		c.leader = node
	}
}

func (c *Client) do(ctx context.Context, node, method, path, body string, out any) error {
	addr, ok := c.addrs[node]
	if !ok {
		return fmt.Errorf("kvhttp: unknown node %q", node)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("kvhttp: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, node, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxValue+4096))
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, node, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("kvhttp: %s %s: expected JSON: %w", method, path, err)
		}
		return nil
	case resp.StatusCode == http.StatusMisdirectedRequest:
		if l := resp.Header.Get("X-Raft-Leader"); l != "" {
			c.setLeader(l)
		}
		return fmt.Errorf("%w: %s: %s", ErrMisdirected, node, strings.TrimSpace(string(b)))
	case resp.StatusCode >= 500:
		return fmt.Errorf("%w: %s: %s", ErrUnavailable, node, strings.TrimSpace(string(b)))
	}
	return &StatusError{Code: resp.StatusCode, Msg: strings.TrimSpace(string(b))}
}
