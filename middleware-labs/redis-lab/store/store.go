// Package store is the mini Redis keyspace: typed values, key expiry (lazy on access plus
// Redis's active sampling), and memory accounting.
//
// A DB is not safe for concurrent use: the server runs every command one at a time (see
// server/doc.go), which is exactly why one slow command stalls every client.
package store

import (
	"cmp"
	"hash/fnv"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"
)

// Kind is a value's type as TYPE reports it.
type Kind uint8

// The value kinds.
const (
	KindString Kind = iota + 1
	KindList
	KindHash
	KindSet
	KindZSet
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindList:
		return "list"
	case KindHash:
		return "hash"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	}
	return "none"
}

// Enc records what OBJECT ENCODING cannot tell from the value's content alone.
type Enc uint8

// The encoding hints.
const (
	// EncAuto: a string encodes as Redis's SET would (int, embstr or raw by content); an
	// aggregate is compact (listpack, intset) while it stays within the thresholds.
	EncAuto Enc = iota
	// EncRaw: a string grown in place (APPEND), which Redis keeps raw whatever its length.
	EncRaw
	// EncNumber: a string made from a number (INCRBYFLOAT): embstr or raw by length, never int.
	EncNumber
	// EncBig: an aggregate that outgrew its compact encoding; Redis never converts it back.
	EncBig
)

// Value is one key's value; exactly one field matching Kind is set.
type Value struct {
	Kind Kind
	Enc  Enc
	Str  []byte
	List *List
	Hash map[string][]byte
	Set  map[string]struct{}
	ZSet *ZSet
}

// Clock returns the current time; tests pass a fake one.
type Clock func() time.Time

// Stats are the keyspace counters INFO reports.
type Stats struct {
	ExpiredKeys   int64
	KeyspaceHits  int64
	KeyspaceMiss  int64
	ActiveCycles  int64
	LazyFreed     int64
	SyncFreeNanos int64
}

// DB is one keyspace.
type DB struct {
	data    map[string]*Value
	expires map[string]int64 // unix milliseconds
	now     Clock
	rnd     *rand.Rand
	used    int64 // bytes of keys and values, maintained incrementally
	Stats   Stats
	// OnRemove is called when a key disappears by expiry (lazy or active): the server uses it to
	// invalidate WATCHes and to append a DEL to the AOF, as Redis propagates expirations.
	OnRemove func(key string)
}

// New returns an empty DB; now may be nil for the wall clock.
func New(now Clock, seed uint64) *DB {
	if now == nil {
		now = time.Now
	}
	return &DB{
		data:    map[string]*Value{},
		expires: map[string]int64{},
		now:     now,
		rnd:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

// NowMs is the DB clock in unix milliseconds.
func (db *DB) NowMs() int64 { return db.now().UnixMilli() }

// Rand is the DB's random source (skiplist levels, RANDOMKEY-style sampling).
func (db *DB) Rand() *rand.Rand { return db.rnd }

// Len is the number of keys, including expired ones not yet reclaimed (as DBSIZE in Redis).
func (db *DB) Len() int { return len(db.data) }

// ExpiresLen is the number of keys with a TTL.
func (db *DB) ExpiresLen() int { return len(db.expires) }

// UsedMemory is the accounted size of keys and values in bytes.
func (db *DB) UsedMemory() int64 { return db.used }

// expireIfNeeded deletes key if its TTL passed (lazy expiry) and reports whether it did.
func (db *DB) expireIfNeeded(key string) bool {
	when, ok := db.expires[key]
	if !ok || when > db.NowMs() {
		return false
	}
	db.remove(key)
	db.Stats.ExpiredKeys++
	if db.OnRemove != nil {
		db.OnRemove(key)
	}
	return true
}

// Lookup returns key's value for a read (counting hits/misses), or nil.
func (db *DB) Lookup(key string) *Value {
	v := db.LookupWrite(key)
	if v == nil {
		db.Stats.KeyspaceMiss++
	} else {
		db.Stats.KeyspaceHits++
	}
	return v
}

// LookupWrite returns key's value without touching hit/miss counters.
func (db *DB) LookupWrite(key string) *Value {
	v, ok := db.data[key]
	if !ok {
		return nil
	}
	if db.expireIfNeeded(key) {
		return nil
	}
	return v
}

// Exists reports whether key is present and not expired.
func (db *DB) Exists(key string) bool { return db.LookupWrite(key) != nil }

// Set stores v under key and clears any TTL unless keepTTL.
func (db *DB) Set(key string, v *Value, keepTTL bool) {
	if old, ok := db.data[key]; ok {
		db.used -= db.freeValue(old)
	} else {
		db.used += int64(len(key)) + keyOverhead
	}
	db.data[key] = v
	db.used += ValueSize(v)
	if !keepTTL {
		delete(db.expires, key)
	}
}

// SetStringInPlace overwrites an existing, unexpired string value without allocating a new key
// or Value (the hot path of SET on a key that already exists). It reports false when the key is
// missing, expired or not a string, and the caller falls back to Set.
func (db *DB) SetStringInPlace(key []byte, val []byte, keepTTL bool) bool {
	v, ok := db.data[string(key)]
	if !ok || v.Kind != KindString {
		return false
	}
	if when, has := db.expires[string(key)]; has {
		if when <= db.NowMs() {
			return false
		}
		if !keepTTL {
			delete(db.expires, string(key))
		}
	}
	db.used += int64(len(val) - len(v.Str))
	v.Str = val
	v.Enc = EncAuto
	return true
}

// Add accounts for a value that grew in place by delta bytes (HSET on an existing hash ...).
func (db *DB) Add(delta int64) { db.used += delta }

// Delete removes key synchronously, releasing its value inside the command (Redis DEL). For a
// big value this walk runs while every other client waits.
func (db *DB) Delete(key string) bool {
	if db.LookupWrite(key) == nil {
		return false
	}
	start := time.Now()
	db.remove(key)
	db.Stats.SyncFreeNanos += time.Since(start).Nanoseconds()
	return true
}

// Unlink removes key in O(1) and returns the detached value so the caller can release it off the
// command path (Redis UNLINK / lazyfree). Release it with ReleaseDetached.
func (db *DB) Unlink(key string) (*Value, bool) {
	v := db.LookupWrite(key)
	if v == nil {
		return nil, false
	}
	delete(db.data, key)
	delete(db.expires, key)
	db.used -= int64(len(key)) + keyOverhead
	return v, true
}

// ReleaseDetached releases a value returned by Unlink and returns the bytes it held. It touches
// only the value, so it may run on another goroutine; the caller subtracts the result with Add
// under the command lock.
func ReleaseDetached(v *Value) int64 {
	if v.Kind != KindHash {
		return releaseValue(v)
	}
	// Yield every few thousand fields so the background free shares the CPU politely with the
	// goroutines serving clients.
	size := int64(valueOverhead)
	n := 0
	for f, val := range v.Hash {
		size += int64(len(f)+len(val)) + fieldOverhead
		delete(v.Hash, f)
		if n++; n%4096 == 0 {
			runtime.Gosched()
		}
	}
	return size
}

func (db *DB) remove(key string) {
	v, ok := db.data[key]
	if !ok {
		return
	}
	delete(db.data, key)
	delete(db.expires, key)
	db.used -= int64(len(key)) + keyOverhead + db.freeValue(v)
}

// freeValue releases v element by element and returns its accounted size. Redis frees a hash
// field by field for the same reason: the allocator (here the accounting) must learn what each
// element held. O(n) in the number of elements.
func (db *DB) freeValue(v *Value) int64 { return releaseValue(v) }

func releaseValue(v *Value) int64 {
	size := int64(valueOverhead)
	switch v.Kind {
	case KindString:
		size += int64(len(v.Str))
		v.Str = nil
	case KindHash:
		for f, val := range v.Hash {
			size += int64(len(f)+len(val)) + fieldOverhead
			delete(v.Hash, f)
		}
	case KindSet:
		for m := range v.Set {
			size += int64(len(m)) + fieldOverhead
			delete(v.Set, m)
		}
	case KindList:
		for v.List.Len() > 0 {
			e, _ := v.List.PopFront()
			size += int64(len(e)) + fieldOverhead
		}
	case KindZSet:
		for m := range v.ZSet.dict {
			size += int64(len(m)) + 2*fieldOverhead
		}
		v.ZSet = nil
	}
	return size
}

// Accounting overheads, rough Go equivalents of Redis's robj/dictEntry costs.
const (
	keyOverhead   = 48
	valueOverhead = 16
	fieldOverhead = 32
)

// ValueSize computes v's accounted size (walks v).
func ValueSize(v *Value) int64 {
	size := int64(valueOverhead)
	switch v.Kind {
	case KindString:
		size += int64(len(v.Str))
	case KindHash:
		for f, val := range v.Hash {
			size += int64(len(f)+len(val)) + fieldOverhead
		}
	case KindSet:
		for m := range v.Set {
			size += int64(len(m)) + fieldOverhead
		}
	case KindList:
		v.List.Each(func(e []byte) { size += int64(len(e)) + fieldOverhead })
	case KindZSet:
		for m := range v.ZSet.dict {
			size += int64(len(m)) + 2*fieldOverhead
		}
	}
	return size
}

// TTL returns key's expiry in unix ms; ok is false when the key has none.
func (db *DB) TTL(key string) (int64, bool) {
	when, ok := db.expires[key]
	return when, ok
}

// SetExpire sets key's absolute expiry (unix ms). The key must exist.
func (db *DB) SetExpire(key string, atMs int64) { db.expires[key] = atMs }

// Persist removes key's TTL.
func (db *DB) Persist(key string) bool {
	if _, ok := db.expires[key]; !ok {
		return false
	}
	delete(db.expires, key)
	return true
}

// Flush removes every key.
func (db *DB) Flush() {
	db.data = map[string]*Value{}
	db.expires = map[string]int64{}
	db.used = 0
}

// Active expiry parameters, from Redis's activeExpireCycle: sample 20 keys with a TTL, delete the
// expired ones, and repeat while more than 25% of the sample was expired, within a time budget.
const (
	ActiveExpireSample   = 20
	ActiveExpireRepeatPc = 25
)

// ActiveExpire runs one active expiry cycle bounded by budget and returns how many keys it
// reclaimed. Go's map iteration starts at a random bucket, which gives the random sample.
func (db *DB) ActiveExpire(budget time.Duration) int {
	start := time.Now()
	total := 0
	db.Stats.ActiveCycles++
	for {
		if len(db.expires) == 0 {
			return total
		}
		now := db.NowMs()
		sampled, expired := 0, 0
		var dead [ActiveExpireSample]string
		for k, when := range db.expires {
			if sampled == ActiveExpireSample {
				break
			}
			sampled++
			if when <= now {
				dead[expired] = k
				expired++
			}
		}
		for _, k := range dead[:expired] {
			db.remove(k)
			db.Stats.ExpiredKeys++
			if db.OnRemove != nil {
				db.OnRemove(k)
			}
		}
		total += expired
		if expired*100 <= sampled*ActiveExpireRepeatPc || time.Since(start) > budget {
			return total
		}
	}
}

// Keys returns every key (expired-but-unreclaimed included) in map order.
func (db *DB) Keys() []string {
	keys := make([]string, 0, len(db.data))
	for k := range db.data {
		keys = append(keys, k)
	}
	return keys
}

// Type returns key's kind, or 0.
func (db *DB) Type(key string) Kind {
	v := db.LookupWrite(key)
	if v == nil {
		return 0
	}
	return v.Kind
}

// Scan returns up to count keys from cursor and the next cursor (0 when the walk is complete).
// A cursor is a position in a 63-bit hash space, so, as in Redis, every key present for the
// whole iteration is returned, and keys added or removed meanwhile may or may not be. Each call
// costs O(N): acceptable for a lab keyspace, and the reason real Redis uses reverse-binary
// cursors over its hash table instead.
func (db *DB) Scan(cursor uint64, count int, match func(string) bool) ([]string, uint64) {
	type kp struct {
		key string
		pos uint64
	}
	var cand []kp
	for k := range db.data {
		if p := scanPos(k); p >= cursor {
			cand = append(cand, kp{k, p})
		}
	}
	slices.SortFunc(cand, func(a, b kp) int { return cmp.Compare(a.pos, b.pos) })
	n := min(count, len(cand))
	for n < len(cand) && n > 0 && cand[n].pos == cand[n-1].pos {
		n++
	}
	var next uint64
	if n < len(cand) {
		next = cand[n].pos
	}
	out := make([]string, 0, n)
	for _, c := range cand[:n] {
		if db.expireIfNeeded(c.key) {
			continue
		}
		if match == nil || match(c.key) {
			out = append(out, c.key)
		}
	}
	return out, next
}

func scanPos(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()>>1 + 1
}
