// Package idgen hands out unique 64-bit IDs without asking anyone for each
// one: a snowflake generator (time, node, sequence) that survives its clock
// going back, a Leaf-style segment allocator on the replicated KV, and a
// checker that proves a few million of them unique.
package idgen

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Bit layout: 1 unused sign bit, 41 bits of milliseconds since Epoch (69
// years), 10 bits of node (1024 nodes), 12 bits of sequence (4096 IDs per
// millisecond per node).
const (
	timeBits = 41
	nodeBits = 10
	seqBits  = 12
	maxNode  = 1<<nodeBits - 1
	maxSeq   = 1<<seqBits - 1
)

// Epoch is the generator's time zero: 2024-01-01 UTC.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrClockRollback is returned while the clock is further behind the last
// issued ID than the generator will wait for.
var ErrClockRollback = errors.New("idgen: clock moved backwards")

// Clock is the generator's time source and its way to wait. Tests and the
// clock-rollback scenario inject one; production uses SystemClock.
type Clock interface {
	Now() time.Time
	Sleep(d time.Duration)
}

// SystemClock is the machine's clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep is time.Sleep.
func (SystemClock) Sleep(d time.Duration) { time.Sleep(d) }

// Config shapes a Snowflake.
type Config struct {
	Node  int   // 0..1023, unique per generator
	Clock Clock // SystemClock when nil
	// MaxWait is the largest rollback the generator waits out (default
	// 50ms, an NTP step's usual size); a larger one is refused with
	// ErrClockRollback until the clock catches up.
	MaxWait time.Duration
	// TrustClock is the clock-rollback fault: the generator takes the time
	// it reads as it is, so after a rollback it issues the milliseconds it
	// has already used again, and their sequence numbers with them.
	TrustClock bool
}

// Snowflake issues IDs for one node.
type Snowflake struct {
	cfg Config

	mu     sync.Mutex
	lastMS int64
	seq    int64
}

// NewSnowflake checks cfg and returns a generator.
func NewSnowflake(cfg Config) (*Snowflake, error) {
	if cfg.Node < 0 || cfg.Node > maxNode {
		return nil, fmt.Errorf("idgen: node %d: expected 0..%d", cfg.Node, maxNode)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 50 * time.Millisecond
	}
	return &Snowflake{cfg: cfg, lastMS: -1}, nil
}

func (g *Snowflake) millis() int64 { return g.cfg.Clock.Now().Sub(Epoch).Milliseconds() }

// Next returns a new ID, or ErrClockRollback while the clock is more than
// MaxWait behind the last ID issued.
func (g *Snowflake) Next() (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := g.millis()
	// exercise:begin clock-rollback
	if ms < g.lastMS && !g.cfg.TrustClock {
		back := time.Duration(g.lastMS-ms) * time.Millisecond
		if back > g.cfg.MaxWait {
			return 0, fmt.Errorf("%w by %s (the most it waits is %s)", ErrClockRollback, back, g.cfg.MaxWait)
		}
		// A small step back: wait until the clock is past the last
		// millisecond used, rather than reuse it.
		for ms < g.lastMS {
			g.cfg.Clock.Sleep(time.Duration(g.lastMS-ms) * time.Millisecond)
			ms = g.millis()
		}
	}
	// exercise:stub
	// _ = ms // the clock is trusted as it reads
	// exercise:end
	if ms >= 1<<timeBits {
		return 0, fmt.Errorf("idgen: %d ms since the epoch do not fit in %d bits", ms, timeBits)
	}
	if ms == g.lastMS {
		g.seq = (g.seq + 1) & maxSeq
		if g.seq == 0 {
			// 4096 IDs in this millisecond already: wait for the next.
			for ms <= g.lastMS {
				g.cfg.Clock.Sleep(100 * time.Microsecond)
				ms = g.millis()
			}
		}
	} else {
		g.seq = 0
	}
	g.lastMS = ms
	return ms<<(nodeBits+seqBits) | int64(g.cfg.Node)<<seqBits | g.seq, nil
}

// Parts splits an ID into its time, node and sequence.
func Parts(id int64) (at time.Time, node, seq int) {
	ms := id >> (nodeBits + seqBits)
	return Epoch.Add(time.Duration(ms) * time.Millisecond), int(id>>seqBits) & maxNode, int(id & maxSeq)
}
