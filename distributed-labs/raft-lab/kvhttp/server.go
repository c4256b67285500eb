// Package kvhttp is a node's HTTP API over the replicated KV, and the
// client that talks to a cluster of them.
//
//	PUT    /kv/{key}                  body: the value          → {"ok":true,"rev":N}
//	GET    /kv/{key}                                           → {"value":"…","found":true,"rev":N}
//	POST   /cas/{key}?expect=OLD      body: the new value      → {"ok":bool,"value":"current","rev":N}
//	POST   /cas/{key}?absent=true     (create only if missing)
//	DELETE /kv/{key}                                           → {"ok":bool,"rev":N}
//	GET    /keys?prefix=P                                      → {"entries":{"k":{"value":…,"mod_rev":N}}}
//	GET    /status                                             → {"id":"node1","leader":true,...}
//
// Writes take ?client=ID&seq=N: a client numbers its writes and retries one
// with the same number, and the state machine applies it once. A node that
// does not lead answers 421 Misdirected Request with the leader's ID in
// {"leader":"node2"} and the X-Raft-Leader header.
package kvhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/consensus"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kv"
)

// Read paths.
const (
	// ReadLinearizable confirms leadership with a quorum around the read
	// (consensus.Node.LinearRead): the fixed path.
	ReadLinearizable = "linearizable"
	// ReadLocal answers from this node's copy, whatever its role: the
	// network-partition fault. A leader cut off with a minority keeps
	// answering with what it had when the cut came.
	ReadLocal = "local"
)

// maxValue bounds a request body.
const maxValue = 1 << 20

// Acknowledgement paths for writes.
const (
	// AckCommit answers a write once it is committed and applied: the
	// fixed path.
	AckCommit = "commit"
	// AckEarly answers as soon as the leader has taken the write, and
	// proposes it in the background: the leader-crash fault. A leader that
	// dies with writes still in its queue has acknowledged writes no other
	// node ever saw.
	AckEarly = "early"
)

// Server serves one node's KV API.
type Server struct {
	node  consensus.Node
	store *kv.Store
	reads string
	ack   string
	stats *Metrics
	wg    sync.WaitGroup
}

// Metrics are the node's KV counters for /metrics.
type Metrics struct {
	Requests *prometheus.CounterVec // by op and code
	Leader   prometheus.GaugeFunc
	Term     prometheus.GaugeFunc
}

// NewServer serves store, replicated by node, reading by the read path
// reads (ReadLinearizable or ReadLocal) and acknowledging writes by ack
// (AckCommit or AckEarly). reg may be nil.
func NewServer(node consensus.Node, store *kv.Store, reads, ack string, reg prometheus.Registerer) (*Server, error) {
	if reads != ReadLinearizable && reads != ReadLocal {
		return nil, fmt.Errorf("kvhttp: read path %q: expected %s or %s", reads, ReadLinearizable, ReadLocal)
	}
	if ack != AckCommit && ack != AckEarly {
		return nil, fmt.Errorf("kvhttp: ack path %q: expected %s or %s", ack, AckCommit, AckEarly)
	}
	s := &Server{node: node, store: store, reads: reads, ack: ack}
	if reg != nil {
		m := &Metrics{
			Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "raftlab_kv_requests_total",
				Help: "KV API requests by operation and HTTP status."}, []string{"op", "code"}),
			Leader: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "raftlab_is_leader",
				Help: "1 while this node leads."}, func() float64 {
				if node.Status().Leader {
					return 1
				}
				return 0
			}),
			Term: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "raftlab_term",
				Help: "The node's current Raft term; its increase counts elections."}, func() float64 {
				return float64(node.Status().Term)
			}),
		}
		for _, c := range []prometheus.Collector{m.Requests, m.Leader, m.Term} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("kvhttp: register metrics: %w", err)
			}
		}
		s.stats = m
	}
	return s, nil
}

// Handler is the API's mux.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kv/{key...}", s.count("get", s.handleGet))
	mux.HandleFunc("PUT /kv/{key...}", s.count("put", s.handlePut))
	mux.HandleFunc("DELETE /kv/{key...}", s.count("delete", s.handleDelete))
	mux.HandleFunc("POST /cas/{key...}", s.count("cas", s.handleCAS))
	mux.HandleFunc("GET /keys", s.count("keys", s.handleKeys))
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.node.Status()) })
	return mux
}

// GetReply is GET /kv/{key}'s answer.
type GetReply struct {
	Value string `json:"value"`
	Found bool   `json:"found"`
	Rev   uint64 `json:"rev"` // the revision that last changed the key
	// StoreRev is the store's revision the answer reflects: a client that
	// was acknowledged a write at revision W and then reads StoreRev < W
	// got an answer from the past.
	StoreRev uint64 `json:"store_rev"`
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	var (
		e     kv.Entry
		found bool
		rev   uint64
	)
	if s.reads == ReadLocal {
		e, found, rev = s.readLocal(key)
		writeJSON(w, http.StatusOK, GetReply{Value: e.Value, Found: found, Rev: e.ModRev, StoreRev: rev})
		return
	}
	// exercise:begin network-partition
	err := s.node.LinearRead(r.Context(), func() { e, found, rev = s.store.GetAt(key) })
	// exercise:stub
	// e, found, rev = s.readLocal(key)
	// var err error
	// exercise:end
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, GetReply{Value: e.Value, Found: found, Rev: e.ModRev, StoreRev: rev})
}

// readLocal is the defect of the network-partition fault: it answers from
// this replica without asking whether it still leads, or whether anyone
// has written since it last heard from a leader.
func (s *Server) readLocal(key string) (kv.Entry, bool, uint64) {
	return s.store.GetAt(key)
}

func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("prefix")
	var entries map[string]kv.Entry
	read := func() { entries = s.store.List(prefix) }
	if s.reads == ReadLocal {
		read()
	} else if err := s.node.LinearRead(r.Context(), read); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "rev": s.store.Rev()})
}

func (s *Server) handlePut(w http.ResponseWriter, r *http.Request) {
	value, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	s.propose(w, r, kv.Command{Op: kv.OpPut, Key: r.PathValue("key"), Value: value})
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	s.propose(w, r, kv.Command{Op: kv.OpDelete, Key: r.PathValue("key")})
}

func (s *Server) handleCAS(w http.ResponseWriter, r *http.Request) {
	value, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q := r.URL.Query()
	c := kv.Command{Op: kv.OpCAS, Key: r.PathValue("key"), Value: value, Expect: q.Get("expect")}
	if a := q.Get("absent"); a != "" {
		if c.ExpectAbsent, err = strconv.ParseBool(a); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("absent=%q: expected true or false", a))
			return
		}
	}
	if !c.ExpectAbsent && !q.Has("expect") {
		writeError(w, http.StatusBadRequest, errors.New("cas: expected ?expect=CURRENT or ?absent=true"))
		return
	}
	s.propose(w, r, c)
}

func (s *Server) propose(w http.ResponseWriter, r *http.Request, c kv.Command) {
	q := r.URL.Query()
	c.Client = q.Get("client")
	if seq := q.Get("seq"); seq != "" {
		n, err := strconv.ParseUint(seq, 10, 64)
		if err != nil || n == 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("seq=%q: expected a positive integer", seq))
			return
		}
		c.Seq = n
	}
	if (c.Client == "") != (c.Seq == 0) {
		writeError(w, http.StatusBadRequest, errors.New("expected both client= and seq=, or neither"))
		return
	}
	b, err := c.Encode()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if s.ack == AckEarly && s.node.Status().Leader {
		s.proposeAsync(b)
		writeJSON(w, http.StatusOK, kv.Result{OK: true, Value: c.Value, Found: c.Op != kv.OpDelete})
		return
	}
	// exercise:begin leader-crash
	out, err := s.node.Propose(r.Context(), b)
	// exercise:stub
	// s.proposeAsync(b)
	// out, err := any(kv.Result{OK: true, Value: c.Value, Found: c.Op != kv.OpDelete}), error(nil)
	// exercise:end
	if err != nil {
		s.fail(w, err)
		return
	}
	res, ok := out.(kv.Result)
	if !ok {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("kvhttp: the state machine returned %T", out))
		return
	}
	if res.Err != "" {
		writeError(w, http.StatusConflict, errors.New(res.Err))
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// proposeAsync is the defect of the leader-crash fault: the client has its
// answer before the write is in a majority's log, so "acknowledged" no
// longer means "will survive the leader".
func (s *Server) proposeAsync(cmd []byte) {
	s.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = s.node.Propose(ctx, cmd)
	})
}

// Wait waits for the writes proposeAsync still has in flight.
func (s *Server) Wait() { s.wg.Wait() }

// fail maps a consensus error to a status a client can act on: 421 means
// "not here, nothing happened", 503 "the outcome is unknown, retry".
func (s *Server) fail(w http.ResponseWriter, err error) {
	var nl *consensus.NotLeaderError
	if errors.As(err, &nl) {
		w.Header().Set("X-Raft-Leader", nl.Leader)
		writeJSON(w, http.StatusMisdirectedRequest, map[string]string{"error": err.Error(), "leader": nl.Leader})
		return
	}
	writeError(w, http.StatusServiceUnavailable, err)
}

func (s *Server) count(op string, h http.HandlerFunc) http.HandlerFunc {
	if s.stats == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h(sw, r)
		s.stats.Requests.WithLabelValues(op, strconv.Itoa(sw.code)).Inc()
	}
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func readBody(r *http.Request) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxValue+1))
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	if len(b) > maxValue {
		return "", fmt.Errorf("value: expected at most %d bytes", maxValue)
	}
	return string(b), nil
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
