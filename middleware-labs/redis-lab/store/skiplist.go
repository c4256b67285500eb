package store

import "math/rand/v2"

// The sorted set is Redis's design (t_zset.c): a skiplist ordered by (score, member) for range
// queries and rank, plus a map member → score for O(1) ZSCORE. Span counts on each forward link
// make rank lookups O(log n).

const (
	skipMaxLevel = 32
	skipP        = 0.25
)

type skipNode struct {
	member string
	score  float64
	back   *skipNode
	level  []skipLevel
}

type skipLevel struct {
	forward *skipNode
	span    int
}

type skiplist struct {
	head   *skipNode
	tail   *skipNode
	length int
	level  int
	rnd    *rand.Rand
}

func newSkiplist(rnd *rand.Rand) *skiplist {
	return &skiplist{head: &skipNode{level: make([]skipLevel, skipMaxLevel)}, level: 1, rnd: rnd}
}

func (sl *skiplist) randomLevel() int {
	lvl := 1
	for lvl < skipMaxLevel && sl.rnd.Float64() < skipP {
		lvl++
	}
	return lvl
}

func less(score float64, member string, n *skipNode) bool {
	return n.score < score || (n.score == score && n.member < member)
}

func (sl *skiplist) insert(score float64, member string) {
	var update [skipMaxLevel]*skipNode
	var rank [skipMaxLevel]int
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		if i < sl.level-1 {
			rank[i] = rank[i+1]
		}
		for x.level[i].forward != nil && less(score, member, x.level[i].forward) {
			rank[i] += x.level[i].span
			x = x.level[i].forward
		}
		update[i] = x
	}
	lvl := sl.randomLevel()
	if lvl > sl.level {
		for i := sl.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = sl.head
			update[i].level[i].span = sl.length
		}
		sl.level = lvl
	}
	n := &skipNode{member: member, score: score, level: make([]skipLevel, lvl)}
	for i := 0; i < lvl; i++ {
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < sl.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != sl.head {
		n.back = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.back = n
	} else {
		sl.tail = n
	}
	sl.length++
}

func (sl *skiplist) delete(score float64, member string) bool {
	var update [skipMaxLevel]*skipNode
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && less(score, member, x.level[i].forward) {
			x = x.level[i].forward
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x == nil || x.score != score || x.member != member {
		return false
	}
	for i := 0; i < sl.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.back = x.back
	} else {
		sl.tail = x.back
	}
	for sl.level > 1 && sl.head.level[sl.level-1].forward == nil {
		sl.level--
	}
	sl.length--
	return true
}

// byRank returns the node at 0-based rank r, or nil.
func (sl *skiplist) byRank(r int) *skipNode {
	if r < 0 || r >= sl.length {
		return nil
	}
	traversed := 0
	x := sl.head
	target := r + 1
	for i := sl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= target {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == target {
			return x
		}
	}
	return nil
}

// firstInRange returns the first node with score >= min (or > min when exclusive).
func (sl *skiplist) firstInRange(min float64, exclusive bool) *skipNode {
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && (x.level[i].forward.score < min || (exclusive && x.level[i].forward.score == min)) {
			x = x.level[i].forward
		}
	}
	return x.level[0].forward
}

// ZSet is a sorted set.
type ZSet struct {
	dict map[string]float64
	sl   *skiplist
}

// NewZSet returns an empty sorted set; rnd drives the level coin flips.
func NewZSet(rnd *rand.Rand) *ZSet {
	return &ZSet{dict: map[string]float64{}, sl: newSkiplist(rnd)}
}

// Len is the number of members.
func (z *ZSet) Len() int { return len(z.dict) }

// Score returns a member's score.
func (z *ZSet) Score(member string) (float64, bool) {
	s, ok := z.dict[member]
	return s, ok
}

// Add inserts or updates a member; added reports a new member, changed an updated score.
func (z *ZSet) Add(score float64, member string) (added, changed bool) {
	if old, ok := z.dict[member]; ok {
		if old == score {
			return false, false
		}
		z.sl.delete(old, member)
		z.sl.insert(score, member)
		z.dict[member] = score
		return false, true
	}
	z.sl.insert(score, member)
	z.dict[member] = score
	return true, false
}

// Remove deletes a member.
func (z *ZSet) Remove(member string) bool {
	s, ok := z.dict[member]
	if !ok {
		return false
	}
	z.sl.delete(s, member)
	delete(z.dict, member)
	return true
}

// Member is one (member, score) pair.
type Member struct {
	Name  string
	Score float64
}

// RangeByRank returns members with rank in [start, stop] (inclusive, already normalized).
func (z *ZSet) RangeByRank(start, stop int, rev bool) []Member {
	if start > stop || start >= z.sl.length {
		return nil
	}
	out := make([]Member, 0, stop-start+1)
	if rev {
		n := z.sl.byRank(z.sl.length - 1 - start)
		for i := start; i <= stop && n != nil; i++ {
			out = append(out, Member{n.member, n.score})
			n = n.back
		}
		return out
	}
	n := z.sl.byRank(start)
	for i := start; i <= stop && n != nil; i++ {
		out = append(out, Member{n.member, n.score})
		n = n.level[0].forward
	}
	return out
}

// RangeByScore returns members with min <= score <= max (bounds optionally exclusive), skipping
// offset and returning at most count (count < 0: all).
func (z *ZSet) RangeByScore(min, max float64, minEx, maxEx bool, offset, count int) []Member {
	var out []Member
	for n := z.sl.firstInRange(min, minEx); n != nil; n = n.level[0].forward {
		if n.score > max || (maxEx && n.score == max) {
			break
		}
		if offset > 0 {
			offset--
			continue
		}
		if count == 0 {
			break
		}
		out = append(out, Member{n.member, n.score})
		if count > 0 {
			count--
		}
	}
	return out
}
