package bufpool

import (
	"fmt"
	"strings"
)

// Policy chooses which unpinned frame the pool evicts when it needs room.
type Policy int

const (
	// LRU evicts the least recently used frame. One large scan evicts everything.
	LRU Policy = iota
	// LRUK evicts the frame whose K-th most recent reference (K=2) is oldest;
	// a page seen only once (a scan) goes before any page seen twice.
	LRUK
	// Midpoint is InnoDB's: new pages enter the head of an "old" sublist (3/8
	// of the pool) and move to the "young" head only when touched again after
	// OldBlocksTime, so a scan churns the old sublist and leaves the young one alone.
	Midpoint
)

// Policies lists every policy, in the order benchmarks report them.
var Policies = []Policy{LRU, LRUK, Midpoint}

// String returns the name used in flags, metrics labels and reports.
func (p Policy) String() string {
	switch p {
	case LRU:
		return "lru"
	case LRUK:
		return "lru-k"
	case Midpoint:
		return "midpoint"
	default:
		return fmt.Sprintf("policy(%d)", int(p))
	}
}

// ParsePolicy reads a policy name as String spells it.
func ParsePolicy(s string) (Policy, error) {
	for _, p := range Policies {
		if strings.EqualFold(s, p.String()) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown buffer pool policy %q: want lru, lru-k or midpoint", s)
}
