// Package lock is a row-lock manager: shared and exclusive locks on keys, held
// until the transaction ends (two-phase locking), waits bounded by a timeout,
// and a wait-for-graph deadlock detector that runs whenever a transaction
// starts to wait, picks a victim and keeps an InnoDB-shaped report of it.
package lock

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Manager.
type Options struct {
	WaitTimeout time.Duration         // innodb_lock_wait_timeout; 50 s
	Registerer  prometheus.Registerer // nil: metrics are counted but not exported
	Now         func() time.Time      // the deadlock report's clock; time.Now
}

// Manager grants row locks. It is safe for concurrent use.
type Manager struct {
	opts Options

	mu     sync.Mutex
	rows   map[string]*row
	txns   map[uint64]*txn
	latest string

	waits, timeouts, deadlocks atomic.Uint64
	m                          struct{ waits, timeouts, deadlocks prometheus.Counter }
}

type row struct {
	id      string // tree + "\x00" + key
	tree    string
	key     []byte
	holders map[uint64]Mode
	queue   []*waiter
}

type waiter struct {
	txn   uint64
	mode  Mode
	ready chan error // buffered: the granter never blocks
}

type txn struct {
	id        uint64
	started   time.Time
	statement string // the statement running, for the deadlock report
	held      map[string]*row
	waiting   *waiter
	waitingOn *row
}

// New makes a Manager.
func New(opts Options) (*Manager, error) {
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 50 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Manager{opts: opts, rows: map[string]*row{}, txns: map[uint64]*txn{}}
	m.m.waits = prometheus.NewCounter(prometheus.CounterOpts{Name: "mysqllab_lock_waits_total", Help: "Row lock requests that had to wait."})
	m.m.timeouts = prometheus.NewCounter(prometheus.CounterOpts{Name: "mysqllab_lock_wait_timeouts_total", Help: "Row lock waits that ended in ER_LOCK_WAIT_TIMEOUT (1205)."})
	m.m.deadlocks = prometheus.NewCounter(prometheus.CounterOpts{Name: "mysqllab_deadlocks_total", Help: "Deadlocks detected; each rolled back one victim (ER_LOCK_DEADLOCK, 1213)."})
	if opts.Registerer != nil {
		if err := telemetry.Register(opts.Registerer, m.m.waits, m.m.timeouts, m.m.deadlocks); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Stats are the manager's counters.
type Stats struct{ Waits, Timeouts, Deadlocks uint64 }

// Stats returns the counters.
func (m *Manager) Stats() Stats {
	return Stats{Waits: m.waits.Load(), Timeouts: m.timeouts.Load(), Deadlocks: m.deadlocks.Load()}
}

// LatestDeadlock is the report of the most recent deadlock, or "".
func (m *Manager) LatestDeadlock() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.latest
}

func (m *Manager) txnLocked(id uint64) *txn {
	t, ok := m.txns[id]
	if !ok {
		t = &txn{id: id, started: m.opts.Now(), held: map[string]*row{}}
		m.txns[id] = t
	}
	return t
}

// grantable reports whether tx may hold r in mode given the other holders.
func (r *row) grantable(tx uint64, mode Mode) bool {
	for h, hm := range r.holders {
		if h != tx && !compatible(hm, mode) {
			return false
		}
	}
	return true
}

// SetStatement records the statement tx is running, which a deadlock report
// prints under the transaction as InnoDB does.
func (m *Manager) SetStatement(tx uint64, statement string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.txnLocked(tx).statement = statement
}

// Acquire takes a lock on (tree, key) for transaction tx, waiting while an
// incompatible lock is held. It returns ErrDeadlock if tx was chosen as a
// deadlock victim, ErrLockWaitTimeout after the wait timeout, or ctx's error.
// After ErrDeadlock the caller must ReleaseAll(tx): that is what lets the
// other transactions in the cycle go on.
func (m *Manager) Acquire(ctx context.Context, tx uint64, tree string, key []byte, mode Mode) error {
	if mode != Shared && mode != Exclusive {
		return fmt.Errorf("lock: unknown mode %d", mode)
	}
	id := tree + "\x00" + string(key)
	m.mu.Lock()
	t := m.txnLocked(tx)
	r, ok := m.rows[id]
	if !ok {
		r = &row{id: id, tree: tree, key: append([]byte(nil), key...), holders: map[uint64]Mode{}}
		m.rows[id] = r
	}
	if held, ok := r.holders[tx]; ok && (held == Exclusive || mode == Shared) {
		m.mu.Unlock()
		return nil
	}
	if r.grantable(tx, mode) {
		r.holders[tx] = mode
		t.held[id] = r
		m.mu.Unlock()
		return nil
	}
	w := &waiter{txn: tx, mode: mode, ready: make(chan error, 1)}
	r.queue = append(r.queue, w)
	t.waiting, t.waitingOn = w, r
	m.waits.Add(1)
	m.m.waits.Inc()
	if cycle := m.findCycle(tx); cycle != nil {
		victim := m.chooseVictim(cycle)
		m.latest = m.report(cycle, victim)
		m.deadlocks.Add(1)
		m.m.deadlocks.Inc()
		vt := m.txns[victim]
		vw := vt.waiting
		m.stopWaiting(vt)
		if victim == tx {
			m.mu.Unlock()
			return ErrDeadlock
		}
		vw.ready <- ErrDeadlock
	}
	m.mu.Unlock()

	timer := time.NewTimer(m.opts.WaitTimeout)
	defer timer.Stop()
	var err error
	timedOut := false
	select {
	case err = <-w.ready:
		return err
	case <-timer.C:
		err, timedOut = ErrLockWaitTimeout, true
	case <-ctx.Done():
		err = fmt.Errorf("lock: waiting for a row lock: %w", ctx.Err())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case granted := <-w.ready: // the grant or a victim verdict raced the timeout: it wins
		return granted
	default:
	}
	m.stopWaiting(t)
	if timedOut {
		m.timeouts.Add(1)
		m.m.timeouts.Inc()
	}
	return err
}

// stopWaiting takes t's waiter out of its row's queue.
func (m *Manager) stopWaiting(t *txn) {
	if t.waiting == nil {
		return
	}
	r := t.waitingOn
	r.queue = slices.DeleteFunc(r.queue, func(w *waiter) bool { return w == t.waiting })
	t.waiting, t.waitingOn = nil, nil
	m.regrant(r)
}

// ReleaseAll releases every lock of tx (commit or rollback) and grants what
// its waiters can now have.
func (m *Manager) ReleaseAll(tx uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.txns[tx]
	if !ok {
		return
	}
	m.stopWaiting(t)
	for _, r := range t.held {
		delete(r.holders, tx)
		m.regrant(r)
	}
	delete(m.txns, tx)
}

// regrant grants every queued request compatible with the holders, in
// arrival order. It does not stop at the first one that must keep waiting:
// a waiter is then always blocked by a holder, which is what the wait-for
// graph sees, so no deadlock can hide behind a queue position. (The price: a
// stream of shared requests can keep an exclusive one waiting.)
func (m *Manager) regrant(r *row) {
	kept := r.queue[:0]
	for _, w := range r.queue {
		if !r.grantable(w.txn, w.mode) {
			kept = append(kept, w)
			continue
		}
		if held := r.holders[w.txn]; held != Exclusive {
			r.holders[w.txn] = w.mode
		}
		t := m.txns[w.txn]
		t.held[r.id] = r
		t.waiting, t.waitingOn = nil, nil
		w.ready <- nil
	}
	clear(r.queue[len(kept):])
	r.queue = kept
	if len(r.holders) == 0 && len(r.queue) == 0 {
		delete(m.rows, r.id)
	}
}

// findCycle looks for a path in the wait-for graph from start back to start.
// A waiting transaction waits for every holder of its row whose lock is
// incompatible with the mode it asked for; each transaction waits for at
// most one row, so the search is a walk over a small graph.
func (m *Manager) findCycle(start uint64) []uint64 {
	var path []uint64
	seen := map[uint64]bool{}
	var dfs func(tx uint64) bool
	dfs = func(tx uint64) bool {
		t := m.txns[tx]
		if t == nil || t.waiting == nil {
			return false
		}
		path = append(path, tx)
		seen[tx] = true
		r := t.waitingOn
		holders := make([]uint64, 0, len(r.holders))
		for h := range r.holders {
			holders = append(holders, h)
		}
		slices.Sort(holders) // a deterministic report
		for _, h := range holders {
			if h == tx || compatible(r.holders[h], t.waiting.mode) {
				continue
			}
			if h == start {
				return true
			}
			if !seen[h] && dfs(h) {
				return true
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if dfs(start) {
		return path
	}
	return nil
}

// chooseVictim picks the transaction holding the fewest locks, the cheapest
// to roll back and retry (InnoDB weighs rows modified and locked the same
// way); on a tie, the youngest, which has done the least work.
func (m *Manager) chooseVictim(cycle []uint64) uint64 {
	best := cycle[0]
	for _, tx := range cycle[1:] {
		nb, nt := len(m.txns[best].held), len(m.txns[tx].held)
		if nt < nb || (nt == nb && tx > best) {
			best = tx
		}
	}
	return best
}

// report renders the deadlock as SHOW ENGINE INNODB STATUS does.
func (m *Manager) report(cycle []uint64, victim uint64) string {
	now := m.opts.Now()
	var b strings.Builder
	b.WriteString("------------------------\nLATEST DETECTED DEADLOCK\n------------------------\n")
	fmt.Fprintf(&b, "%s\n", now.UTC().Format("2006-01-02 15:04:05"))
	victimN := 0
	for i, tx := range cycle {
		n := i + 1
		if tx == victim {
			victimN = n
		}
		t := m.txns[tx]
		fmt.Fprintf(&b, "*** (%d) TRANSACTION:\n", n)
		fmt.Fprintf(&b, "TRANSACTION %d, ACTIVE %d sec starting index read\n", tx, int(now.Sub(t.started).Seconds()))
		fmt.Fprintf(&b, "LOCK WAIT %d lock struct(s), %d row lock(s)\n", len(t.held)+1, len(t.held))
		if t.statement != "" {
			fmt.Fprintf(&b, "%s\n", t.statement)
		}
		fmt.Fprintf(&b, "*** (%d) HOLDS THE LOCK(S):\n", n)
		held := make([]*row, 0, len(t.held))
		for _, r := range t.held {
			held = append(held, r)
		}
		slices.SortFunc(held, func(a, b *row) int { return strings.Compare(a.id, b.id) })
		for _, r := range held {
			writeRecordLock(&b, r, tx, r.holders[tx], false)
		}
		fmt.Fprintf(&b, "*** (%d) WAITING FOR THIS LOCK TO BE GRANTED:\n", n)
		writeRecordLock(&b, t.waitingOn, tx, t.waiting.mode, true)
	}
	fmt.Fprintf(&b, "*** WE ROLL BACK TRANSACTION (%d)\n", victimN)
	return b.String()
}

func writeRecordLock(b *strings.Builder, r *row, tx uint64, mode Mode, waiting bool) {
	suffix := ""
	if waiting {
		suffix = " waiting"
	}
	fmt.Fprintf(b, "RECORD LOCKS index `%s` trx id %d lock_mode %s locks rec but not gap%s\n", r.tree, tx, mode, suffix)
	fmt.Fprintf(b, "Record lock, PHYSICAL RECORD: n_fields 1; hex %x; asc %s;;\n", r.key, printable(r.key))
}

func printable(k []byte) string {
	out := make([]byte, len(k))
	for i, c := range k {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}
