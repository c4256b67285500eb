package server

// WATCH is optimistic locking: the server remembers which clients watch which keys, and any
// successful write to a watched key (or its expiry, or FLUSHDB) marks those clients dirty, so
// their EXEC returns a null array and the client retries.

// watchKey names a key in a database for the WATCH tables: the database index, then the key.
func watchKey(db int, key string) string { return string(rune(db)) + key }

func (s *Server) touchKey(db int, key string) {
	for c := range s.watching[watchKey(db, key)] {
		c.dirtyCAS = true
	}
}

// touchDB invalidates every WATCH on database db (FLUSHDB, FLUSHALL, SWAPDB).
func (s *Server) touchDB(db int) {
	prefix := string(rune(db))
	for k, cs := range s.watching {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			for c := range cs {
				c.dirtyCAS = true
			}
		}
	}
}

func (s *Server) unwatchAll(c *client) {
	for k := range c.watched {
		s.removeSub(s.watching, k, c)
	}
	c.watched = nil
	c.dirtyCAS = false
}

func cmdWatch(s *Server, c *client, args [][]byte) {
	if c.inMulti {
		c.err("ERR WATCH inside MULTI is not allowed")
		return
	}
	if c.watched == nil {
		c.watched = map[string]struct{}{}
	}
	for _, k := range args[1:] {
		// Touch a key whose TTL already passed now, so a WATCH on a logically absent key
		// is not invalidated later by its lazy deletion.
		s.db.Exists(string(k))
		key := watchKey(s.curDB, string(k))
		if _, ok := c.watched[key]; ok {
			continue
		}
		c.watched[key] = struct{}{}
		if s.watching[key] == nil {
			s.watching[key] = map[*client]struct{}{}
		}
		s.watching[key][c] = struct{}{}
	}
	c.ok()
}

func cmdUnwatch(s *Server, c *client, _ [][]byte) {
	s.unwatchAll(c)
	c.ok()
}

func cmdMulti(s *Server, c *client, _ [][]byte) {
	if c.inMulti {
		c.err("ERR MULTI calls can not be nested")
		return
	}
	c.inMulti, c.multiErr, c.queued = true, false, nil
	c.ok()
}

func cmdDiscard(s *Server, c *client, _ [][]byte) {
	if !c.inMulti {
		c.err("ERR DISCARD without MULTI")
		return
	}
	c.inMulti, c.multiErr, c.queued = false, false, nil
	s.unwatchAll(c)
	c.ok()
}

// cmdExec runs the queued commands back to back while holding the executor lock, which is what
// makes the transaction atomic; the writes reach the AOF wrapped in MULTI/EXEC.
func cmdExec(s *Server, c *client, _ [][]byte) {
	if !c.inMulti {
		c.err("ERR EXEC without MULTI")
		return
	}
	queued, aborted, dirty := c.queued, c.multiErr, c.dirtyCAS
	c.inMulti, c.multiErr, c.queued = false, false, nil
	s.unwatchAll(c)
	if aborted {
		c.err("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	if dirty {
		c.w.NullArray()
		return
	}
	c.w.Array(len(queued))
	owner := s.beginTxnProp()
	for _, args := range queued {
		s.call(c, s.lookup(args[0]), args)
	}
	if owner {
		s.endTxnProp()
	}
	c.replyErr = false
	c.noPropagate = true
}
