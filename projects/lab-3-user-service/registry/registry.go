// Package registry is the smallest service registry that shows the idea: instances announce
// themselves with a time to live and renew it with heartbeats; an instance that stops renewing
// (crashed, frozen, partitioned) disappears once its TTL runs out, with no one having to notice
// it died. Clients read the live instances of a service and keep the last answer they got, so a
// registry outage stops changes from propagating but does not stop traffic.
//
// Real deployments use Consul, etcd or Kubernetes endpoints for this; the lab builds it in a
// page so the TTL, the heartbeat period and the stale cache are visible and measurable.
//
//	PUT    /v1/services/{service}/{id}  {"addr":"127.0.0.1:8400","ttl_ms":1500}  register or renew
//	DELETE /v1/services/{service}/{id}                                           leave at shutdown
//	GET    /v1/services/{service}       {"instances":[{"id":"users-1","addr":"..."}]}
package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Instance is one live endpoint of a service.
type Instance struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

// MaxTTL bounds what an instance may ask for: a typo must not keep a dead instance listed for a day.
const MaxTTL = time.Minute

type entry struct {
	addr    string
	expires time.Time
}

// Server keeps the instances in memory; a restarted registry is empty until the next heartbeats,
// which is at most one heartbeat period.
type Server struct {
	now func() time.Time

	mu       sync.Mutex
	services map[string]map[string]entry
}

// NewServer returns an empty registry.
func NewServer() *Server {
	return &Server{now: time.Now, services: map[string]map[string]entry{}}
}

// Handler is the registry's HTTP API.
func (s *Server) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("PUT /v1/services/{service}/{id}", s.put)
	m.HandleFunc("DELETE /v1/services/{service}/{id}", s.delete)
	m.HandleFunc("GET /v1/services/{service}", s.get)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return m
}

type putBody struct {
	Addr  string `json:"addr"`
	TTLMs int64  `json:"ttl_ms"`
}

func validName(s string) bool {
	return s != "" && len(s) <= 64 && !strings.ContainsFunc(s, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' && r != '.'
	})
}

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": http.StatusText(status), "message": msg}})
}

func (s *Server) put(w http.ResponseWriter, r *http.Request) {
	service, id := r.PathValue("service"), r.PathValue("id")
	if !validName(service) || !validName(id) {
		httpError(w, http.StatusBadRequest, "service and id: expected 1-64 characters of a-z, 0-9, '-', '_', '.'")
		return
	}
	var b putBody
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		httpError(w, http.StatusBadRequest, "expected {\"addr\":\"host:port\",\"ttl_ms\":N}: "+err.Error())
		return
	}
	ttl := time.Duration(b.TTLMs) * time.Millisecond
	if b.Addr == "" || len(b.Addr) > 256 || ttl <= 0 || ttl > MaxTTL {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("expected a non-empty addr and ttl_ms from 1 to %d", MaxTTL.Milliseconds()))
		return
	}
	s.mu.Lock()
	if s.services[service] == nil {
		s.services[service] = map[string]entry{}
	}
	s.services[service][id] = entry{addr: b.Addr, expires: s.now().Add(ttl)}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	delete(s.services[r.PathValue("service")], r.PathValue("id"))
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Lookup returns the service's instances whose TTL has not run out, sorted by id, and forgets
// the expired ones.
func (s *Server) Lookup(service string) []Instance {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Instance{}
	for id, e := range s.services[service] {
		if !now.Before(e.expires) {
			delete(s.services[service], id)
			continue
		}
		out = append(out, Instance{ID: id, Addr: e.addr})
	}
	slices.SortFunc(out, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"instances": s.Lookup(r.PathValue("service"))})
}

// ErrNoInstances means the registry answered and the service has no live instance.
var ErrNoInstances = errors.New("no live instance")
