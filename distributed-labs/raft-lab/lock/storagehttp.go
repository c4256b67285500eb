package lock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Handler serves the storage over HTTP: POST /write?token=N&writer=NAME
// with the data as the body; 409 Conflict for a stale token.
func (s *Storage) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		token, err := strconv.ParseUint(q.Get("token"), 10, 64)
		if err != nil {
			http.Error(w, fmt.Sprintf("token=%q: expected a fencing token (a positive integer)", q.Get("token")), http.StatusBadRequest)
			return
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.Write(token, q.Get("writer"), string(data)); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// StorageClient writes to a Storage served by Handler.
type StorageClient struct {
	Addr string
	HTTP *http.Client
}

// NewStorageClient is a client of the storage at addr (host:port).
func NewStorageClient(addr string) *StorageClient {
	return &StorageClient{Addr: addr, HTTP: &http.Client{Timeout: time.Second}}
}

// Write sends one write; a stale token is ErrStaleToken.
func (c *StorageClient) Write(ctx context.Context, token uint64, writer, data string) error {
	u := fmt.Sprintf("http://%s/write?token=%d&writer=%s", c.Addr, token, url.QueryEscape(writer))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(data))
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("lock: write to storage: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch resp.StatusCode {
	case http.StatusNoContent:
		return nil
	case http.StatusConflict:
		return fmt.Errorf("%w: %s", ErrStaleToken, strings.TrimSpace(string(msg)))
	}
	return errors.New("lock: storage: " + resp.Status + ": " + strings.TrimSpace(string(msg)))
}
