package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/aof"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cluster"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/store"
)

// Version is the Redis version the server reports; clients gate features on it.
const Version = "7.0.15"

// Config configures a Server.
type Config struct {
	// Clock is the time source (nil: wall clock); tests pass a fake one.
	Clock store.Clock
	// Seed seeds the server's randomness (skiplist levels).
	Seed uint64
	// Limits bound request sizes (zero: Redis's defaults).
	Limits resp.Limits
	// AOFPath enables the append-only file when set.
	AOFPath string
	// AOFPolicy is the fsync policy (default everysec).
	AOFPolicy aof.Policy
	// Cluster enables cluster mode: this node serves only its slots and redirects with MOVED.
	Cluster *cluster.Topology
	// ActiveExpireEvery is the active-expiry period (default 100 ms, Redis's hz 10); negative
	// disables the cycle (tests drive it by hand).
	ActiveExpireEvery time.Duration
	// SlowlogSlowerThan is the slowlog threshold (default 10 ms, Redis's default); SlowlogMaxLen
	// the number of entries kept (default 128).
	SlowlogSlowerThan time.Duration
	SlowlogMaxLen     int
	// Metrics receives the server's Prometheus metrics (nil: not registered).
	Metrics prometheus.Registerer
	// Log receives operational messages (nil: discarded).
	Log *zap.Logger
	// ScriptTimeout bounds one Lua script (default 5 s); the script fails when it is reached.
	ScriptTimeout time.Duration
	// ShutdownTimeout bounds how long Serve waits, once its context ends, for the command in
	// flight to finish (default 5 s). Past it the connections are closed and Serve returns an
	// error naming the command, so one runaway command can never keep the process alive.
	ShutdownTimeout time.Duration
}

// Server is a mini Redis instance.
type Server struct {
	cfg Config
	log *zap.Logger

	// mu is the executor lock: every command runs while holding it (see doc.go).
	mu sync.Mutex
	// dbs are the numbered databases (SELECT); db and curDB are the one the command executing
	// now addresses, which call() points at the client's selected database, so a command body
	// just uses s.db.
	dbs      []*store.DB
	db       *store.DB
	curDB    int
	depth    int // nesting of call(): EXEC and scripts call commands inside a command
	aofDB    int // the database the AOF's next command applies to (SELECT is emitted on change)
	clients  map[int64]*client
	watching map[string]map[*client]struct{}
	// blocked lists the clients blocked on each key (watchKey), in the order they blocked;
	// ready collects keys pushed to by the command running now.
	blocked        map[string][]*client
	ready          []readyKey
	blockedClients int
	channels       map[string]map[*client]struct{}
	patterns       map[string]map[*client]struct{}
	aof            *aof.File
	scripts        *scripts
	slowlog        slowlog
	stats          stats
	commands       map[string]*command
	config         *configStore
	startTime      time.Time
	nextID         atomic.Int64
	metrics        *metrics
	lazyfree       chan lazyItem
	txnProp        *txnProp

	wg      sync.WaitGroup
	connsMu sync.Mutex
	conns   map[net.Conn]struct{}
	ln      net.Listener
	cancel  context.CancelFunc
	// serveErr is what the Serve started by Start returned; Close reports it.
	serveErr error
	// drained is closed once every connection and background goroutine has stopped, which
	// after a shutdown timeout happens only when the stuck command finally returns.
	drained chan struct{}

	// busy is the top-level command executing now, read without the executor lock by a
	// shutdown that cannot take it.
	busy       atomic.Pointer[command]
	busyClient atomic.Int64
	busySince  atomic.Int64 // unix nanoseconds
}

type stats struct {
	commands      int64
	connections   int64
	rejectedCalls int64
	pubsubMsgs    int64
	aofErrors     int64
}

// New builds a server and replays its AOF when configured.
func New(cfg Config) (*Server, error) {
	if cfg.ActiveExpireEvery == 0 {
		cfg.ActiveExpireEvery = 100 * time.Millisecond
	}
	if cfg.SlowlogSlowerThan == 0 {
		cfg.SlowlogSlowerThan = 10 * time.Millisecond
	}
	if cfg.SlowlogMaxLen == 0 {
		cfg.SlowlogMaxLen = 128
	}
	if cfg.ScriptTimeout == 0 {
		cfg.ScriptTimeout = 5 * time.Second
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Log,
		clients:   map[int64]*client{},
		watching:  map[string]map[*client]struct{}{},
		blocked:   map[string][]*client{},
		channels:  map[string]map[*client]struct{}{},
		patterns:  map[string]map[*client]struct{}{},
		startTime: time.Now(),
		conns:     map[net.Conn]struct{}{},
		lazyfree:  make(chan lazyItem, 1024),
		drained:   make(chan struct{}),
	}
	s.slowlog.maxLen = cfg.SlowlogMaxLen
	s.slowlog.slowerThan = cfg.SlowlogSlowerThan
	s.commands = commandTable()
	s.config = newConfigStore()
	s.scripts = newScripts(s)
	for i := range Databases {
		db := store.New(cfg.Clock, cfg.Seed+uint64(i))
		s.dbs = append(s.dbs, db)
	}
	s.wireDBs()
	s.db = s.dbs[0]
	m, err := newMetrics(s, cfg.Metrics)
	if err != nil {
		return nil, fmt.Errorf("mini-redis: register metrics: %w", err)
	}
	s.metrics = m
	if cfg.AOFPath != "" {
		if err := s.loadAOF(); err != nil {
			return nil, err
		}
		f, err := aof.Open(cfg.AOFPath, cfg.AOFPolicy)
		if err != nil {
			return nil, err
		}
		s.aof = f
	}
	return s, nil
}

func (s *Server) loadAOF() error {
	loader := s.newFakeClient()
	res, err := aof.Load(s.cfg.AOFPath, func(args [][]byte) error {
		cmd := s.lookup(args[0])
		if cmd == nil {
			return fmt.Errorf("aof: unknown command %q in %s", args[0], s.cfg.AOFPath)
		}
		s.call(loader, cmd, args)
		return nil
	})
	if err != nil {
		return err
	}
	// Appends continue in the database the file's last SELECT chose.
	s.aofDB = loader.db
	if res.Truncated {
		s.log.Warn("!!! Warning: short read while loading the AOF file !!! AOF loaded anyway because aof-load-truncated is enabled",
			zap.Int64("truncated_to", res.ValidLen), zap.Int64("file_len", res.FileLen))
	}
	s.log.Info("DB loaded from append only file", zap.Int("commands", res.Commands))
	return nil
}

// ListenAndServe listens on addr and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mini-redis: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Start listens on addr and serves in the background; Close stops it. It returns the bound
// address (useful with port 0).
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("mini-redis: listen %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.Serve(ctx, ln); err != nil {
			s.log.Error("serve", zap.Error(err))
			s.serveErr = err
		}
	}()
	return ln.Addr().String(), nil
}

// Close stops a server started with Start and waits for it, at most ShutdownTimeout for a
// command in flight; the error names a command that did not finish in time.
func (s *Server) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	return s.serveErr
}

// Serve accepts connections on ln until ctx ends, then closes every connection, flushes the AOF
// and returns once all goroutines have stopped.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.ln = ln
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bg sync.WaitGroup
	bg.Add(3)
	go func() { defer bg.Done(); s.expireLoop(ctx) }()
	go func() { defer bg.Done(); s.lazyFreeLoop(ctx) }()
	go func() {
		defer bg.Done()
		if s.aof != nil {
			s.aof.RunEverySec(ctx, func(err error) { s.log.Error("aof fsync", zap.Error(err)) })
		}
	}()
	go func() { <-ctx.Done(); ln.Close() }()
	var conns sync.WaitGroup
	var err error
	for {
		conn, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("mini-redis: accept: %w", aerr)
			}
			break
		}
		s.connsMu.Lock()
		s.conns[conn] = struct{}{}
		s.connsMu.Unlock()
		conns.Add(1)
		go func() {
			defer conns.Done()
			s.serveConn(ctx, conn)
		}()
	}
	cancel()
	// Wake the connections waiting for a request with a read deadline in the past, rather than
	// closing them, so a command in flight still delivers its reply.
	s.connsMu.Lock()
	for c := range s.conns {
		// It fails only on a connection already closed, whose read has returned anyway.
		_ = c.SetReadDeadline(time.Now())
	}
	s.connsMu.Unlock()
	stopped := make(chan struct{})
	go func() {
		conns.Wait()
		bg.Wait()
		close(stopped)
	}()
	timer := time.NewTimer(s.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		stuck := s.busyCommand()
		s.closeConns()
		go func() { <-stopped; close(s.drained) }()
		// The AOF stays as the stuck command left it: flushing needs the lock it holds.
		return errors.Join(err, fmt.Errorf("mini-redis: shutdown: %s still running after %v: connections closed, AOF not flushed", stuck, s.cfg.ShutdownTimeout))
	}
	s.closeConns()
	defer close(s.drained)
	if s.aof != nil {
		s.mu.Lock()
		ferr := s.aof.Flush()
		s.mu.Unlock()
		err = errors.Join(err, ferr, s.aof.Close())
		s.aof = nil
	}
	return err
}

func (s *Server) closeConns() {
	s.connsMu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.connsMu.Unlock()
}

// busyCommand describes the command executing now, for the shutdown error.
func (s *Server) busyCommand() string {
	cmd := s.busy.Load()
	if cmd == nil {
		return "a command"
	}
	since := time.Since(time.Unix(0, s.busySince.Load())).Round(time.Millisecond)
	return fmt.Sprintf("command %s (client id=%d, running for %v)", strings.ToUpper(cmd.name), s.busyClient.Load(), since)
}

func (s *Server) expireLoop(ctx context.Context) {
	if s.cfg.ActiveExpireEvery < 0 {
		return
	}
	t := time.NewTicker(s.cfg.ActiveExpireEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.mu.Lock()
			// Redis gives the slow cycle 25% of a tick, shared by the databases.
			s.activeExpire(s.cfg.ActiveExpireEvery / 4)
			s.flushAOF()
			s.mu.Unlock()
		}
	}
}

// lazyFreeLoop releases values detached by UNLINK off the command path, then settles the
// accounting under the lock in O(1).
func (s *Server) lazyFreeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-s.lazyfree:
			size := store.ReleaseDetached(it.v)
			s.mu.Lock()
			it.db.Add(-size)
			it.db.Stats.LazyFreed++
			s.mu.Unlock()
		}
	}
}

func (s *Server) flushAOF() {
	if s.aof == nil {
		return
	}
	if err := s.aof.Flush(); err != nil {
		s.stats.aofErrors++
		s.log.Error("aof write", zap.Error(err))
	}
}

func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	c := s.newClient(conn)
	defer func() {
		conn.Close()
		s.mu.Lock()
		s.freeClient(c)
		s.mu.Unlock()
		c.stopPush()
		s.connsMu.Lock()
		delete(s.conns, conn)
		s.connsMu.Unlock()
	}()
	batch := make([][][]byte, 0, 64)
	var pending [][][]byte // requests left over when a blocking command blocked mid-pipeline
	for ctx.Err() == nil {
		var err error
		if len(pending) > 0 {
			batch = append(batch[:0], pending...)
			pending = pending[:0]
		} else {
			args, rerr := c.r.ReadCommand()
			if rerr != nil {
				s.replyProtocolError(c, rerr)
				return
			}
			batch = append(batch[:0], args)
		}
		// Everything already buffered is a pipeline: run it under one lock, flush once.
		for c.r.Buffered() > 0 && len(batch) < 1024 {
			var args [][]byte
			args, err = c.r.ReadCommand()
			if err != nil {
				break
			}
			batch = append(batch, args)
		}
		c.outMu.Lock()
		s.mu.Lock()
		for i, a := range batch {
			s.execute(c, a)
			if c.closeAfterReply {
				break
			}
			if c.block != nil {
				pending = append(pending, batch[i+1:]...)
				break
			}
		}
		s.flushAOF()
		// Encode into memory under the lock; the socket write happens after it is released.
		// Its error is sticky: flushOut below flushes again and reports it.
		_ = c.w.Flush()
		blocked := c.block
		s.mu.Unlock()
		ferr := c.flushOut()
		c.outMu.Unlock()
		if ferr != nil || c.closeAfterReply {
			return
		}
		if blocked != nil {
			next, alive := s.waitBlocked(ctx, c, blocked)
			if !alive {
				return
			}
			if next != nil {
				pending = append(pending, next)
			}
		}
		if err != nil {
			s.replyProtocolError(c, err)
			return
		}
	}
}

func (s *Server) replyProtocolError(c *client, err error) {
	var pe *resp.ProtocolError
	if errors.As(err, &pe) {
		c.outMu.Lock()
		c.w.Error("ERR " + pe.Error())
		// The connection closes next either way; a reply that cannot be sent changes nothing.
		_ = c.flushOut()
		c.outMu.Unlock()
		return
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("connection", zap.Error(err))
	}
}

// lookup finds a command by name, case-insensitively, without allocating for short names.
func (s *Server) lookup(name []byte) *command {
	var buf [32]byte
	if len(name) > len(buf) {
		return s.commands[strings.ToLower(string(name))]
	}
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return s.commands[string(buf[:len(name)])]
}

// DB exposes database 0 to in-process tests and scenarios; hold Lock while using it.
func (s *Server) DB() *store.DB { return s.dbs[0] }

// Databases is the number of databases, Redis's default (`databases 16`).
const Databases = 16

// lazyItem is a value detached by UNLINK with the database whose accounting it leaves.
type lazyItem struct {
	db *store.DB
	v  *store.Value
}

// wireDBs points each database's expiry hook at its index (again after SWAPDB).
func (s *Server) wireDBs() {
	for i, db := range s.dbs {
		db.OnRemove = func(key string) { s.onExpired(i, key) }
	}
}

// useDB makes database i the one commands address.
func (s *Server) useDB(i int) {
	s.curDB = i
	s.db = s.dbs[i]
}

func (s *Server) activeExpire(budget time.Duration) int {
	n := 0
	for _, db := range s.dbs {
		if db.ExpiresLen() > 0 {
			n += db.ActiveExpire(budget / time.Duration(len(s.dbs)))
		}
	}
	return n
}

// usedMemory and the keyspace stats add up every database, as INFO reports them.
func (s *Server) usedMemory() int64 {
	var n int64
	for _, db := range s.dbs {
		n += db.UsedMemory()
	}
	return n
}

func (s *Server) dbStats() store.Stats {
	var t store.Stats
	for _, db := range s.dbs {
		st := db.Stats
		t.ExpiredKeys += st.ExpiredKeys
		t.KeyspaceHits += st.KeyspaceHits
		t.KeyspaceMiss += st.KeyspaceMiss
		t.ActiveCycles += st.ActiveCycles
		t.LazyFreed += st.LazyFreed
		t.SyncFreeNanos += st.SyncFreeNanos
	}
	return t
}

func (s *Server) keyCount() int {
	n := 0
	for _, db := range s.dbs {
		n += db.Len()
	}
	return n
}

// Lock takes the executor lock (in-process callers only: tests and scenarios).
func (s *Server) Lock() { s.mu.Lock() }

// Unlock releases the executor lock.
func (s *Server) Unlock() { s.mu.Unlock() }

// ActiveExpireCycle runs one active-expiry cycle now (tests with a fake clock).
func (s *Server) ActiveExpireCycle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.activeExpire(25 * time.Millisecond * Databases)
	s.flushAOF()
	return n
}

// closeAOF closes the AOF of a server that was built but never served (tests).
func (s *Server) closeAOF() error {
	if s.aof == nil {
		return nil
	}
	err := s.aof.Close()
	s.aof = nil
	return err
}

// CommandsProcessed is the number of commands executed so far (per-node QPS in the hot-key lab).
func (s *Server) CommandsProcessed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.commands
}
