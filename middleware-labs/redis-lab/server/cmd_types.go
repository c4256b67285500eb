package server

import (
	"math"
	"strconv"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/store"
)

// lookupKind returns key's value when it has kind k; ok is false after a WRONGTYPE reply.
func (s *Server) lookupKind(c *client, key []byte, k store.Kind, write bool) (*store.Value, bool) {
	var v *store.Value
	if write {
		v = s.db.LookupWrite(string(key))
	} else {
		v = s.db.Lookup(string(key))
	}
	if v != nil && v.Kind != k {
		c.err(errWrongType)
		return nil, false
	}
	return v, true
}

// Hashes.

func cmdHSet(s *Server, c *client, args [][]byte) {
	if len(args)%2 != 0 {
		c.err(errArity(resp.Lower(args[0])))
		return
	}
	v, ok := s.lookupKind(c, args[1], store.KindHash, true)
	if !ok {
		return
	}
	if v == nil {
		v = &store.Value{Kind: store.KindHash, Hash: make(map[string][]byte, (len(args)-2)/2)}
		s.db.Set(string(args[1]), v, false)
	}
	var added int64
	var delta int64
	for i := 2; i < len(args); i += 2 {
		f := string(args[i])
		if old, ok := v.Hash[f]; ok {
			delta -= int64(len(old))
		} else {
			added++
			delta += int64(len(f)) + 32
		}
		v.Hash[f] = args[i+1]
		delta += int64(len(args[i+1]))
	}
	s.db.Add(delta)
	s.noteHashWrite(v, args[2:])
	if resp.Equal(args[0], "hmset") {
		c.ok()
		return
	}
	c.w.Int(added)
}

func cmdHGet(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindHash, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Null()
		return
	}
	val, found := v.Hash[string(args[2])]
	if !found {
		c.w.Null()
		return
	}
	c.w.Bulk(val)
}

func cmdHMGet(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindHash, false)
	if !ok {
		return
	}
	c.w.Array(len(args) - 2)
	for _, f := range args[2:] {
		if v == nil {
			c.w.Null()
			continue
		}
		if val, found := v.Hash[string(f)]; found {
			c.w.Bulk(val)
		} else {
			c.w.Null()
		}
	}
}

func cmdHDel(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindHash, true)
	if !ok {
		return
	}
	var n int64
	if v != nil {
		for _, f := range args[2:] {
			if old, found := v.Hash[string(f)]; found {
				delete(v.Hash, string(f))
				s.db.Add(-int64(len(f) + len(old) + 32))
				n++
			}
		}
		if len(v.Hash) == 0 {
			s.db.Delete(string(args[1]))
		}
	}
	if n == 0 {
		c.noPropagate = true
	}
	c.w.Int(n)
}

func cmdHGetAll(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindHash, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Map(0)
		return
	}
	c.w.Map(len(v.Hash))
	for f, val := range v.Hash {
		c.w.BulkString(f)
		c.w.Bulk(val)
	}
}

func cmdHLen(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindHash, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Int(0)
		return
	}
	c.w.Int(int64(len(v.Hash)))
}

func cmdHExists(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindHash, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Int(0)
		return
	}
	_, found := v.Hash[string(args[2])]
	c.w.Bool(found)
}

// Lists.

func cmdPush(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindList, true)
	if !ok {
		return
	}
	if v == nil {
		v = &store.Value{Kind: store.KindList, List: &store.List{}}
		s.db.Set(string(args[1]), v, false)
	}
	front := resp.Equal(args[0], "lpush")
	var delta int64
	for _, e := range args[2:] {
		if front {
			v.List.PushFront(e)
		} else {
			v.List.PushBack(e)
		}
		delta += int64(len(e)) + 32
	}
	s.db.Add(delta)
	s.signalKey(s.curDB, string(args[1]))
	c.w.Int(int64(v.List.Len()))
}

func cmdPop(s *Server, c *client, args [][]byte) {
	if len(args) > 3 {
		c.err(errSyntax)
		return
	}
	count, withCount := int64(1), len(args) == 3
	if withCount {
		n, ok := parseInt(args[2])
		if !ok || n < 0 {
			c.err("ERR value is out of range, must be positive")
			return
		}
		count = n
	}
	v, ok := s.lookupKind(c, args[1], store.KindList, true)
	if !ok {
		return
	}
	if v == nil {
		c.noPropagate = true
		if withCount {
			c.w.NullArray()
		} else {
			c.w.Null()
		}
		return
	}
	front := resp.Equal(args[0], "lpop")
	var out [][]byte
	for i := int64(0); i < count; i++ {
		var e []byte
		var got bool
		if front {
			e, got = v.List.PopFront()
		} else {
			e, got = v.List.PopBack()
		}
		if !got {
			break
		}
		s.db.Add(-int64(len(e) + 32))
		out = append(out, e)
	}
	if v.List.Len() == 0 {
		s.db.Delete(string(args[1]))
	}
	if !withCount {
		c.w.Bulk(out[0])
		return
	}
	c.w.Array(len(out))
	for _, e := range out {
		c.w.Bulk(e)
	}
}

// normRange turns Redis start/stop (negative from the end) into an inclusive [lo, hi] within n.
func normRange(start, stop int64, n int) (int, int, bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	start = max(start, 0)
	if start > stop || start >= ln {
		return 0, 0, false
	}
	stop = min(stop, ln-1)
	return int(start), int(stop), true
}

func cmdLRange(s *Server, c *client, args [][]byte) {
	start, ok1 := parseInt(args[2])
	stop, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.err(errNotInt)
		return
	}
	v, ok := s.lookupKind(c, args[1], store.KindList, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Array(0)
		return
	}
	lo, hi, any := normRange(start, stop, v.List.Len())
	if !any {
		c.w.Array(0)
		return
	}
	c.w.Array(hi - lo + 1)
	for i := lo; i <= hi; i++ {
		c.w.Bulk(v.List.At(i))
	}
}

func cmdLLen(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindList, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Int(0)
		return
	}
	c.w.Int(int64(v.List.Len()))
}

// Sets.

func cmdSAdd(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindSet, true)
	if !ok {
		return
	}
	if v == nil {
		v = &store.Value{Kind: store.KindSet, Set: make(map[string]struct{}, len(args)-2)}
		s.db.Set(string(args[1]), v, false)
	}
	var n int64
	for _, m := range args[2:] {
		if _, found := v.Set[string(m)]; !found {
			v.Set[string(m)] = struct{}{}
			s.db.Add(int64(len(m)) + 32)
			n++
		}
	}
	s.noteSetWrite(v, args[2:])
	c.w.Int(n)
}

func cmdSRem(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindSet, true)
	if !ok {
		return
	}
	var n int64
	if v != nil {
		for _, m := range args[2:] {
			if _, found := v.Set[string(m)]; found {
				delete(v.Set, string(m))
				s.db.Add(-int64(len(m)) - 32)
				n++
			}
		}
		if len(v.Set) == 0 {
			s.db.Delete(string(args[1]))
		}
	}
	if n == 0 {
		c.noPropagate = true
	}
	c.w.Int(n)
}

func cmdSMembers(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindSet, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Set(0)
		return
	}
	c.w.Set(len(v.Set))
	for m := range v.Set {
		c.w.BulkString(m)
	}
}

func cmdSIsMember(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindSet, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Int(0)
		return
	}
	_, found := v.Set[string(args[2])]
	if found {
		c.w.Int(1)
	} else {
		c.w.Int(0)
	}
}

func cmdSCard(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindSet, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Int(0)
		return
	}
	c.w.Int(int64(len(v.Set)))
}

// Sorted sets.

func cmdZAdd(s *Server, c *client, args [][]byte) {
	var nx, xx, gt, lt, ch, incr bool
	i := 2
	for ; i < len(args); i++ {
		switch {
		case resp.Equal(args[i], "nx"):
			nx = true
		case resp.Equal(args[i], "xx"):
			xx = true
		case resp.Equal(args[i], "gt"):
			gt = true
		case resp.Equal(args[i], "lt"):
			lt = true
		case resp.Equal(args[i], "ch"):
			ch = true
		case resp.Equal(args[i], "incr"):
			incr = true
		default:
			goto pairs
		}
	}
pairs:
	rest := args[i:]
	if len(rest) == 0 || len(rest)%2 != 0 {
		c.err(errSyntax)
		return
	}
	if nx && xx {
		c.err("ERR XX and NX options at the same time are not compatible")
		return
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		c.err("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	}
	if incr && len(rest) > 2 {
		c.err("ERR INCR option supports a single increment-element pair")
		return
	}
	scores := make([]float64, len(rest)/2)
	for j := range scores {
		f, ok := parseFloat(rest[2*j])
		if !ok {
			c.err(errNotFloat)
			return
		}
		scores[j] = f
	}
	v, ok := s.lookupKind(c, args[1], store.KindZSet, true)
	if !ok {
		return
	}
	if v == nil {
		if xx {
			c.noPropagate = true
			if incr {
				c.w.Null()
			} else {
				c.w.Int(0)
			}
			return
		}
		v = &store.Value{Kind: store.KindZSet, ZSet: store.NewZSet(s.db.Rand())}
		if s.config.intValue("zset-max-listpack-entries") == 0 {
			v.Enc = store.EncBig
		}
		s.db.Set(string(args[1]), v, false)
	}
	var added, changed int64
	var last float64
	lastOK := false
	for j, score := range scores {
		m := string(rest[2*j+1])
		cur, exists := v.ZSet.Score(m)
		if (nx && exists) || (xx && !exists) {
			continue
		}
		if incr && exists {
			score += cur
			if math.IsNaN(score) {
				c.err("ERR resulting score is not a number (NaN)")
				return
			}
		}
		if exists && ((gt && score <= cur) || (lt && score >= cur)) {
			continue
		}
		a, chg := v.ZSet.Add(score, m)
		if a {
			added++
			s.db.Add(int64(len(m)) + 64)
		}
		if chg {
			changed++
		}
		last, lastOK = score, true
	}
	if v.ZSet.Len() == 0 {
		s.db.Delete(string(args[1]))
	}
	members := make([][]byte, 0, len(scores))
	for j := range scores {
		members = append(members, rest[2*j+1])
	}
	s.noteZSetWrite(v, members)
	if incr {
		if !lastOK {
			c.w.Null()
			return
		}
		c.w.Double(last)
		return
	}
	if ch {
		c.w.Int(added + changed)
		return
	}
	c.w.Int(added)
}

func (s *Server) writeMembers(c *client, ms []store.Member, withScores bool) {
	if !withScores {
		c.w.Array(len(ms))
		for _, m := range ms {
			c.w.BulkString(m.Name)
		}
		return
	}
	if c.proto >= 3 {
		c.w.Array(len(ms))
		for _, m := range ms {
			c.w.Array(2)
			c.w.BulkString(m.Name)
			c.w.Double(m.Score)
		}
		return
	}
	c.w.Array(2 * len(ms))
	for _, m := range ms {
		c.w.BulkString(m.Name)
		c.w.Double(m.Score)
	}
}

// parseScoreBound parses a ZRANGEBYSCORE bound: a float, "(" for exclusive, +inf/-inf.
func parseScoreBound(b []byte) (float64, bool, bool) {
	ex := false
	if len(b) > 0 && b[0] == '(' {
		ex, b = true, b[1:]
	}
	f, ok := parseFloat(b)
	return f, ex, ok
}

func cmdZRange(s *Server, c *client, args [][]byte) {
	var byScore, rev, withScores, limit bool
	offset, count := int64(0), int64(-1)
	for i := 4; i < len(args); i++ {
		switch {
		case resp.Equal(args[i], "byscore"):
			byScore = true
		case resp.Equal(args[i], "rev"):
			rev = true
		case resp.Equal(args[i], "withscores"):
			withScores = true
		case resp.Equal(args[i], "limit") && i+2 < len(args):
			o, ok1 := parseInt(args[i+1])
			n, ok2 := parseInt(args[i+2])
			if !ok1 || !ok2 {
				c.err(errNotInt)
				return
			}
			offset, count, limit = o, n, true
			i += 2
		default:
			c.err(errSyntax)
			return
		}
	}
	if limit && !byScore {
		c.err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if byScore {
		lo, hi := args[2], args[3]
		if rev {
			lo, hi = hi, lo
		}
		s.zrangeByScore(c, args[1], lo, hi, rev, withScores, offset, count)
		return
	}
	start, ok1 := parseInt(args[2])
	stop, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.err(errNotInt)
		return
	}
	v, ok := s.lookupKind(c, args[1], store.KindZSet, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Array(0)
		return
	}
	lo, hi, any := normRange(start, stop, v.ZSet.Len())
	if !any {
		c.w.Array(0)
		return
	}
	s.writeMembers(c, v.ZSet.RangeByRank(lo, hi, rev), withScores)
}

func cmdZRevRange(s *Server, c *client, args [][]byte) {
	if len(args) > 5 || (len(args) == 5 && !resp.Equal(args[4], "withscores")) {
		c.err(errSyntax)
		return
	}
	cmdZRange(s, c, append(append([][]byte{}, args...), []byte("REV")))
}

func cmdZRangeByScore(s *Server, c *client, args [][]byte) {
	var withScores bool
	offset, count := int64(0), int64(-1)
	for i := 4; i < len(args); i++ {
		switch {
		case resp.Equal(args[i], "withscores"):
			withScores = true
		case resp.Equal(args[i], "limit") && i+2 < len(args):
			o, ok1 := parseInt(args[i+1])
			n, ok2 := parseInt(args[i+2])
			if !ok1 || !ok2 {
				c.err(errNotInt)
				return
			}
			offset, count = o, n
			i += 2
		default:
			c.err(errSyntax)
			return
		}
	}
	s.zrangeByScore(c, args[1], args[2], args[3], false, withScores, offset, count)
}

func (s *Server) zrangeByScore(c *client, key, minB, maxB []byte, rev, withScores bool, offset, count int64) {
	lo, loEx, ok1 := parseScoreBound(minB)
	hi, hiEx, ok2 := parseScoreBound(maxB)
	if !ok1 || !ok2 {
		c.err(errMinMax)
		return
	}
	v, ok := s.lookupKind(c, key, store.KindZSet, false)
	if !ok {
		return
	}
	if v == nil || offset < 0 {
		c.w.Array(0)
		return
	}
	var ms []store.Member
	if rev {
		all := v.ZSet.RangeByScore(lo, hi, loEx, hiEx, 0, -1)
		for i := len(all) - 1 - int(offset); i >= 0 && (count < 0 || int64(len(ms)) < count); i-- {
			ms = append(ms, all[i])
		}
	} else {
		ms = v.ZSet.RangeByScore(lo, hi, loEx, hiEx, int(min(offset, math.MaxInt32)), int(max(min(count, math.MaxInt32), -1)))
	}
	s.writeMembers(c, ms, withScores)
}

func cmdZScore(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindZSet, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Null()
		return
	}
	sc, found := v.ZSet.Score(string(args[2]))
	if !found {
		c.w.Null()
		return
	}
	c.w.Double(sc)
}

func cmdZRem(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindZSet, true)
	if !ok {
		return
	}
	var n int64
	if v != nil {
		for _, m := range args[2:] {
			if v.ZSet.Remove(string(m)) {
				s.db.Add(-int64(len(m)) - 64)
				n++
			}
		}
		if v.ZSet.Len() == 0 {
			s.db.Delete(string(args[1]))
		}
	}
	if n == 0 {
		c.noPropagate = true
	}
	c.w.Int(n)
}

func cmdZCard(s *Server, c *client, args [][]byte) {
	v, ok := s.lookupKind(c, args[1], store.KindZSet, false)
	if !ok {
		return
	}
	if v == nil {
		c.w.Int(0)
		return
	}
	c.w.Int(int64(v.ZSet.Len()))
}

var _ = strconv.Itoa
