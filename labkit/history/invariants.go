package history

import (
	"fmt"
	"strconv"
	"strings"
)

// NoLostWrites holds when every element an "add" acknowledged (Outcome OK,
// Input the element) is in the last successful "read" (Output the elements,
// comma-separated) — the set a queue or a log must not forget.
func NoLostWrites() Check {
	return Invariant(func(ops []Op) (bool, map[string]int, string) {
		final, ok := lastRead(ops)
		if !ok {
			return false, map[string]int{"acknowledged": 0}, "no successful final read to compare with"
		}
		seen := set(final.Output)
		counts := map[string]int{"acknowledged": 0, "lost": 0, "read": len(seen)}
		first := ""
		for _, op := range ops {
			if op.Kind != "add" || op.Outcome != OK {
				continue
			}
			counts["acknowledged"]++
			if !seen[op.Input] {
				counts["lost"]++
				if first == "" {
					first = fmt.Sprintf("client %d's add(%s) was acknowledged and is not in the final read", op.Client, op.Input)
				}
			}
		}
		return counts["lost"] == 0, counts, first
	})
}

// NoDuplicates holds when no element appears twice in the last successful
// "read" (a retried add that was applied twice).
func NoDuplicates() Check {
	return Invariant(func(ops []Op) (bool, map[string]int, string) {
		final, ok := lastRead(ops)
		if !ok {
			return false, map[string]int{}, "no successful final read to compare with"
		}
		counts := map[string]int{"read": 0, "duplicates": 0}
		seen := map[string]bool{}
		first := ""
		for _, e := range split(final.Output) {
			counts["read"]++
			if seen[e] {
				counts["duplicates"]++
				if first == "" {
					first = fmt.Sprintf("%s appears more than once in the final read", e)
				}
			}
			seen[e] = true
		}
		return counts["duplicates"] == 0, counts, first
	})
}

// AtMostOneLeaderPerTerm holds when no two "leader" observations (Key the
// term, Output the node that claimed it) name different nodes for one term.
func AtMostOneLeaderPerTerm() Check {
	return Invariant(func(ops []Op) (bool, map[string]int, string) {
		leaders := map[string]string{}
		counts := map[string]int{"observations": 0, "terms": 0, "split_terms": 0}
		split := map[string]bool{}
		first := ""
		for _, op := range ops {
			if op.Kind != "leader" || op.Outcome != OK {
				continue
			}
			counts["observations"]++
			prev, ok := leaders[op.Key]
			switch {
			case !ok:
				leaders[op.Key] = op.Output
				counts["terms"]++
			case prev != op.Output && !split[op.Key]:
				split[op.Key] = true
				counts["split_terms"]++
				if first == "" {
					first = fmt.Sprintf("term %s has two leaders: %s and %s", op.Key, prev, op.Output)
				}
			}
		}
		return counts["split_terms"] == 0, counts, first
	})
}

// NoOversell holds when the acknowledged "buy" operations (Input the
// quantity, 1 when empty) add up to at most stock.
func NoOversell(stock int) Check {
	return Invariant(func(ops []Op) (bool, map[string]int, string) {
		counts := map[string]int{"stock": stock, "sold": 0, "acknowledged": 0}
		for _, op := range ops {
			if op.Kind != "buy" || op.Outcome != OK {
				continue
			}
			n, err := strconv.Atoi(op.Input)
			if op.Input == "" || err != nil {
				n = 1
			}
			counts["acknowledged"]++
			counts["sold"] += n
		}
		if counts["sold"] > stock {
			return false, counts, fmt.Sprintf("%d sold of a stock of %d", counts["sold"], stock)
		}
		return true, counts, ""
	})
}

func lastRead(ops []Op) (Op, bool) {
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i].Kind == "read" && ops[i].Outcome == OK {
			return ops[i], true
		}
	}
	return Op{}, false
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func set(s string) map[string]bool {
	out := map[string]bool{}
	for _, e := range split(s) {
		out[e] = true
	}
	return out
}
