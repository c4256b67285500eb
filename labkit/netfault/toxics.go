package netfault

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/Shopify/toxiproxy/v2/toxics"
)

// toxiproxy's own latency jitter and toxicity draw from the global math/rand,
// which a seed cannot replay. These two toxics take their seed from the
// Network, so the same seed= gives the same jitter sequence and the same
// dropped connections on every link. Registering them is how toxiproxy is
// extended (its registry is its own, like database/sql's drivers).
func init() {
	toxics.Register(seededLatency, new(latencyToxic))
	toxics.Register(seededDrop, new(dropToxic))
}

const (
	seededLatency = "labkit_latency"
	seededDrop    = "labkit_drop"
)

// seeded is a random source built from a seed the first time it is used.
// One toxic serves every connection of its link, concurrently.
type seeded struct {
	Seed uint64 `json:"seed"`

	once sync.Once
	mu   sync.Mutex
	r    *rand.Rand
}

func (s *seeded) float() float64 {
	s.once.Do(func() { s.r = rand.New(rand.NewPCG(s.Seed, 0x6e6574)) })
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Float64()
}

// latencyToxic delays each chunk by latency ± jitter (milliseconds), like
// toxiproxy's "latency", with the jitter drawn from the seed.
type latencyToxic struct {
	Latency int64 `json:"latency"`
	Jitter  int64 `json:"jitter"`
	seeded
}

func (t *latencyToxic) GetBufferSize() int { return 1024 }

func (t *latencyToxic) delay() time.Duration {
	d := float64(t.Latency)
	if t.Jitter > 0 {
		d += (2*t.float() - 1) * float64(t.Jitter)
	}
	return time.Duration(d * float64(time.Millisecond))
}

func (t *latencyToxic) Pipe(stub *toxics.ToxicStub) {
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			// A chunk that already waited in the pipe owes less delay.
			wait := time.NewTimer(t.delay() - time.Since(c.Timestamp))
			select {
			case <-wait.C:
				stub.Output <- c
			case <-stub.Interrupt:
				wait.Stop()
				stub.Output <- c // never lose bytes on the way out
				return
			}
		}
	}
}

// dropToxic blackholes each connection of its link with probability P: its
// bytes are swallowed, as a lost flow's are, and the rest pass untouched.
// It drops whole connections rather than chunks because TCP never loses a
// chunk and carries on: it retransmits, or the connection dies.
type dropToxic struct {
	P float64 `json:"p"`
	seeded
}

type dropState struct{ dropping *bool }

func (t *dropToxic) NewState() any { return &dropState{} }

func (t *dropToxic) Pipe(stub *toxics.ToxicStub) {
	st := stub.State.(*dropState)
	if st.dropping == nil { // decided once per connection, kept across interruptions
		d := t.float() < t.P
		st.dropping = &d
	}
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			if !*st.dropping {
				stub.Output <- c
			}
		}
	}
}

// Cleanup closes a dropped connection when the toxic is removed: bytes are
// missing from its stream, so nothing after them could be read correctly.
func (t *dropToxic) Cleanup(stub *toxics.ToxicStub) {
	if st, ok := stub.State.(*dropState); ok && st.dropping != nil && *st.dropping {
		stub.Close()
	}
}
