// Package register is the example cluster: a register replicated on three
// processes, small enough to read in one sitting, and wrong in one place
// on purpose.
//
// node1 is the primary. A write goes to it; it gives the value the next
// version, keeps it, and answers once a majority of the nodes (itself and
// one more) has it. Any node answers a read, in one of two ways:
//
//   - local (the defect): the node returns the value it holds. A node cut
//     off from the primary keeps answering with what it had when the cut
//     came, while the others move on: the read is stale, and the history
//     is not linearizable.
//   - quorum (the fix): the node asks a majority for their versions, takes
//     the newest, makes sure a majority holds it before answering (so no
//     later read can see an older one), and refuses to answer when it
//     cannot reach a majority.
//
// Peers are dialled through netfault's proxies, so a partition between
// processes is a real one. The parent side is in cluster.go, the scenario
// that breaks it in scenario.go.
package register

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/node"
)

// Read paths.
const (
	ReadLocal  = "local"  // the defect: a node's own, possibly stale, copy
	ReadQuorum = "quorum" // the fix: confirmed by a majority
)

// peerTimeout bounds one call to a peer: a partitioned peer answers never,
// and a write or a read must not wait for it longer than this.
const peerTimeout = 300 * time.Millisecond

// Options are a node's flags.
type Options struct {
	Reads string // ReadLocal or ReadQuorum
}

// ParseFlags reads a node's command line: -reads=local|quorum.
func ParseFlags(args []string) (Options, error) {
	fs := flag.NewFlagSet("register-node", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := Options{}
	fs.StringVar(&o.Reads, "reads", ReadQuorum, "read path: local | quorum")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("register-node: %w (expected -reads=local|quorum)", err)
	}
	if o.Reads != ReadLocal && o.Reads != ReadQuorum {
		return o, fmt.Errorf("register-node: -reads=%q: expected local or quorum", o.Reads)
	}
	return o, nil
}

// NodeMain is a node program's whole main: flags, then Serve under
// node.Main. Bad flags exit 2.
func NodeMain(args []string) {
	o, err := ParseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	node.Main(func(ctx context.Context, self *node.Self) error { return Serve(ctx, self, o) })
}

// State is what a node holds: the newest value it knows and its version.
type State struct {
	Version int64  `json:"version"`
	Value   string `json:"value"`
}

// Server is one node of the register.
type Server struct {
	self   *node.Self
	opts   Options
	client *http.Client
	file   string

	writeMu sync.Mutex // the primary orders writes one at a time
	mu      sync.Mutex
	st      State
}

// Serve runs a node until ctx ends.
func Serve(ctx context.Context, self *node.Self, o Options) error {
	s := &Server{self: self, opts: o, file: filepath.Join(self.DataDir, "register.json"),
		client: &http.Client{Timeout: peerTimeout}}
	if err := s.load(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /write", s.handleWrite)
	mux.HandleFunc("GET /read", s.handleRead)
	mux.HandleFunc("GET /state", s.handleState)
	mux.HandleFunc("POST /replicate", s.handleReplicate)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	self.Log.Info("register node", zap.String("reads", o.Reads), zap.Int64("version", s.st.Version))
	if err := srv.Serve(self.Listener); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("register: serve: %w", err)
	}
	s.client.CloseIdleConnections()
	return nil
}

func (s *Server) primary() bool { return s.self.ID == 1 }

// majority of the cluster: the peers and this node.
func (s *Server) majority() int { return (len(s.self.Peers)+1)/2 + 1 }

// handleWrite is the primary's: version the value, keep it, replicate it,
// and acknowledge once a majority holds it.
func (s *Server) handleWrite(w http.ResponseWriter, r *http.Request) {
	if !s.primary() {
		http.Error(w, "not the primary: write to node1", http.StatusMisdirectedRequest)
		return
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	st := State{Version: s.st.Version + 1, Value: r.URL.Query().Get("value")}
	s.mu.Unlock()
	if err := s.apply(st); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if acks := 1 + s.replicate(r.Context(), st); acks < s.majority() {
		// The value stays here and may yet spread: the client must treat
		// the write as one whose outcome it does not know.
		http.Error(w, fmt.Sprintf("only %d of %d nodes hold version %d", acks, len(s.self.Peers)+1, st.Version),
			http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, st)
}

// handleRead answers a read by the node's read path.
func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	if s.opts.Reads == ReadLocal {
		writeJSON(w, s.local()) // the defect: nothing checks that this copy is still current
		return
	}
	st, err := s.quorumRead(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, st)
}

// quorumRead returns the newest state a majority reports, after making sure
// a majority holds it: without that write-back, a value only one node has
// seen could be read now and be missing from the next read.
func (s *Server) quorumRead(ctx context.Context) (State, error) {
	newest, replies := s.local(), 1
	results := make(chan State, len(s.self.Peers))
	for _, p := range s.self.Peers {
		go func() {
			var st State
			if err := s.call(ctx, http.MethodGet, p, "/state", nil, &st); err != nil {
				st.Version = -1
			}
			results <- st
		}()
	}
	for range s.self.Peers {
		if st := <-results; st.Version >= 0 {
			replies++
			if st.Version > newest.Version {
				newest = st
			}
		}
	}
	if replies < s.majority() {
		return State{}, fmt.Errorf("read: %d of %d nodes answered, a majority is %d", replies, len(s.self.Peers)+1, s.majority())
	}
	if err := s.apply(newest); err != nil {
		return State{}, err
	}
	if acks := 1 + s.replicate(ctx, newest); acks < s.majority() {
		return State{}, fmt.Errorf("read: version %d reached %d nodes, a majority is %d", newest.Version, acks, s.majority())
	}
	return newest, nil
}

func (s *Server) handleState(w http.ResponseWriter, _ *http.Request) { writeJSON(w, s.local()) }

func (s *Server) handleReplicate(w http.ResponseWriter, r *http.Request) {
	var st State
	if err := json.NewDecoder(r.Body).Decode(&st); err != nil {
		http.Error(w, "replicate: expected {\"version\":N,\"value\":\"...\"}: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.apply(st); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, s.local())
}

// replicate sends st to every peer at once and returns as soon as enough of
// them hold it for a majority, or all have answered: how many hold it.
func (s *Server) replicate(ctx context.Context, st State) int {
	need := s.majority() - 1
	acks := make(chan bool, len(s.self.Peers))
	for _, p := range s.self.Peers {
		// The peers that are slow or cut off finish within peerTimeout
		// on their own; the write does not wait for them.
		go func() { acks <- s.call(context.WithoutCancel(ctx), http.MethodPost, p, "/replicate", st, nil) == nil }()
	}
	got := 0
	for range s.self.Peers {
		if <-acks {
			if got++; got >= need {
				return got
			}
		}
	}
	return got
}

func (s *Server) local() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// apply keeps st if it is newer than what the node has, on disk first, so a
// restarted node comes back with every version it acknowledged.
func (s *Server) apply(st State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Version <= s.st.Version {
		return nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("register: encode state: %w", err)
	}
	tmp := s.file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := os.Rename(tmp, s.file); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	s.st = st
	return nil
}

func (s *Server) load() error {
	b, err := os.ReadFile(s.file)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if err := json.Unmarshal(b, &s.st); err != nil {
		return fmt.Errorf("register: %s: expected {\"version\":N,\"value\":\"...\"}: %w", s.file, err)
	}
	return nil
}

// call sends one request to a peer and decodes its JSON answer into out.
func (s *Server) call(ctx context.Context, method, peer, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("register: encode: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+peer+path, body)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("register: %s %s: %w", method, peer, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("register: %s %s%s: %s: %s", method, peer, path, resp.Status, msg)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("register: %s %s%s: %w", method, peer, path, err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
