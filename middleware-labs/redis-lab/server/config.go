package server

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/store"
)

type configKind uint8

const (
	cfgString configKind = iota
	cfgBool
	cfgInt
	cfgMemory
	cfgMemoryOrPercent
	cfgEnum
	cfgSave
	cfgKeyspaceEvents
	cfgImmutable
	cfgProtected
	cfgUnsupported // settable in Redis, refused here: the mini Redis has no authentication
)

type configParam struct {
	name     string
	kind     configKind
	def      string
	min, max int64
	enum     []string
}

// configStore holds every parameter's current value by canonical name.
type configStore struct {
	params map[string]*configParam
	values map[string]string
	ints   map[string]int64 // numeric values parsed once: the encoding checks read them per write
	names  []string         // canonical names and aliases, sorted, for CONFIG GET
}

func newConfigStore() *configStore {
	cs := &configStore{params: map[string]*configParam{}, values: map[string]string{}, ints: map[string]int64{}}
	for i := range configTable {
		p := &configTable[i]
		cs.params[p.name] = p
		cs.store(p.name, p.def)
		cs.names = append(cs.names, p.name)
	}
	for a := range configAliases {
		cs.names = append(cs.names, a)
	}
	sort.Strings(cs.names)
	return cs
}

func canonical(name string) string {
	if c, ok := configAliases[name]; ok {
		return c
	}
	return name
}

func (cs *configStore) store(name, v string) {
	cs.values[name] = v
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		cs.ints[name] = n
	}
}

// intValue is a numeric parameter's current value (the encoding thresholds).
func (cs *configStore) intValue(name string) int64 { return cs.ints[name] }

// parseMemory parses Redis's memory values: bytes, or a number with k/kb/m/mb/g/gb (k = 1000,
// kb = 1024), case-insensitive.
func parseMemory(v string) (int64, bool) {
	l := strings.ToLower(v)
	mul := int64(1)
	for _, u := range []struct {
		suffix string
		mul    int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}} {
		if strings.HasSuffix(l, u.suffix) {
			l, mul = strings.TrimSuffix(l, u.suffix), u.mul
			break
		}
	}
	n, ok := parseInt([]byte(l))
	if !ok || n < 0 || (n > 0 && mul > math.MaxInt64/n) {
		return 0, false
	}
	return n * mul, true
}

// validate checks one CONFIG SET value as Redis 7.0 does and returns the value to store, or the
// reason Redis gives.
func (p *configParam) validate(v string) (string, string) {
	switch p.kind {
	case cfgImmutable:
		return "", "can't set immutable config"
	case cfgProtected:
		return "", "can't set protected config"
	case cfgUnsupported:
		return "", "not supported by the mini Redis (it has no authentication or replication)"
	case cfgBool:
		switch strings.ToLower(v) {
		case "yes", "no":
			return strings.ToLower(v), ""
		}
		return "", "argument must be 'yes' or 'no'"
	case cfgInt, cfgMemory:
		var n int64
		if p.kind == cfgInt {
			var ok bool
			if n, ok = parseInt([]byte(v)); !ok {
				return "", "argument couldn't be parsed into an integer"
			}
		} else {
			var ok bool
			if n, ok = parseMemory(v); !ok {
				return "", "argument must be a memory value"
			}
		}
		if n < p.min || n > p.max {
			return "", fmt.Sprintf("argument must be between %d and %d inclusive", p.min, p.max)
		}
		if p.name == "hz" {
			n = min(n, 500) // Redis clamps hz to CONFIG_MAX_HZ
		}
		return strconv.FormatInt(n, 10), ""
	case cfgMemoryOrPercent:
		if strings.HasSuffix(v, "%") {
			if n, ok := parseInt([]byte(strings.TrimSuffix(v, "%"))); ok && n >= 0 {
				return v, ""
			}
		} else if n, ok := parseMemory(v); ok {
			return strconv.FormatInt(n, 10), ""
		}
		return "", "argument must be a memory or percent value"
	case cfgEnum:
		for _, e := range p.enum {
			if strings.EqualFold(e, v) {
				return e, ""
			}
		}
		return "", "argument(s) must be one of the following: " + strings.Join(p.enum, ", ")
	case cfgSave:
		f := strings.Fields(v)
		if len(f)%2 != 0 {
			return "", "Invalid save parameters"
		}
		for _, x := range f {
			if n, ok := parseInt([]byte(x)); !ok || n < 0 {
				return "", "Invalid save parameters"
			}
		}
		return strings.Join(f, " "), ""
	case cfgKeyspaceEvents:
		for _, ch := range v {
			if !strings.ContainsRune("Ag$lshzxeKEtmdn", ch) {
				return "", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
			}
		}
	}
	return v, ""
}

// cmdConfig serves CONFIG GET, SET (several pairs at once, all or nothing, as Redis 7),
// RESETSTAT and REWRITE.
func cmdConfig(s *Server, c *client, args [][]byte) {
	switch resp.Lower(args[1]) {
	case "get":
		if len(args) < 3 {
			c.err(errArity("config|get"))
			return
		}
		s.configGet(c, args[2:])
	case "set":
		if len(args) < 4 {
			c.err(errArity("config|set"))
			return
		}
		if len(args)%2 != 0 {
			c.err(errSyntax)
			return
		}
		s.configSet(c, args[2:])
	case "resetstat":
		s.stats = stats{}
		for _, db := range s.dbs {
			db.Stats = store.Stats{}
		}
		for _, cmd := range s.commands {
			cmd.calls, cmd.usec = 0, 0
		}
		c.ok()
	case "rewrite":
		c.err("ERR The server is running without a config file")
	case "help":
		lines := []string{"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET <pattern>", "SET <directive> <value>", "RESETSTAT", "REWRITE", "HELP"}
		c.w.Array(len(lines))
		for _, l := range lines {
			c.w.Simple(l)
		}
	default:
		c.err(unknownSubcommand(args[1], "config"))
	}
}

func (s *Server) configGet(c *client, patterns [][]byte) {
	live := s.liveConfig()
	var out [][2]string
	seen := map[string]bool{}
	for _, pat := range patterns {
		p := []byte(strings.ToLower(string(pat)))
		for _, n := range s.config.names {
			if seen[n] || !globMatch(p, []byte(n)) {
				continue
			}
			seen[n] = true
			v, ok := live[canonical(n)]
			if !ok {
				v = s.config.values[canonical(n)]
			}
			out = append(out, [2]string{n, v})
		}
	}
	c.w.Map(len(out))
	for _, kv := range out {
		c.w.BulkString(kv[0])
		c.w.BulkString(kv[1])
	}
}

// liveConfig answers the parameters whose value is the server's actual state.
func (s *Server) liveConfig() map[string]string {
	appendonly, fsync := "no", "everysec"
	if s.cfg.AOFPath != "" {
		appendonly, fsync = "yes", s.cfg.AOFPolicy.String()
	}
	slower := int64(s.slowlog.slowerThan / time.Microsecond)
	if s.slowlog.slowerThan < 0 {
		slower = -1
	}
	clusterEnabled := "no"
	if s.cfg.Cluster != nil {
		clusterEnabled = "yes"
	}
	dir, _ := os.Getwd()
	return map[string]string{
		"appendonly":              appendonly,
		"appendfsync":             fsync,
		"databases":               strconv.Itoa(Databases),
		"slowlog-log-slower-than": strconv.FormatInt(slower, 10),
		"slowlog-max-len":         strconv.Itoa(s.slowlog.maxLen),
		"cluster-enabled":         clusterEnabled,
		"hz":                      strconv.Itoa(int(time.Second / s.cfg.ActiveExpireEvery)),
		"proto-max-bulk-len":      strconv.Itoa(s.limits().MaxBulk),
		"port":                    portOf(s),
		"dir":                     dir,
		"lua-time-limit":          strconv.FormatInt(s.cfg.ScriptTimeout.Milliseconds(), 10),
		"busy-reply-threshold":    strconv.FormatInt(s.cfg.ScriptTimeout.Milliseconds(), 10),
	}
}

// configLive are the parameters that CONFIG SET cannot change here because they describe how
// the process was started (flags of cmd/server), with the reason given to the client.
var configLive = map[string]string{
	"appendonly":           "can't set immutable config",
	"appendfsync":          "can't set immutable config",
	"hz":                   "can't set immutable config",
	"proto-max-bulk-len":   "can't set immutable config",
	"lua-time-limit":       "can't set immutable config",
	"busy-reply-threshold": "can't set immutable config",
}

func (s *Server) configSet(c *client, pairs [][]byte) {
	type change struct{ name, value string }
	var changes []change
	seen := map[string]bool{}
	for i := 0; i < len(pairs); i += 2 {
		given := strings.ToLower(string(pairs[i]))
		name := canonical(given)
		fail := func(reason string) {
			c.err(fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", given, reason))
		}
		p, ok := s.config.params[name]
		if !ok {
			c.err(fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", given))
			return
		}
		if seen[name] {
			fail("duplicate parameter")
			return
		}
		seen[name] = true
		if reason, ok := configLive[name]; ok {
			fail(reason + " in the mini Redis (a command-line flag of cmd/server)")
			return
		}
		v, reason := p.validate(string(pairs[i+1]))
		if reason != "" {
			fail(reason)
			return
		}
		changes = append(changes, change{name, v})
	}
	for _, ch := range changes {
		s.config.store(ch.name, ch.value)
		n, _ := strconv.ParseInt(ch.value, 10, 64)
		switch ch.name {
		case "slowlog-log-slower-than":
			if n < 0 {
				s.slowlog.slowerThan = -1
			} else {
				s.slowlog.slowerThan = time.Duration(n) * time.Microsecond
			}
		case "slowlog-max-len":
			s.slowlog.maxLen = int(n)
			s.slowlog.trim()
		}
	}
	c.ok()
}
