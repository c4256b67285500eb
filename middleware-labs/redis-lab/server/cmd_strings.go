package server

import (
	"math"
	"strconv"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/store"
)

// parseInt parses as Redis's string2ll: optional '-', digits, no '+', no leading zeros/spaces.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 || b[0] == '+' || (len(b) > 1 && b[0] == '0') ||
		(len(b) > 1 && b[0] == '-' && b[1] == '0') {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	return v, err == nil
}

func parseFloat(b []byte) (float64, bool) {
	s := string(b)
	switch resp.Lower(b) {
	case "inf", "+inf":
		return math.Inf(1), true
	case "-inf":
		return math.Inf(-1), true
	}
	if len(s) == 0 || s[0] == ' ' || s[len(s)-1] == ' ' {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// getString looks up a string value; ok is false after a WRONGTYPE reply was written.
func (s *Server) getString(c *client, key []byte) (v *store.Value, ok bool) {
	v = s.db.Lookup(string(key))
	if v != nil && v.Kind != store.KindString {
		c.err(errWrongType)
		return nil, false
	}
	return v, true
}

func cmdGet(s *Server, c *client, args [][]byte) {
	v, ok := s.getString(c, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.w.Null()
		return
	}
	c.w.Bulk(v.Str)
}

const (
	setNX = 1 << iota
	setXX
	setGet
	setKeepTTL
)

func cmdSet(s *Server, c *client, args [][]byte) {
	if len(args) == 3 {
		// Plain SET of an existing string: update in place, no allocation.
		if s.db.SetStringInPlace(args[1], args[2], false) {
			c.ok()
			return
		}
		s.db.Set(string(args[1]), &store.Value{Kind: store.KindString, Str: args[2]}, false)
		c.ok()
		return
	}
	flags := 0
	var expireAt int64 = -1
	var unitSet bool
	for i := 3; i < len(args); i++ {
		a := args[i]
		hasNext := i+1 < len(args)
		switch {
		case resp.Equal(a, "nx") && flags&setXX == 0:
			flags |= setNX
		case resp.Equal(a, "xx") && flags&setNX == 0:
			flags |= setXX
		case resp.Equal(a, "get"):
			flags |= setGet
		case resp.Equal(a, "keepttl") && !unitSet:
			flags |= setKeepTTL
		case (resp.Equal(a, "ex") || resp.Equal(a, "px") || resp.Equal(a, "exat") || resp.Equal(a, "pxat")) &&
			!unitSet && flags&setKeepTTL == 0 && hasNext:
			n, ok := parseInt(args[i+1])
			if !ok {
				c.err(errNotInt)
				return
			}
			at, ok := absExpire(s, resp.Lower(a), n)
			if !ok {
				c.err("ERR invalid expire time in 'set' command")
				return
			}
			expireAt, unitSet = at, true
			i++
		default:
			c.err(errSyntax)
			return
		}
	}
	key := string(args[1])
	old := s.db.LookupWrite(key)
	if flags&setGet != 0 {
		if old != nil && old.Kind != store.KindString {
			c.err(errWrongType)
			return
		}
	}
	if (flags&setNX != 0 && old != nil) || (flags&setXX != 0 && old == nil) {
		c.noPropagate = true
		if flags&setGet != 0 && old != nil {
			c.w.Bulk(old.Str)
			return
		}
		c.w.Null()
		return
	}
	var oldStr []byte
	if old != nil {
		oldStr = old.Str
	}
	s.db.Set(key, &store.Value{Kind: store.KindString, Str: args[2]}, flags&setKeepTTL != 0)
	if expireAt >= 0 {
		s.db.SetExpire(key, expireAt)
		c.rewrite = [][]byte{[]byte("SET"), args[1], args[2], []byte("PXAT"), strconv.AppendInt(nil, expireAt, 10)}
	} else if flags&setKeepTTL != 0 {
		c.rewrite = [][]byte{[]byte("SET"), args[1], args[2], []byte("KEEPTTL")}
	} else if len(args) > 3 {
		c.rewrite = [][]byte{[]byte("SET"), args[1], args[2]}
	}
	switch {
	case flags&setGet != 0 && old != nil:
		c.w.Bulk(oldStr)
	case flags&setGet != 0:
		c.w.Null()
	default:
		c.ok()
	}
}

// absExpire turns an EX/PX/EXAT/PXAT argument into unix ms, rejecting values Redis rejects.
func absExpire(s *Server, unit string, n int64) (int64, bool) {
	if n <= 0 {
		return 0, false
	}
	const maxMs = math.MaxInt64 / 2
	switch unit {
	case "ex":
		if n > maxMs/1000 {
			return 0, false
		}
		return s.db.NowMs() + n*1000, true
	case "px":
		if n > maxMs {
			return 0, false
		}
		return s.db.NowMs() + n, true
	case "exat":
		if n > maxMs/1000 {
			return 0, false
		}
		return n * 1000, true
	default:
		return n, true
	}
}

func cmdSetNX(s *Server, c *client, args [][]byte) {
	key := string(args[1])
	if s.db.LookupWrite(key) != nil {
		c.noPropagate = true
		c.w.Int(0)
		return
	}
	s.db.Set(key, &store.Value{Kind: store.KindString, Str: args[2]}, false)
	c.w.Int(1)
}

func cmdSetEX(s *Server, c *client, args [][]byte) {
	n, ok := parseInt(args[2])
	if !ok {
		c.err(errNotInt)
		return
	}
	at, ok := absExpire(s, "ex", n)
	if !ok {
		c.err("ERR invalid expire time in 'setex' command")
		return
	}
	key := string(args[1])
	s.db.Set(key, &store.Value{Kind: store.KindString, Str: args[3]}, false)
	s.db.SetExpire(key, at)
	c.rewrite = [][]byte{[]byte("SET"), args[1], args[3], []byte("PXAT"), strconv.AppendInt(nil, at, 10)}
	c.ok()
}

func cmdGetDel(s *Server, c *client, args [][]byte) {
	v, ok := s.getString(c, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.noPropagate = true
		c.w.Null()
		return
	}
	str := v.Str
	s.db.Delete(string(args[1]))
	c.rewrite = [][]byte{[]byte("DEL"), args[1]}
	c.w.Bulk(str)
}

func cmdMGet(s *Server, c *client, args [][]byte) {
	c.w.Array(len(args) - 1)
	for _, k := range args[1:] {
		v := s.db.Lookup(string(k))
		if v == nil || v.Kind != store.KindString {
			c.w.Null()
			continue
		}
		c.w.Bulk(v.Str)
	}
}

func cmdMSet(s *Server, c *client, args [][]byte) {
	if len(args)%2 != 1 {
		c.err(errArity("mset"))
		return
	}
	for i := 1; i < len(args); i += 2 {
		s.db.Set(string(args[i]), &store.Value{Kind: store.KindString, Str: args[i+1]}, false)
	}
	c.ok()
}

func cmdIncr(s *Server, c *client, args [][]byte) {
	var delta int64 = 1
	name := resp.Lower(args[0])
	if len(args) == 3 {
		d, ok := parseInt(args[2])
		if !ok {
			c.err(errNotInt)
			return
		}
		delta = d
	}
	if name == "decr" || name == "decrby" {
		if delta == math.MinInt64 {
			c.err("ERR decrement would overflow")
			return
		}
		delta = -delta
	}
	v, ok := s.getString(c, args[1])
	if !ok {
		return
	}
	var cur int64
	if v != nil {
		n, ok := parseInt(v.Str)
		if !ok {
			c.err(errNotInt)
			return
		}
		cur = n
	}
	if (delta < 0 && cur < 0 && delta < math.MinInt64-cur) || (delta > 0 && cur > 0 && delta > math.MaxInt64-cur) {
		c.err(errOverflow)
		return
	}
	cur += delta
	s.db.Set(string(args[1]), &store.Value{Kind: store.KindString, Str: strconv.AppendInt(nil, cur, 10)}, true)
	c.w.Int(cur)
}

func cmdAppend(s *Server, c *client, args [][]byte) {
	v, ok := s.getString(c, args[1])
	if !ok {
		return
	}
	var nv []byte
	if v != nil {
		nv = append(append(make([]byte, 0, len(v.Str)+len(args[2])), v.Str...), args[2]...)
	} else {
		nv = args[2]
	}
	enc := store.EncAuto // a new key stores the argument as SET would
	if v != nil {
		enc = store.EncRaw
	}
	s.db.Set(string(args[1]), &store.Value{Kind: store.KindString, Str: nv, Enc: enc}, true)
	c.w.Int(int64(len(nv)))
}

func cmdStrlen(s *Server, c *client, args [][]byte) {
	v, ok := s.getString(c, args[1])
	if !ok {
		return
	}
	if v == nil {
		c.w.Int(0)
		return
	}
	c.w.Int(int64(len(v.Str)))
}

// keys

func cmdDel(s *Server, c *client, args [][]byte) {
	var n int64
	for _, k := range args[1:] {
		if s.db.Delete(string(k)) {
			n++
		}
	}
	if n == 0 {
		c.noPropagate = true
	}
	c.w.Int(n)
}

// cmdUnlink detaches the keys in O(1) and hands their values to the lazy-free goroutine. Small
// values are released inline, as Redis does below lazyfree's effort threshold.
func cmdUnlink(s *Server, c *client, args [][]byte) {
	var n int64
	for _, k := range args[1:] {
		v, ok := s.db.Unlink(string(k))
		if !ok {
			continue
		}
		n++
		if freeEffort(v) <= 64 {
			s.db.Add(-store.ReleaseDetached(v))
			continue
		}
		select {
		case s.lazyfree <- lazyItem{s.db, v}:
		default: // queue full: free inline rather than block the executor forever
			s.db.Add(-store.ReleaseDetached(v))
		}
	}
	if n == 0 {
		c.noPropagate = true
	}
	c.w.Int(n)
}

func freeEffort(v *store.Value) int {
	switch v.Kind {
	case store.KindHash:
		return len(v.Hash)
	case store.KindSet:
		return len(v.Set)
	case store.KindList:
		return v.List.Len()
	case store.KindZSet:
		return v.ZSet.Len()
	}
	return 1
}

func cmdExists(s *Server, c *client, args [][]byte) {
	var n int64
	for _, k := range args[1:] {
		if s.db.Exists(string(k)) {
			n++
		}
	}
	c.w.Int(n)
}

// cmdExpire implements EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with Redis 7's NX/XX/GT/LT options,
// and propagates the absolute PEXPIREAT so an AOF replay later does not extend the TTL.
func cmdExpire(s *Server, c *client, args [][]byte) {
	name := resp.Lower(args[0])
	n, ok := parseInt(args[2])
	if !ok {
		c.err(errNotInt)
		return
	}
	var nx, xx, gt, lt bool
	for _, o := range args[3:] {
		switch {
		case resp.Equal(o, "nx"):
			nx = true
		case resp.Equal(o, "xx"):
			xx = true
		case resp.Equal(o, "gt"):
			gt = true
		case resp.Equal(o, "lt"):
			lt = true
		default:
			c.err("ERR Unsupported option " + string(o))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.err("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if gt && lt {
		c.err("ERR GT and LT options at the same time are not compatible")
		return
	}
	const limit = math.MaxInt64 / 2
	var at int64
	switch name {
	case "expire":
		if n > limit/1000 || n < -limit/1000 {
			c.err("ERR invalid expire time in 'expire' command")
			return
		}
		at = s.db.NowMs() + n*1000
	case "pexpire":
		if n > limit || n < -limit {
			c.err("ERR invalid expire time in 'pexpire' command")
			return
		}
		at = s.db.NowMs() + n
	case "expireat":
		if n > limit/1000 || n < -limit/1000 {
			c.err("ERR invalid expire time in 'expireat' command")
			return
		}
		at = n * 1000
	default:
		at = n
	}
	key := string(args[1])
	if s.db.LookupWrite(key) == nil {
		c.noPropagate = true
		c.w.Int(0)
		return
	}
	cur, has := s.db.TTL(key)
	if (nx && has) || (xx && !has) || (gt && (!has || at <= cur)) || (lt && has && at >= cur) {
		c.noPropagate = true
		c.w.Int(0)
		return
	}
	if at <= s.db.NowMs() {
		s.db.Delete(key)
		c.rewrite = [][]byte{[]byte("DEL"), args[1]}
		c.w.Int(1)
		return
	}
	s.db.SetExpire(key, at)
	c.rewrite = [][]byte{[]byte("PEXPIREAT"), args[1], strconv.AppendInt(nil, at, 10)}
	c.w.Int(1)
}

func cmdTTL(s *Server, c *client, args [][]byte) {
	key := string(args[1])
	if s.db.LookupWrite(key) == nil {
		c.w.Int(-2)
		return
	}
	at, ok := s.db.TTL(key)
	if !ok {
		c.w.Int(-1)
		return
	}
	ms := max(at-s.db.NowMs(), 0)
	if resp.Equal(args[0], "pttl") {
		c.w.Int(ms)
		return
	}
	c.w.Int((ms + 500) / 1000)
}

func cmdPersist(s *Server, c *client, args [][]byte) {
	key := string(args[1])
	if s.db.LookupWrite(key) == nil || !s.db.Persist(key) {
		c.noPropagate = true
		c.w.Int(0)
		return
	}
	c.w.Int(1)
}

func cmdType(s *Server, c *client, args [][]byte) {
	k := s.db.Type(string(args[1]))
	c.w.Simple(k.String())
}

func cmdScan(s *Server, c *client, args [][]byte) {
	cursor, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		c.err("ERR invalid cursor")
		return
	}
	opts, errReply := parseScanOptions(args[2:], true)
	if errReply != "" {
		c.err(errReply)
		return
	}
	count, pattern, typ := opts.count, opts.pattern, opts.typ
	keys, next := s.db.Scan(cursor, count, func(k string) bool {
		if pattern != nil && !matchesKey(pattern, k) {
			return false
		}
		return typ == "" || s.db.Type(k).String() == typ
	})
	c.w.Array(2)
	c.w.BulkString(strconv.FormatUint(next, 10))
	c.w.Array(len(keys))
	for _, k := range keys {
		c.w.BulkString(k)
	}
}

// matchesKey is KEYS's and SCAN's test: the pattern "*" takes every key without matching, so it
// includes the empty key, which stringmatchlen alone would not match.
func matchesKey(pattern []byte, key string) bool {
	return (len(pattern) == 1 && pattern[0] == '*') || globMatch(pattern, []byte(key))
}

func cmdKeys(s *Server, c *client, args [][]byte) {
	var out []string
	for _, k := range s.db.Keys() {
		if matchesKey(args[1], k) && s.db.Exists(k) {
			out = append(out, k)
		}
	}
	c.w.Array(len(out))
	for _, k := range out {
		c.w.BulkString(k)
	}
}

var _ = time.Second
