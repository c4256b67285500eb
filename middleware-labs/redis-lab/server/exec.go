package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cluster"
)

type cmdFlags uint16

const (
	flagWrite    cmdFlags = 1 << iota
	flagReadonly          // reads keys
	flagPubSubOK          // allowed in the RESP2 subscribed context
	flagNoMulti           // runs immediately even inside MULTI (MULTI, EXEC, DISCARD, WATCH ...)
	flagNoScript          // not callable from Lua
	flagFast
	flagAdmin
)

type command struct {
	name     string
	arity    int // Redis convention: N exact, -N at least N (the name counts)
	flags    cmdFlags
	firstKey int
	lastKey  int // -1: last argument
	step     int
	keys     func(args [][]byte) [][]byte // overrides the key positions (EVAL)
	fn       func(s *Server, c *client, args [][]byte)

	calls   int64
	usec    int64
	counter prometheus.Counter
	latency prometheus.Observer
}

func (cmd *command) has(f cmdFlags) bool { return cmd.flags&f != 0 }

// keyArgs returns the key arguments of a call.
func (cmd *command) keyArgs(args [][]byte) [][]byte {
	if cmd.keys != nil {
		return cmd.keys(args)
	}
	if cmd.firstKey == 0 || cmd.firstKey >= len(args) {
		return nil
	}
	last := cmd.lastKey
	if last < 0 {
		last = len(args) + last
	}
	last = min(last, len(args)-1)
	var out [][]byte
	for i := cmd.firstKey; i <= last; i += cmd.step {
		out = append(out, args[i])
	}
	return out
}

// Redis's exact error texts.
const (
	errWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errNotInt    = "ERR value is not an integer or out of range"
	errSyntax    = "ERR syntax error"
	errNotFloat  = "ERR value is not a valid float"
	errOverflow  = "ERR increment or decrement would overflow"
	errMinMax    = "ERR min or max is not a float"
	errNoCluster = "ERR This instance has cluster support disabled"
	errCrossSlot = "CROSSSLOT Keys in request don't hash to the same slot"
)

func errArity(name string) string {
	return fmt.Sprintf("ERR wrong number of arguments for '%s' command", name)
}

// unknownCommand formats Redis 7's reply to an unknown command, argument preview included.
func unknownCommand(args [][]byte) string {
	var b strings.Builder
	for _, a := range args[1:] {
		if b.Len() >= 128 {
			break
		}
		s := string(a)
		if room := 128 - b.Len(); len(s) > room {
			s = s[:room]
		}
		fmt.Fprintf(&b, "'%s' ", s)
	}
	name := string(args[0])
	if len(name) > 128 {
		name = name[:128]
	}
	return fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", name, b.String())
}

func unknownSubcommand(sub []byte, cmd string) string {
	return fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.", sub, strings.ToUpper(cmd))
}

// execute is the entry point for one request: lookup, arity, context checks, MULTI queueing,
// cluster redirection, then call.
func (s *Server) execute(c *client, args [][]byte) {
	cmd := s.lookup(args[0])
	if cmd == nil {
		if c.inMulti {
			c.multiErr = true
		}
		s.stats.rejectedCalls++
		c.err(unknownCommand(args))
		return
	}
	if (cmd.arity > 0 && len(args) != cmd.arity) || len(args) < -cmd.arity {
		if c.inMulti {
			c.multiErr = true
		}
		s.stats.rejectedCalls++
		c.err(errArity(cmd.name))
		return
	}
	if c.proto == 2 && c.subscribed() && !cmd.has(flagPubSubOK) {
		c.err(fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", cmd.name))
		return
	}
	if s.cfg.Cluster != nil && !s.clusterRoute(c, cmd, args) {
		if c.inMulti {
			c.multiErr = true
		}
		return
	}
	if c.inMulti && !cmd.has(flagNoMulti) {
		c.queued = append(c.queued, args)
		c.w.Simple("QUEUED")
		return
	}
	s.busyClient.Store(c.id)
	s.busy.Store(cmd)
	s.call(c, cmd, args)
	if len(s.ready) > 0 {
		s.serveBlocked()
	}
	s.busy.Store(nil)
}

// clusterRoute enforces slot ownership: all keys in one slot, and that slot served here.
func (s *Server) clusterRoute(c *client, cmd *command, args [][]byte) bool {
	keys := cmd.keyArgs(args)
	if len(keys) == 0 {
		return true
	}
	slot := cluster.Slot(keys[0])
	for _, k := range keys[1:] {
		if cluster.Slot(k) != slot {
			c.err(errCrossSlot)
			return false
		}
	}
	if !s.cfg.Cluster.Mine(slot) {
		c.err(fmt.Sprintf("MOVED %d %s", slot, s.cfg.Cluster.Owner(slot).Addr()))
		return false
	}
	return true
}

// call runs a command and does the bookkeeping Redis's call() does: stats, slowlog, WATCH
// invalidation and AOF propagation of successful writes.
func (s *Server) call(c *client, cmd *command, args [][]byte) {
	c.replyErr, c.rewrite, c.noPropagate = false, nil, false
	c.lastCmd = cmd.name
	if c.db != s.curDB {
		s.useDB(c.db)
	}
	start := time.Now()
	if s.depth++; s.depth == 1 {
		s.busySince.Store(start.UnixNano())
	}
	cmd.fn(s, c, args)
	s.depth--
	dur := time.Since(start)
	cmd.calls++
	cmd.usec += dur.Microseconds()
	s.stats.commands++
	if cmd.counter != nil {
		cmd.counter.Inc()
		cmd.latency.Observe(dur.Seconds())
	}
	if dur >= s.slowlog.slowerThan && s.slowlog.slowerThan >= 0 {
		s.slowlog.add(c, args, dur)
	}
	if cmd.has(flagWrite) && !c.replyErr {
		if len(s.watching) > 0 { // no WATCH anywhere: skip building the key list
			for _, k := range cmd.keyArgs(args) {
				s.touchKey(s.curDB, string(k))
			}
		}
		if !c.noPropagate {
			if c.rewrite != nil {
				s.propagate(s.curDB, c.rewrite)
			} else {
				s.propagate(s.curDB, args)
			}
		}
	}
}

// propagate appends a write to the AOF; inside EXEC or a script the writes are wrapped in
// MULTI/EXEC so a replay applies them atomically (and a torn transaction is dropped).
func (s *Server) propagate(db int, args [][]byte) {
	if s.aof == nil {
		return
	}
	if s.txnProp != nil && !s.txnProp.started {
		s.txnProp.started = true
		s.aof.Append([][]byte{[]byte("MULTI")})
	}
	if db != s.aofDB {
		// As Redis does, the AOF says which database the following writes apply to.
		s.aof.Append([][]byte{[]byte("SELECT"), strconv.AppendInt(nil, int64(db), 10)})
		s.aofDB = db
	}
	s.aof.Append(args)
}

type txnProp struct{ started bool }

// beginTxnProp opens a propagation block; it reports false when one is already open (a script
// inside EXEC), in which case the caller must not close it.
func (s *Server) beginTxnProp() bool {
	if s.txnProp != nil {
		return false
	}
	s.txnProp = &txnProp{}
	return true
}

func (s *Server) endTxnProp() {
	if s.txnProp != nil && s.txnProp.started && s.aof != nil {
		s.aof.Append([][]byte{[]byte("EXEC")})
	}
	s.txnProp = nil
}

// onExpired runs when the keyspace drops an expired key: WATCHers are invalidated and a DEL is
// propagated so the AOF replays the same history.
func (s *Server) onExpired(db int, key string) {
	s.touchKey(db, key)
	s.propagate(db, [][]byte{[]byte("DEL"), []byte(key)})
	if s.metrics != nil {
		s.metrics.expired.Inc()
	}
}
