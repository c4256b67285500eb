// Package server is the mini Redis: a TCP server speaking RESP2/RESP3 that go-redis, redis-cli
// and redis-benchmark use unmodified.
//
// # Execution model
//
// Commands execute one at a time, as in Redis. Each connection has its own goroutine that
// parses requests and writes replies (the I/O is concurrent, like Redis 6's io-threads), but the
// command itself runs while holding Server.mu, the one executor lock. A pipeline that arrived in
// one read is executed under a single acquisition and its replies are flushed with one write.
//
// Why: every command is atomic with no per-key locking, MULTI/EXEC and Lua scripts are atomic by
// construction (they simply hold the lock for the whole block), WATCH can be checked without
// races, and the keyspace needs no concurrent data structures. The consequence, the one the
// big-key lab makes you feel: a command that does O(N) work (DEL of a million-field hash, KEYS,
// SMEMBERS of a huge set, a long Lua script) stalls every other client for its whole duration.
// Redis answers with UNLINK/lazy-free, SCAN, and splitting big keys; so does this server.
//
// Replies are encoded into each client's in-memory output buffer while the lock is held and
// written to the socket after it is released, so a client that stops reading blocks only its own
// goroutine, never the executor. Pub/sub messages go through a bounded per-subscriber queue; a
// subscriber that falls 4096 messages behind is disconnected (Redis's
// client-output-buffer-limit pubsub).
package server
