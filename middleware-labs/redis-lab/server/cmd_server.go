package server

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/cluster"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/store"
)

func cmdPing(s *Server, c *client, args [][]byte) {
	if len(args) > 2 {
		c.err(errArity("ping"))
		return
	}
	if c.proto == 2 && c.subscribed() {
		c.w.Array(2)
		c.w.BulkString("pong")
		if len(args) == 2 {
			c.w.Bulk(args[1])
		} else {
			c.w.BulkString("")
		}
		return
	}
	if len(args) == 2 {
		c.w.Bulk(args[1])
		return
	}
	c.w.Simple("PONG")
}

func cmdEcho(s *Server, c *client, args [][]byte) { c.w.Bulk(args[1]) }

func cmdHello(s *Server, c *client, args [][]byte) {
	proto := c.proto
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		if !ok {
			c.err("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.err("NOPROTO unsupported protocol version")
			return
		}
		proto = int(v)
	}
	for i := 2; i < len(args); i++ {
		switch {
		case resp.Equal(args[i], "auth") && i+2 < len(args):
			i += 2 // no users configured: the default user has no password, as in Redis
		case resp.Equal(args[i], "setname") && i+1 < len(args):
			c.name = string(args[i+1])
			i++
		default:
			c.err(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", args[i]))
			return
		}
	}
	c.setProto(proto)
	mode := "standalone"
	if s.cfg.Cluster != nil {
		mode = "cluster"
	}
	c.w.Map(7)
	c.w.BulkString("server")
	c.w.BulkString("redis")
	c.w.BulkString("version")
	c.w.BulkString(Version)
	c.w.BulkString("proto")
	c.w.Int(int64(proto))
	c.w.BulkString("id")
	c.w.Int(c.id)
	c.w.BulkString("mode")
	c.w.BulkString(mode)
	c.w.BulkString("role")
	c.w.BulkString("master")
	c.w.BulkString("modules")
	c.w.Array(0)
}

func cmdClient(s *Server, c *client, args [][]byte) {
	sub := resp.Lower(args[1])
	switch sub {
	case "setname":
		if len(args) != 3 {
			c.err(errArity("client|setname"))
			return
		}
		for _, b := range args[2] {
			if b < '!' || b > '~' {
				c.err("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
		}
		c.name = string(args[2])
		c.ok()
	case "getname":
		if c.name == "" {
			c.w.Null()
			return
		}
		c.w.BulkString(c.name)
	case "id":
		c.w.Int(c.id)
	case "setinfo":
		if len(args) != 4 {
			c.err(errArity("client|setinfo"))
			return
		}
		c.ok()
	case "info":
		c.w.Verbatim("txt", s.clientLine(c))
	case "list":
		var b strings.Builder
		ids := make([]int64, 0, len(s.clients))
		for id := range s.clients {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			b.WriteString(s.clientLine(s.clients[id]))
		}
		c.w.Verbatim("txt", b.String())
	case "no-evict", "no-touch":
		c.ok()
	default:
		c.err(unknownSubcommand(args[1], "client"))
	}
}

func (s *Server) clientLine(c *client) string {
	return fmt.Sprintf("id=%d addr=%s name=%s age=%d db=%d sub=%d psub=%d multi=%d resp=%d cmd=%s\n",
		c.id, c.addr, c.name, int(time.Since(c.created).Seconds()), c.db, len(c.subs), len(c.psubs),
		map[bool]int{true: len(c.queued), false: -1}[c.inMulti], c.proto, c.lastCmd)
}

func cmdSelect(s *Server, c *client, args [][]byte) {
	n, ok := parseInt(args[1])
	if !ok {
		c.err(errNotInt)
		return
	}
	if s.cfg.Cluster != nil && n != 0 {
		c.err("ERR SELECT is not allowed in cluster mode")
		return
	}
	if n < 0 || n >= Databases {
		c.err("ERR DB index is out of range")
		return
	}
	c.db = int(n)
	s.useDB(c.db)
	c.ok()
}

// cmdMove moves a key, its TTL included, to another database; 0 when the key is missing or
// the target already has it.
func cmdMove(s *Server, c *client, args [][]byte) {
	if s.cfg.Cluster != nil {
		c.err("ERR MOVE is not allowed in cluster mode")
		return
	}
	n, ok := parseInt(args[2])
	if !ok {
		c.err(errNotInt)
		return
	}
	if n < 0 || n >= Databases {
		c.err("ERR DB index is out of range")
		return
	}
	if int(n) == s.curDB {
		c.err("ERR source and destination objects are the same")
		return
	}
	key := string(args[1])
	src, dst := s.db, s.dbs[n]
	v := src.LookupWrite(key)
	if v == nil || dst.Exists(key) {
		c.noPropagate = true
		c.w.Int(0)
		return
	}
	at, hasTTL := src.TTL(key)
	detached, _ := src.Unlink(key)
	src.Add(-store.ValueSize(detached))
	dst.Set(key, detached, false)
	if hasTTL {
		dst.SetExpire(key, at)
	}
	s.touchKey(int(n), key)
	s.signalKey(int(n), key)
	c.w.Int(1)
}

// cmdSwapDB swaps two databases: every client selecting one now sees the other's keys.
func cmdSwapDB(s *Server, c *client, args [][]byte) {
	if s.cfg.Cluster != nil {
		c.err("ERR SWAPDB is not allowed in cluster mode")
		return
	}
	a, ok := parseInt(args[1])
	if !ok {
		c.err("ERR invalid first DB index")
		return
	}
	b, ok := parseInt(args[2])
	if !ok {
		c.err("ERR invalid second DB index")
		return
	}
	if a < 0 || a >= Databases || b < 0 || b >= Databases {
		c.err("ERR DB index is out of range")
		return
	}
	s.dbs[a], s.dbs[b] = s.dbs[b], s.dbs[a]
	s.wireDBs()
	s.useDB(s.curDB)
	s.touchDB(int(a))
	s.touchDB(int(b))
	s.wakeBlockedDB(int(a))
	s.wakeBlockedDB(int(b))
	c.ok()
}

func cmdQuit(s *Server, c *client, _ [][]byte) {
	c.ok()
	c.closeAfterReply = true
}

func cmdReset(s *Server, c *client, _ [][]byte) {
	c.inMulti, c.multiErr, c.queued = false, false, nil
	s.unwatchAll(c)
	for ch := range c.subs {
		s.removeSub(s.channels, ch, c)
	}
	for p := range c.psubs {
		s.removeSub(s.patterns, p, c)
	}
	c.subs, c.psubs = nil, nil
	c.name = ""
	c.db = 0
	c.setProto(2)
	c.w.Simple("RESET")
}

func cmdDBSize(s *Server, c *client, _ [][]byte) { c.w.Int(int64(s.db.Len())) }

// cmdFlush is FLUSHDB (the selected database) and FLUSHALL (every database).
func cmdFlush(s *Server, c *client, args [][]byte) {
	if len(args) > 2 || (len(args) == 2 && !resp.Equal(args[1], "async") && !resp.Equal(args[1], "sync")) {
		c.err(errSyntax)
		return
	}
	if resp.Equal(args[0], "flushall") {
		for i, db := range s.dbs {
			db.Flush()
			s.touchDB(i)
		}
		c.ok()
		return
	}
	s.db.Flush()
	s.touchDB(s.curDB)
	c.ok()
}

func cmdTime(s *Server, c *client, _ [][]byte) {
	now := time.Now()
	c.w.Array(2)
	c.w.BulkString(strconv.FormatInt(now.Unix(), 10))
	c.w.BulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// cmdCommand answers COMMAND, COMMAND COUNT, COMMAND INFO and COMMAND DOCS. Replies use the
// 7-element Redis 6 layout, which go-redis's ClusterClient reads to find key positions.
func cmdCommand(s *Server, c *client, args [][]byte) {
	if len(args) == 1 {
		names := s.commandNames()
		c.w.Array(len(names))
		for _, n := range names {
			s.writeCommandInfo(c, s.commands[n])
		}
		return
	}
	switch resp.Lower(args[1]) {
	case "count":
		c.w.Int(int64(len(s.commands)))
	case "info":
		names := args[2:]
		if len(names) == 0 {
			all := s.commandNames()
			c.w.Array(len(all))
			for _, n := range all {
				s.writeCommandInfo(c, s.commands[n])
			}
			return
		}
		c.w.Array(len(names))
		for _, n := range names {
			if cmd := s.lookup(n); cmd != nil {
				s.writeCommandInfo(c, cmd)
			} else {
				c.w.NullArray()
			}
		}
	case "docs":
		// Documentation is optional for clients (redis-cli uses it for hints); none is served.
		c.w.Map(0)
	case "getkeys":
		if len(args) < 3 {
			c.err(errArity("command|getkeys"))
			return
		}
		cmd := s.lookup(args[2])
		if cmd == nil {
			c.err("ERR Invalid command specified")
			return
		}
		keys := cmd.keyArgs(args[2:])
		if len(keys) == 0 {
			c.err("ERR The command has no key arguments")
			return
		}
		c.w.Array(len(keys))
		for _, k := range keys {
			c.w.Bulk(k)
		}
	case "list":
		names := s.commandNames()
		c.w.Array(len(names))
		for _, n := range names {
			c.w.BulkString(n)
		}
	default:
		c.err(unknownSubcommand(args[1], "command"))
	}
}

func (s *Server) commandNames() []string {
	names := make([]string, 0, len(s.commands))
	for n := range s.commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *Server) writeCommandInfo(c *client, cmd *command) {
	c.w.Array(7)
	c.w.BulkString(cmd.name)
	c.w.Int(int64(cmd.arity))
	var flags []string
	if cmd.has(flagWrite) {
		flags = append(flags, "write")
	}
	if cmd.has(flagReadonly) {
		flags = append(flags, "readonly")
	}
	if cmd.has(flagFast) {
		flags = append(flags, "fast")
	}
	if cmd.has(flagPubSubOK) {
		flags = append(flags, "pubsub")
	}
	if cmd.has(flagNoScript) {
		flags = append(flags, "noscript")
	}
	if cmd.has(flagAdmin) {
		flags = append(flags, "admin")
	}
	if cmd.keys != nil {
		flags = append(flags, "movablekeys")
	}
	c.w.Set(len(flags))
	for _, f := range flags {
		c.w.Simple(f)
	}
	c.w.Int(int64(cmd.firstKey))
	c.w.Int(int64(cmd.lastKey))
	c.w.Int(int64(cmd.step))
	c.w.Set(0)
}

func (s *Server) limits() resp.Limits {
	l := s.cfg.Limits
	if l.MaxBulk <= 0 {
		l.MaxBulk = resp.DefaultLimits.MaxBulk
	}
	return l
}

// cmdInfo renders the INFO sections clients and dashboards read.
func cmdInfo(s *Server, c *client, args [][]byte) {
	want := map[string]bool{}
	for _, a := range args[1:] {
		want[resp.Lower(a)] = true
	}
	all := len(want) == 0 || want["all"] || want["everything"] || want["default"]
	var b strings.Builder
	section := func(name string, body func()) {
		if !all && !want[name] {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		fmt.Fprintf(&b, "# %s\r\n", strings.ToUpper(name[:1])+name[1:])
		body()
	}
	kv := func(k string, v any) { fmt.Fprintf(&b, "%s:%v\r\n", k, v) }
	st := s.dbStats()
	section("server", func() {
		kv("redis_version", Version)
		kv("redis_mode", map[bool]string{true: "cluster", false: "standalone"}[s.cfg.Cluster != nil])
		kv("os", runtime.GOOS+" "+runtime.GOARCH)
		kv("arch_bits", 64)
		kv("multiplexing_api", "goroutines")
		kv("go_version", runtime.Version())
		kv("process_id", os.Getpid())
		kv("tcp_port", portOf(s))
		kv("uptime_in_seconds", int(time.Since(s.startTime).Seconds()))
		kv("hz", int(time.Second/s.cfg.ActiveExpireEvery))
		kv("executable", "mini-redis")
	})
	section("clients", func() {
		subs := 0
		for _, cl := range s.clients {
			if cl.subscribed() {
				subs++
			}
		}
		kv("connected_clients", len(s.clients))
		kv("pubsub_clients", subs)
		kv("blocked_clients", s.blockedClients)
	})
	section("memory", func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		kv("used_memory", s.usedMemory())
		kv("used_memory_human", humanBytes(s.usedMemory()))
		kv("used_memory_rss", ms.Sys)
		kv("go_heap_alloc", ms.HeapAlloc)
		kv("go_num_gc", ms.NumGC)
		kv("lazyfree_pending_objects", len(s.lazyfree))
		kv("lazyfreed_objects", st.LazyFreed)
	})
	section("persistence", func() {
		kv("loading", 0)
		kv("aof_enabled", map[bool]int{true: 1, false: 0}[s.aof != nil])
		kv("aof_last_write_status", map[bool]string{true: "err", false: "ok"}[s.stats.aofErrors > 0])
	})
	section("stats", func() {
		kv("total_connections_received", s.stats.connections)
		kv("total_commands_processed", s.stats.commands)
		kv("rejected_calls", s.stats.rejectedCalls)
		kv("expired_keys", st.ExpiredKeys)
		kv("keyspace_hits", st.KeyspaceHits)
		kv("keyspace_misses", st.KeyspaceMiss)
		kv("pubsub_channels", len(s.channels))
		kv("pubsub_patterns", len(s.patterns))
		kv("total_pubsub_messages", s.stats.pubsubMsgs)
		kv("sync_free_usec", st.SyncFreeNanos/1000)
	})
	section("commandstats", func() {
		for _, n := range s.commandNames() {
			cmd := s.commands[n]
			if cmd.calls == 0 {
				continue
			}
			fmt.Fprintf(&b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f\r\n", n, cmd.calls, cmd.usec, float64(cmd.usec)/float64(cmd.calls))
		}
	})
	section("cluster", func() { kv("cluster_enabled", map[bool]int{true: 1, false: 0}[s.cfg.Cluster != nil]) })
	section("keyspace", func() {
		for i, db := range s.dbs {
			if n := db.Len(); n > 0 {
				fmt.Fprintf(&b, "db%d:keys=%d,expires=%d,avg_ttl=0\r\n", i, n, db.ExpiresLen())
			}
		}
	})
	c.w.Verbatim("txt", b.String())
}

func portOf(s *Server) string {
	if s.ln == nil {
		return "0"
	}
	addr := s.ln.Addr().String()
	return addr[strings.LastIndexByte(addr, ':')+1:]
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// cmdCluster serves the topology commands go-redis's ClusterClient and redis-cli -c use.
func cmdCluster(s *Server, c *client, args [][]byte) {
	sub := resp.Lower(args[1])
	if sub == "keyslot" {
		if len(args) != 3 {
			c.err(errArity("cluster|keyslot"))
			return
		}
		c.w.Int(int64(cluster.Slot(args[2])))
		return
	}
	topo := s.cfg.Cluster
	if topo == nil {
		c.err(errNoCluster)
		return
	}
	switch sub {
	case "myid":
		c.w.BulkString(topo.Me().ID)
	case "slots":
		c.w.Array(len(topo.Nodes))
		for _, n := range topo.Nodes {
			c.w.Array(3)
			c.w.Int(int64(n.Start))
			c.w.Int(int64(n.End))
			c.w.Array(4)
			c.w.BulkString(n.Host)
			c.w.Int(int64(n.Port))
			c.w.BulkString(n.ID)
			c.w.Map(0)
		}
	case "shards":
		c.w.Array(len(topo.Nodes))
		for _, n := range topo.Nodes {
			c.w.Map(2)
			c.w.BulkString("slots")
			c.w.Array(2)
			c.w.Int(int64(n.Start))
			c.w.Int(int64(n.End))
			c.w.BulkString("nodes")
			c.w.Array(1)
			c.w.Map(7)
			c.w.BulkString("id")
			c.w.BulkString(n.ID)
			c.w.BulkString("port")
			c.w.Int(int64(n.Port))
			c.w.BulkString("ip")
			c.w.BulkString(n.Host)
			c.w.BulkString("endpoint")
			c.w.BulkString(n.Host)
			c.w.BulkString("role")
			c.w.BulkString("master")
			c.w.BulkString("replication-offset")
			c.w.Int(0)
			c.w.BulkString("health")
			c.w.BulkString("online")
		}
	case "nodes":
		var b strings.Builder
		for i, n := range topo.Nodes {
			flags := "master"
			if i == topo.Self {
				flags = "myself,master"
			}
			fmt.Fprintf(&b, "%s %s:%d@%d %s - 0 0 %d connected %d-%d\n", n.ID, n.Host, n.Port, n.Port+10000, flags, i+1, n.Start, n.End)
		}
		c.w.Verbatim("txt", b.String())
	case "info":
		var b strings.Builder
		fmt.Fprintf(&b, "cluster_state:ok\r\ncluster_slots_assigned:%d\r\ncluster_slots_ok:%d\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:%d\r\ncluster_size:%d\r\ncluster_current_epoch:%d\r\ncluster_my_epoch:%d\r\n",
			cluster.Slots, cluster.Slots, len(topo.Nodes), len(topo.Nodes), len(topo.Nodes), topo.Self+1)
		c.w.Verbatim("txt", b.String())
	case "countkeysinslot":
		if len(args) != 3 {
			c.err(errArity("cluster|countkeysinslot"))
			return
		}
		slot, ok := parseInt(args[2])
		if !ok || slot < 0 || slot >= cluster.Slots {
			c.err("ERR Invalid slot")
			return
		}
		var n int64
		for _, k := range s.db.Keys() {
			if cluster.Slot([]byte(k)) == int(slot) {
				n++
			}
		}
		c.w.Int(n)
	default:
		c.err(unknownSubcommand(args[1], "cluster"))
	}
}
