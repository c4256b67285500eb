package server

// commandTable lists every command with Redis's arity and key positions (COMMAND INFO), which
// drive arity errors, cluster routing, WATCH invalidation and go-redis's ClusterClient routing.
func commandTable() map[string]*command {
	const (
		w  = flagWrite
		r  = flagReadonly
		ps = flagPubSubOK
		nm = flagNoMulti
		ns = flagNoScript
		f  = flagFast
		a  = flagAdmin
	)
	list := []*command{
		// connection and server
		{name: "ping", arity: -1, flags: f | ps, fn: cmdPing},
		{name: "echo", arity: 2, flags: f, fn: cmdEcho},
		{name: "hello", arity: -1, flags: f | ns, fn: cmdHello},
		{name: "client", arity: -2, flags: ns, fn: cmdClient},
		{name: "select", arity: 2, flags: f, fn: cmdSelect},
		{name: "quit", arity: -1, flags: f | ps | nm | ns, fn: cmdQuit},
		{name: "reset", arity: 1, flags: f | ps | nm | ns, fn: cmdReset},
		{name: "command", arity: -1, flags: ns, fn: cmdCommand},
		{name: "info", arity: -1, fn: cmdInfo},
		{name: "dbsize", arity: 1, flags: r | f, fn: cmdDBSize},
		{name: "flushdb", arity: -1, flags: w, fn: cmdFlush},
		{name: "flushall", arity: -1, flags: w, fn: cmdFlush},
		{name: "swapdb", arity: 3, flags: w | f, fn: cmdSwapDB},
		{name: "move", arity: 3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdMove},
		{name: "config", arity: -2, flags: a | ns, fn: cmdConfig},
		{name: "slowlog", arity: -2, flags: a, fn: cmdSlowlog},
		{name: "time", arity: 1, flags: f, fn: cmdTime},
		{name: "cluster", arity: -2, fn: cmdCluster},
		{name: "readonly", arity: 1, flags: f, fn: func(s *Server, c *client, _ [][]byte) { c.ok() }},
		{name: "readwrite", arity: 1, flags: f, fn: func(s *Server, c *client, _ [][]byte) { c.ok() }},
		// strings
		{name: "get", arity: 2, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdGet},
		{name: "set", arity: -3, flags: w, firstKey: 1, lastKey: 1, step: 1, fn: cmdSet},
		{name: "setnx", arity: 3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdSetNX},
		{name: "setex", arity: 4, flags: w, firstKey: 1, lastKey: 1, step: 1, fn: cmdSetEX},
		{name: "getdel", arity: 2, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdGetDel},
		{name: "mget", arity: -2, flags: r | f, firstKey: 1, lastKey: -1, step: 1, fn: cmdMGet},
		{name: "mset", arity: -3, flags: w, firstKey: 1, lastKey: -1, step: 2, fn: cmdMSet},
		{name: "incr", arity: 2, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdIncr},
		{name: "decr", arity: 2, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdIncr},
		{name: "incrby", arity: 3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdIncr},
		{name: "decrby", arity: 3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdIncr},
		{name: "append", arity: 3, flags: w, firstKey: 1, lastKey: 1, step: 1, fn: cmdAppend},
		{name: "incrbyfloat", arity: 3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdIncrByFloat},
		{name: "strlen", arity: 2, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdStrlen},
		// keys
		{name: "del", arity: -2, flags: w, firstKey: 1, lastKey: -1, step: 1, fn: cmdDel},
		{name: "unlink", arity: -2, flags: w | f, firstKey: 1, lastKey: -1, step: 1, fn: cmdUnlink},
		{name: "exists", arity: -2, flags: r | f, firstKey: 1, lastKey: -1, step: 1, fn: cmdExists},
		{name: "expire", arity: -3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdExpire},
		{name: "pexpire", arity: -3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdExpire},
		{name: "expireat", arity: -3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdExpire},
		{name: "pexpireat", arity: -3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdExpire},
		{name: "ttl", arity: 2, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdTTL},
		{name: "pttl", arity: 2, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdTTL},
		{name: "persist", arity: 2, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdPersist},
		{name: "type", arity: 2, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdType},
		{name: "scan", arity: -2, flags: r, fn: cmdScan},
		{name: "object", arity: -2, flags: r, firstKey: 2, lastKey: 2, step: 1, fn: cmdObject},
		{name: "hscan", arity: -3, flags: r, firstKey: 1, lastKey: 1, step: 1, fn: cmdElemScan},
		{name: "sscan", arity: -3, flags: r, firstKey: 1, lastKey: 1, step: 1, fn: cmdElemScan},
		{name: "zscan", arity: -3, flags: r, firstKey: 1, lastKey: 1, step: 1, fn: cmdElemScan},
		{name: "keys", arity: 2, flags: r, fn: cmdKeys},
		// hashes
		{name: "hset", arity: -4, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdHSet},
		{name: "hmset", arity: -4, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdHSet},
		{name: "hget", arity: 3, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdHGet},
		{name: "hmget", arity: -3, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdHMGet},
		{name: "hdel", arity: -3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdHDel},
		{name: "hgetall", arity: 2, flags: r, firstKey: 1, lastKey: 1, step: 1, fn: cmdHGetAll},
		{name: "hlen", arity: 2, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdHLen},
		{name: "hexists", arity: 3, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdHExists},
		// lists
		{name: "lpush", arity: -3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdPush},
		{name: "rpush", arity: -3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdPush},
		{name: "lpop", arity: -2, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdPop},
		{name: "rpop", arity: -2, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdPop},
		{name: "blpop", arity: -3, flags: w, firstKey: 1, lastKey: -2, step: 1, fn: cmdBPop},
		{name: "brpop", arity: -3, flags: w, firstKey: 1, lastKey: -2, step: 1, fn: cmdBPop},
		{name: "lmove", arity: 5, flags: w, firstKey: 1, lastKey: 2, step: 1, fn: cmdLMove},
		{name: "blmove", arity: 6, flags: w, firstKey: 1, lastKey: 2, step: 1, fn: cmdLMove},
		{name: "lrange", arity: 4, flags: r, firstKey: 1, lastKey: 1, step: 1, fn: cmdLRange},
		{name: "llen", arity: 2, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdLLen},
		// sets
		{name: "sadd", arity: -3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdSAdd},
		{name: "srem", arity: -3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdSRem},
		{name: "smembers", arity: 2, flags: r, firstKey: 1, lastKey: 1, step: 1, fn: cmdSMembers},
		{name: "sismember", arity: 3, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdSIsMember},
		{name: "spop", arity: -2, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdSPop},
		{name: "srandmember", arity: -2, flags: r, firstKey: 1, lastKey: 1, step: 1, fn: cmdSRandMember},
		{name: "scard", arity: 2, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdSCard},
		// sorted sets
		{name: "zadd", arity: -4, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdZAdd},
		{name: "zrange", arity: -4, flags: r, firstKey: 1, lastKey: 1, step: 1, fn: cmdZRange},
		{name: "zrevrange", arity: -4, flags: r, firstKey: 1, lastKey: 1, step: 1, fn: cmdZRevRange},
		{name: "zrangebyscore", arity: -4, flags: r, firstKey: 1, lastKey: 1, step: 1, fn: cmdZRangeByScore},
		{name: "zscore", arity: 3, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdZScore},
		{name: "zrem", arity: -3, flags: w | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdZRem},
		{name: "zcard", arity: 2, flags: r | f, firstKey: 1, lastKey: 1, step: 1, fn: cmdZCard},
		// pub/sub
		{name: "publish", arity: 3, flags: ps | f, fn: cmdPublish},
		{name: "subscribe", arity: -2, flags: ps | ns, fn: cmdSubscribe},
		{name: "unsubscribe", arity: -1, flags: ps | ns, fn: cmdUnsubscribe},
		{name: "psubscribe", arity: -2, flags: ps | ns, fn: cmdPSubscribe},
		{name: "punsubscribe", arity: -1, flags: ps | ns, fn: cmdPUnsubscribe},
		{name: "pubsub", arity: -2, flags: ps, fn: cmdPubSub},
		// transactions
		{name: "multi", arity: 1, flags: f | nm | ns, fn: cmdMulti},
		{name: "exec", arity: 1, flags: nm | ns, fn: cmdExec},
		{name: "discard", arity: 1, flags: f | nm | ns, fn: cmdDiscard},
		{name: "watch", arity: -2, flags: f | nm | ns, firstKey: 1, lastKey: -1, step: 1, fn: cmdWatch},
		{name: "unwatch", arity: 1, flags: f | nm | ns, fn: cmdUnwatch},
		// scripting
		{name: "eval", arity: -3, flags: ns, keys: evalKeys, fn: cmdEval},
		{name: "evalsha", arity: -3, flags: ns, keys: evalKeys, fn: cmdEval},
		{name: "script", arity: -2, flags: ns, fn: cmdScript},
		{name: "function", arity: -2, flags: ns, fn: cmdFunction},
		{name: "fcall", arity: -3, flags: ns, keys: evalKeys, fn: cmdFCall},
		{name: "fcall_ro", arity: -3, flags: ns, keys: evalKeys, fn: cmdFCall},
	}
	m := make(map[string]*command, len(list))
	for _, c := range list {
		m[c.name] = c
	}
	return m
}
