package server

import (
	"math/big"
	"strings"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/store"
)

// longDouble is the precision of the C long double (x87 80-bit: a 64-bit mantissa) that
// Redis's INCRBYFLOAT computes in; big.Float with it gives the same digits as Redis.
const longDouble = 64

// parseLongDouble parses as Redis's string2ld (strtold): no surrounding spaces, the whole
// string, no NaN.
func parseLongDouble(b []byte) (*big.Float, bool) {
	s := string(b)
	if s == "" || strings.TrimSpace(s) != s {
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 0, longDouble, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	return f, true
}

// formatLongDouble renders as Redis's ld2string in human-friendly mode: "%.17Lf" with the
// trailing zeros (and a trailing point) removed.
func formatLongDouble(f *big.Float) string {
	s := f.Text('f', 17)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// maxLongDoubleExp is the binary exponent past which a long double is infinite.
const maxLongDoubleExp = 16384

func cmdIncrByFloat(s *Server, c *client, args [][]byte) {
	v, ok := s.getString(c, args[1])
	if !ok {
		return
	}
	cur := new(big.Float).SetPrec(longDouble)
	if v != nil {
		if cur, ok = parseLongDouble(v.Str); !ok {
			c.err(errNotFloat)
			return
		}
	}
	incr, ok := parseLongDouble(args[2])
	if !ok {
		c.err(errNotFloat)
		return
	}
	if cur.IsInf() || incr.IsInf() {
		c.err("ERR increment would produce NaN or Infinity")
		return
	}
	sum := new(big.Float).SetPrec(longDouble).SetMode(big.ToNearestEven).Add(cur, incr)
	if sum.MantExp(nil) > maxLongDoubleExp {
		c.err("ERR increment would produce NaN or Infinity")
		return
	}
	out := []byte(formatLongDouble(sum))
	s.db.Set(string(args[1]), &store.Value{Kind: store.KindString, Str: out, Enc: store.EncNumber}, true)
	// Replicas and the AOF get the result, not the increment, as Redis propagates it.
	c.rewrite = [][]byte{[]byte("SET"), args[1], out, []byte("KEEPTTL")}
	c.w.Bulk(out)
}

// setMembers lists a set's members in map order, for random picks.
func setMembers(v *store.Value) []string {
	out := make([]string, 0, len(v.Set))
	for m := range v.Set {
		out = append(out, m)
	}
	return out
}

// parseSetCount parses SPOP's and SRANDMEMBER's count.
func parseSetCount(c *client, b []byte, allowNegative bool) (int64, bool) {
	n, ok := parseInt(b)
	if !ok || (!allowNegative && n < 0) {
		c.err("ERR value is out of range, must be positive")
		return 0, false
	}
	return n, true
}

func cmdSPop(s *Server, c *client, args [][]byte) {
	if len(args) > 3 {
		c.err(errSyntax)
		return
	}
	withCount := len(args) == 3
	count := int64(1)
	if withCount {
		var ok bool
		if count, ok = parseSetCount(c, args[2], false); !ok {
			return
		}
	}
	v, ok := s.lookupKind(c, args[1], store.KindSet, true)
	if !ok {
		return
	}
	if v == nil || count == 0 {
		c.noPropagate = true
		if withCount {
			c.w.Set(0)
		} else {
			c.w.Null()
		}
		return
	}
	members := setMembers(v)
	rnd := s.db.Rand()
	rnd.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	members = members[:min(int64(len(members)), count)]
	srem := [][]byte{[]byte("SREM"), args[1]}
	for _, m := range members {
		delete(v.Set, m)
		s.db.Add(-int64(len(m)) - 32)
		srem = append(srem, []byte(m))
	}
	if len(v.Set) == 0 {
		s.db.Delete(string(args[1]))
	}
	// The AOF gets the members actually removed: a replay must not pick new random ones.
	c.rewrite = srem
	if !withCount {
		c.w.BulkString(members[0])
		return
	}
	c.w.Set(len(members))
	for _, m := range members {
		c.w.BulkString(m)
	}
}

func cmdSRandMember(s *Server, c *client, args [][]byte) {
	if len(args) > 3 {
		c.err(errSyntax)
		return
	}
	withCount := len(args) == 3
	var count int64
	if withCount {
		n, ok := parseInt(args[2])
		if !ok {
			c.err(errNotInt)
			return
		}
		// Redis 7.0 bounds the count so that -count cannot overflow.
		if n < -(1<<62) || n > 1<<62 {
			c.err("ERR value is out of range")
			return
		}
		count = n
	}
	v, ok := s.lookupKind(c, args[1], store.KindSet, false)
	if !ok {
		return
	}
	if !withCount {
		if v == nil {
			c.w.Null()
			return
		}
		for m := range v.Set {
			c.w.BulkString(m)
			return
		}
	}
	if v == nil || count == 0 {
		c.w.Array(0)
		return
	}
	members := setMembers(v)
	rnd := s.db.Rand()
	if count < 0 {
		// Negative: |count| independent picks, repeats allowed.
		n := -count
		c.w.Array(int(n))
		for range n {
			c.w.BulkString(members[rnd.IntN(len(members))])
		}
		return
	}
	rnd.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	members = members[:min(int64(len(members)), count)]
	c.w.Array(len(members))
	for _, m := range members {
		c.w.BulkString(m)
	}
}

// cmdObject serves OBJECT ENCODING, REFCOUNT, FREQ and HELP.
func cmdObject(s *Server, c *client, args [][]byte) {
	sub := resp.Lower(args[1])
	if sub == "help" {
		lines := []string{"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"ENCODING <key>", "    Return the kind of internal representation used in order to store the value",
			"    associated with a <key>.", "FREQ <key>", "REFCOUNT <key>", "HELP", "    Print this help."}
		c.w.Array(len(lines))
		for _, l := range lines {
			c.w.Simple(l)
		}
		return
	}
	switch sub {
	case "encoding", "refcount", "freq":
	default:
		c.err(unknownSubcommand(args[1], "object"))
		return
	}
	if len(args) != 3 {
		c.err(errArity("object|" + sub))
		return
	}
	v := s.db.LookupWrite(string(args[2]))
	if v == nil {
		c.w.Null()
		return
	}
	switch sub {
	case "encoding":
		c.w.BulkString(s.encoding(v))
	case "refcount":
		// Redis shares the integers 0..9999 between keys (OBJ_SHARED_REFCOUNT).
		if n, ok := parseInt(v.Str); ok && v.Kind == store.KindString && v.Enc == store.EncAuto && n >= 0 && n < 10000 {
			c.w.Int(2147483647)
			return
		}
		c.w.Int(1)
	case "freq":
		c.err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	}
}

// embstrMax is OBJ_ENCODING_EMBSTR_SIZE_LIMIT: strings up to 44 bytes live in one allocation.
const embstrMax = 44

// encoding is the name Redis 7.0 would give v's encoding for its size and the configured
// thresholds. The mini Redis stores every type one way (Go maps, a ring buffer, a skiplist);
// the answer describes what Redis would do, which is what clients and tests inspect.
func (s *Server) encoding(v *store.Value) string {
	cfg := s.config
	switch v.Kind {
	case store.KindString:
		if v.Enc == store.EncRaw {
			return "raw"
		}
		if _, ok := parseInt(v.Str); ok && v.Enc == store.EncAuto && len(v.Str) <= 20 {
			return "int"
		}
		if len(v.Str) <= embstrMax {
			return "embstr"
		}
		return "raw"
	case store.KindList:
		return "quicklist" // Redis 7.0 always; listpack lists came in 7.2
	case store.KindSet:
		if v.Enc == store.EncBig || int64(len(v.Set)) > cfg.intValue("set-max-intset-entries") {
			return "hashtable"
		}
		for m := range v.Set {
			if _, ok := parseInt([]byte(m)); !ok {
				return "hashtable"
			}
		}
		return "intset"
	case store.KindHash:
		if v.Enc == store.EncBig || int64(len(v.Hash)) > cfg.intValue("hash-max-listpack-entries") {
			return "hashtable"
		}
		return "listpack"
	case store.KindZSet:
		if v.Enc == store.EncBig || int64(v.ZSet.Len()) > cfg.intValue("zset-max-listpack-entries") {
			return "skiplist"
		}
		return "listpack"
	}
	return "unknown"
}

// The writes below record a one-way conversion the moment Redis would make it.

func (s *Server) noteHashWrite(v *store.Value, args [][]byte) {
	if v.Enc == store.EncBig {
		return
	}
	maxLen := s.config.intValue("hash-max-listpack-value")
	for _, a := range args {
		if int64(len(a)) > maxLen {
			v.Enc = store.EncBig
			return
		}
	}
	if int64(len(v.Hash)) > s.config.intValue("hash-max-listpack-entries") {
		v.Enc = store.EncBig
	}
}

func (s *Server) noteSetWrite(v *store.Value, members [][]byte) {
	if v.Enc == store.EncBig {
		return
	}
	for _, m := range members {
		if _, ok := parseInt(m); !ok {
			v.Enc = store.EncBig
			return
		}
	}
	if int64(len(v.Set)) > s.config.intValue("set-max-intset-entries") {
		v.Enc = store.EncBig
	}
}

func (s *Server) noteZSetWrite(v *store.Value, members [][]byte) {
	if v.Enc == store.EncBig {
		return
	}
	maxLen := s.config.intValue("zset-max-listpack-value")
	for _, m := range members {
		if int64(len(m)) > maxLen {
			v.Enc = store.EncBig
			return
		}
	}
	if int64(v.ZSet.Len()) > s.config.intValue("zset-max-listpack-entries") {
		v.Enc = store.EncBig
	}
}
