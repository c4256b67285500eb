package idgen

import (
	"slices"
	"sync"

	"go.uber.org/zap"
)

// Checker collects IDs from several generators and finds the ones issued
// more than once. It keeps 8 bytes per ID and sorts once at the end, so a
// few million IDs cost tens of megabytes and well under a second; a map
// would cost about five times the memory.
type Checker struct {
	mu  sync.Mutex
	ids []int64
}

// Add records a batch of IDs.
func (c *Checker) Add(ids []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = append(c.ids, ids...)
}

// Len is how many IDs were recorded.
func (c *Checker) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

// Duplicates returns every ID seen more than once (each once) and how
// many extra copies there were in all.
func (c *Checker) Duplicates() (dups []int64, extra int) {
	c.mu.Lock()
	ids := slices.Clone(c.ids)
	c.mu.Unlock()
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1] {
			continue
		}
		extra++
		if len(dups) == 0 || dups[len(dups)-1] != ids[i] {
			dups = append(dups, ids[i])
		}
	}
	return dups, extra
}

// Report logs a warning for each of the first limit duplicates (with the
// node and millisecond that issued it) and a summary warning when there
// are any. It is silent for a clean set.
func (c *Checker) Report(log *zap.Logger, limit int) (dups []int64, extra int) {
	dups, extra = c.Duplicates()
	for i, id := range dups {
		if i == limit {
			break
		}
		at, node, seq := Parts(id)
		log.Warn("duplicate id", zap.Int64("id", id), zap.Int("node", node), zap.Int("seq", seq),
			zap.Time("ms", at))
	}
	if len(dups) > 0 {
		log.Warn("ids issued more than once", zap.Int("ids", len(dups)), zap.Int("extra_copies", extra),
			zap.Int("checked", c.Len()))
	}
	return dups, extra
}
