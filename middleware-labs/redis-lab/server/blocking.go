package server

import (
	"context"
	"errors"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/store"
)

// Blocking list commands (BLPOP, BRPOP, BLMOVE) in the one-executor model: a client that finds
// every key empty registers on the keys and its connection goroutine waits outside the executor
// lock, so the server goes on serving everyone else. A push marks the key ready; after the
// command that pushed (a whole EXEC or script included), the executor pops for the clients
// blocked on it in the order they blocked (FIFO, as Redis) and hands each its reply through a
// channel. A timeout, a disconnect or shutdown releases a waiting client.

// blockState is what a blocked client waits for.
type blockState struct {
	db      int
	keys    []string
	timeout time.Duration // 0: for ever
	left    bool          // pop from the head (BLPOP, BLMOVE ... LEFT ...)
	move    bool          // BLMOVE: push what was popped onto dst
	dst     []byte
	dstLeft bool
	cmd     string
}

// blockReply is the outcome handed to a blocked client's goroutine.
type blockReply struct {
	key, val []byte
	err      string
}

type readyKey struct {
	db  int
	key string
}

// signalKey notes that key may now serve blocked clients.
func (s *Server) signalKey(db int, key string) {
	if len(s.blocked[watchKey(db, key)]) > 0 {
		s.ready = append(s.ready, readyKey{db, key})
	}
}

// wakeBlockedDB marks every key with blocked clients in database db ready (SWAPDB).
func (s *Server) wakeBlockedDB(db int) {
	for _, c := range s.clients {
		if c.block != nil && c.block.db == db {
			for _, k := range c.block.keys {
				s.ready = append(s.ready, readyKey{db, k})
			}
		}
	}
}

func (s *Server) block(c *client, b *blockState) {
	c.block = b
	if c.blockCh == nil {
		c.blockCh = make(chan blockReply, 1)
	}
	for _, k := range b.keys {
		wk := watchKey(b.db, k)
		s.blocked[wk] = append(s.blocked[wk], c)
	}
	s.blockedClients++
}

func (s *Server) unblock(c *client) {
	for _, k := range c.block.keys {
		wk := watchKey(c.block.db, k)
		list := s.blocked[wk]
		for i, bc := range list {
			if bc == c {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.blocked, wk)
		} else {
			s.blocked[wk] = list
		}
	}
	c.block = nil
	s.blockedClients--
}

// serveBlocked serves the clients blocked on the keys made ready by the last command.
func (s *Server) serveBlocked() {
	for len(s.ready) > 0 {
		rk := s.ready[0]
		s.ready = s.ready[1:]
		for {
			waiting := s.blocked[watchKey(rk.db, rk.key)]
			if len(waiting) == 0 {
				break
			}
			db := s.dbs[rk.db]
			v := db.LookupWrite(rk.key)
			if v == nil || v.Kind != store.KindList || v.List.Len() == 0 {
				break
			}
			c := waiting[0]
			b := c.block
			s.unblock(c)
			c.blockCh <- s.popFor(rk.db, b, []byte(rk.key))
		}
	}
	s.ready = s.ready[:0]
}

// popFor pops key (a non-empty list) for a blocking command, pushes onto BLMOVE's destination,
// and propagates what happened as the non-blocking command.
func (s *Server) popFor(dbIndex int, b *blockState, key []byte) blockReply {
	db := s.dbs[dbIndex]
	if b.move {
		if d := db.LookupWrite(string(b.dst)); d != nil && d.Kind != store.KindList {
			return blockReply{err: errWrongType}
		}
	}
	v := db.LookupWrite(string(key))
	var e []byte
	if b.left {
		e, _ = v.List.PopFront()
	} else {
		e, _ = v.List.PopBack()
	}
	db.Add(-int64(len(e) + 32))
	if v.List.Len() == 0 {
		db.Delete(string(key))
	}
	s.touchKey(dbIndex, string(key))
	if !b.move {
		name := "RPOP"
		if b.left {
			name = "LPOP"
		}
		s.propagate(dbIndex, [][]byte{[]byte(name), key})
		return blockReply{key: key, val: e}
	}
	s.pushList(dbIndex, b.dst, e, b.dstLeft)
	s.propagate(dbIndex, [][]byte{[]byte("LMOVE"), key, b.dst, side(b.left), side(b.dstLeft)})
	return blockReply{val: e}
}

func side(left bool) []byte {
	if left {
		return []byte("LEFT")
	}
	return []byte("RIGHT")
}

// pushList pushes e onto the list at key (created if missing; the caller checked its type).
func (s *Server) pushList(dbIndex int, key, e []byte, left bool) {
	db := s.dbs[dbIndex]
	d := db.LookupWrite(string(key))
	if d == nil {
		d = &store.Value{Kind: store.KindList, List: &store.List{}}
		db.Set(string(key), d, false)
	}
	if left {
		d.List.PushFront(e)
	} else {
		d.List.PushBack(e)
	}
	db.Add(int64(len(e)) + 32)
	s.touchKey(dbIndex, string(key))
	s.signalKey(dbIndex, string(key))
}

// parseTimeout parses a blocking command's timeout in seconds (a float, as Redis 6+).
func parseTimeout(c *client, b []byte) (time.Duration, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > float64(math.MaxInt64/int64(time.Second)) {
		c.err("ERR timeout is not a float or out of range")
		return 0, false
	}
	if f < 0 {
		c.err("ERR timeout is negative")
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// canBlock: inside MULTI/EXEC, a script or the AOF loader a blocking command answers at once as
// if it had timed out, as Redis does.
func (s *Server) canBlock(c *client) bool { return c.conn != nil && s.txnProp == nil }

func cmdBPop(s *Server, c *client, args [][]byte) {
	timeout, ok := parseTimeout(c, args[len(args)-1])
	if !ok {
		return
	}
	left := resp.Equal(args[0], "blpop")
	keys := args[1 : len(args)-1]
	for _, k := range keys {
		v, ok := s.lookupKind(c, k, store.KindList, true)
		if !ok {
			return
		}
		if v == nil || v.List.Len() == 0 {
			continue
		}
		r := s.popFor(s.curDB, &blockState{left: left}, k)
		c.noPropagate = true // popFor propagated the LPOP/RPOP
		c.w.Array(2)
		c.w.Bulk(r.key)
		c.w.Bulk(r.val)
		return
	}
	c.noPropagate = true
	if !s.canBlock(c) {
		c.w.NullArray()
		return
	}
	b := &blockState{db: s.curDB, timeout: timeout, left: left, cmd: resp.Lower(args[0])}
	for _, k := range keys {
		b.keys = append(b.keys, string(k))
	}
	s.block(c, b)
}

func parseSide(c *client, b []byte) (bool, bool) {
	switch {
	case resp.Equal(b, "left"):
		return true, true
	case resp.Equal(b, "right"):
		return false, true
	}
	c.err(errSyntax)
	return false, false
}

// cmdLMove is LMOVE and BLMOVE: pop from source, push onto destination, atomically.
func cmdLMove(s *Server, c *client, args [][]byte) {
	blocking := resp.Equal(args[0], "blmove")
	from, ok := parseSide(c, args[3])
	if !ok {
		return
	}
	to, ok := parseSide(c, args[4])
	if !ok {
		return
	}
	var timeout time.Duration
	if blocking {
		if timeout, ok = parseTimeout(c, args[5]); !ok {
			return
		}
	}
	src, ok := s.lookupKind(c, args[1], store.KindList, true)
	if !ok {
		return
	}
	if _, ok := s.lookupKind(c, args[2], store.KindList, true); !ok {
		return
	}
	b := &blockState{db: s.curDB, timeout: timeout, left: from, move: true, dst: args[2], dstLeft: to, keys: []string{string(args[1])}, cmd: resp.Lower(args[0])}
	c.noPropagate = true
	if src != nil && src.List.Len() > 0 {
		r := s.popFor(s.curDB, b, args[1])
		c.w.Bulk(r.val)
		return
	}
	if !blocking || !s.canBlock(c) {
		c.w.Null()
		return
	}
	s.block(c, b)
}

// waitBlocked waits, outside the executor lock, until c is served, times out, disconnects or
// the server shuts down, then writes the reply. It returns a command the client pipelined
// meanwhile (run next), and false when the connection is done.
func (s *Server) waitBlocked(ctx context.Context, c *client, b *blockState) ([][]byte, bool) {
	var timeout <-chan time.Time
	if b.timeout > 0 {
		t := time.NewTimer(b.timeout)
		defer t.Stop()
		timeout = t.C
	}
	// Reading on is how a disconnect shows; a command that arrives is kept for afterwards.
	type readResult struct {
		args [][]byte
		err  error
	}
	readDone := make(chan readResult, 1)
	before := c.r.Offset()
	go func() {
		args, err := c.r.ReadCommand()
		readDone <- readResult{args, err}
	}()
	var next [][]byte
	reading, alive := true, true
	var reply blockReply
	served := false
wait:
	for {
		select {
		case reply = <-c.blockCh:
			served = true
			break wait
		case <-timeout:
			break wait
		case <-ctx.Done():
			alive = false
			break wait
		case rr := <-readDone:
			reading = false
			if rr.err != nil {
				alive = false
				break wait
			}
			next = rr.args
			readDone = nil // nothing more is read until the client is unblocked
		}
	}
	if reading {
		if err := c.conn.SetReadDeadline(time.Now()); err != nil {
			// Without the deadline the read may never return; closing the connection ends it.
			c.conn.Close()
		}
		rr := <-readDone
		if rr.err == nil {
			next = rr.args
		} else if !errors.Is(rr.err, os.ErrDeadlineExceeded) || c.r.Offset() != before {
			alive = false // a torn request: the stream cannot be resynchronised
		}
		if ctx.Err() == nil {
			if err := c.conn.SetReadDeadline(time.Time{}); err != nil {
				alive = false // the next read would fail at the stale deadline
			}
		}
	}
	if !served {
		s.mu.Lock()
		if c.block != nil {
			s.unblock(c)
		} else {
			reply, served = <-c.blockCh, true // served while we were leaving
		}
		s.mu.Unlock()
	}
	if !alive {
		return nil, false
	}
	c.outMu.Lock()
	switch {
	case !served && b.move:
		c.w.Null()
	case !served:
		c.w.NullArray()
	case reply.err != "":
		c.w.Error(reply.err)
	case b.move:
		c.w.Bulk(reply.val)
	default:
		c.w.Array(2)
		c.w.Bulk(reply.key)
		c.w.Bulk(reply.val)
	}
	err := c.flushOut()
	c.outMu.Unlock()
	return next, err == nil
}
