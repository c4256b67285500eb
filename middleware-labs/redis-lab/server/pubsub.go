package server

import (
	"sort"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/resp"
)

func (s *Server) removeSub(m map[string]map[*client]struct{}, name string, c *client) {
	if set, ok := m[name]; ok {
		delete(set, c)
		if len(set) == 0 {
			delete(m, name)
		}
	}
}

// subReply writes a (p)subscribe/(p)unsubscribe confirmation as Redis does: one push per name.
func subReply(c *client, kind string, name []byte, count int) {
	c.w.Push(3)
	c.w.BulkString(kind)
	if name == nil {
		c.w.Null()
	} else {
		c.w.Bulk(name)
	}
	c.w.Int(int64(count))
}

func cmdSubscribe(s *Server, c *client, args [][]byte) {
	c.startPush()
	if c.subs == nil {
		c.subs = map[string]struct{}{}
	}
	for _, ch := range args[1:] {
		name := string(ch)
		if _, ok := c.subs[name]; !ok {
			c.subs[name] = struct{}{}
			if s.channels[name] == nil {
				s.channels[name] = map[*client]struct{}{}
			}
			s.channels[name][c] = struct{}{}
		}
		subReply(c, "subscribe", ch, len(c.subs)+len(c.psubs))
	}
}

func cmdPSubscribe(s *Server, c *client, args [][]byte) {
	c.startPush()
	if c.psubs == nil {
		c.psubs = map[string]struct{}{}
	}
	for _, p := range args[1:] {
		name := string(p)
		if _, ok := c.psubs[name]; !ok {
			c.psubs[name] = struct{}{}
			if s.patterns[name] == nil {
				s.patterns[name] = map[*client]struct{}{}
			}
			s.patterns[name][c] = struct{}{}
		}
		subReply(c, "psubscribe", p, len(c.subs)+len(c.psubs))
	}
}

func unsub(s *Server, c *client, args [][]byte, own map[string]struct{}, global map[string]map[*client]struct{}, kind string) {
	names := make([][]byte, 0, len(args)-1)
	names = append(names, args[1:]...)
	if len(names) == 0 {
		sorted := make([]string, 0, len(own))
		for n := range own {
			sorted = append(sorted, n)
		}
		sort.Strings(sorted)
		for _, n := range sorted {
			names = append(names, []byte(n))
		}
	}
	if len(names) == 0 {
		subReply(c, kind, nil, len(c.subs)+len(c.psubs))
		return
	}
	for _, n := range names {
		delete(own, string(n))
		s.removeSub(global, string(n), c)
		subReply(c, kind, n, len(c.subs)+len(c.psubs))
	}
}

func cmdUnsubscribe(s *Server, c *client, args [][]byte) {
	unsub(s, c, args, c.subs, s.channels, "unsubscribe")
}

func cmdPUnsubscribe(s *Server, c *client, args [][]byte) {
	unsub(s, c, args, c.psubs, s.patterns, "punsubscribe")
}

// cmdPublish enqueues the message for every subscriber; delivery happens on each subscriber's
// own push goroutine, so a slow reader never holds up the executor.
func cmdPublish(s *Server, c *client, args [][]byte) {
	ch, msg := args[1], args[2]
	var n int64
	for sub := range s.channels[string(ch)] {
		sub.deliver(sub.encode(func(w *resp.Writer) {
			w.Push(3)
			w.BulkString("message")
			w.Bulk(ch)
			w.Bulk(msg)
		}))
		n++
	}
	for pat, subs := range s.patterns {
		if !globMatch([]byte(pat), ch) {
			continue
		}
		for sub := range subs {
			sub.deliver(sub.encode(func(w *resp.Writer) {
				w.Push(4)
				w.BulkString("pmessage")
				w.BulkString(pat)
				w.Bulk(ch)
				w.Bulk(msg)
			}))
			n++
		}
	}
	s.stats.pubsubMsgs++
	c.w.Int(n)
}

func cmdPubSub(s *Server, c *client, args [][]byte) {
	switch resp.Lower(args[1]) {
	case "channels":
		var out []string
		for ch := range s.channels {
			if len(args) < 3 || globMatch(args[2], []byte(ch)) {
				out = append(out, ch)
			}
		}
		sort.Strings(out)
		c.w.Array(len(out))
		for _, ch := range out {
			c.w.BulkString(ch)
		}
	case "numsub":
		c.w.Map(len(args) - 2)
		for _, ch := range args[2:] {
			c.w.Bulk(ch)
			c.w.Int(int64(len(s.channels[string(ch)])))
		}
	case "numpat":
		c.w.Int(int64(len(s.patterns)))
	default:
		c.err(unknownSubcommand(args[1], "pubsub"))
	}
}
