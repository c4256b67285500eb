package server

// globMatch reports whether s matches the glob pattern p with Redis's stringmatchlen semantics:
// * ? [abc] [^a-z] and \ escapes; an unterminated [ takes the rest of the pattern as its class;
// an empty string matches only the empty pattern. Every glob in the server goes through it:
// KEYS, SCAN/HSCAN/SSCAN/ZSCAN MATCH, PSUBSCRIBE and PUBLISH, PUBSUB CHANNELS, CONFIG GET.
//
// Why iterative with only the last star remembered: the recursive matcher (Redis before 7.0.9,
// and this server before issue 11) retries every earlier star at every position, which is
// exponential in the number of stars (CVE-2022-36021: 20 stars against 40 a's never returns,
// under the executor lock). Every token other than * consumes exactly one byte, so when the text
// after the last star fails, giving an earlier star more bytes can only shift that same text
// further right, which the last star already tries. Resuming at the last star is therefore
// enough, and the worst case is O(len(p) × len(s)) with no recursion. Redis instead kept the
// recursion and added an early exit plus a nesting limit of 1000; the loop needs neither.
func globMatch(p, s []byte) bool {
	if len(s) == 0 {
		return len(p) == 0
	}
	pi, si := 0, 0
	starP, starS := -1, 0 // pattern index after the last star, and where in s it resumed
	for si < len(s) {
		if pi < len(p) && p[pi] == '*' {
			for pi < len(p) && p[pi] == '*' {
				pi++
			}
			if pi == len(p) {
				return true
			}
			starP, starS = pi, si
			continue
		}
		if pi < len(p) {
			if n, ok := globOne(p[pi:], s[si]); ok {
				pi += n
				si++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++ // the last star swallows one more byte
		pi, si = starP, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// globOne matches the single-byte token at the start of p (not a star) against b and returns
// the token's length in p.
func globOne(p []byte, b byte) (int, bool) {
	switch p[0] {
	case '?':
		return 1, true
	case '\\':
		if len(p) >= 2 {
			return 2, p[1] == b
		}
		return 1, b == '\\'
	case '[':
		i := 1
		not := i < len(p) && p[i] == '^'
		if not {
			i++
		}
		match := false
		for i < len(p) && p[i] != ']' {
			switch {
			case p[i] == '\\' && i+1 < len(p):
				i++
				match = match || p[i] == b
			case i+2 < len(p) && p[i+1] == '-':
				lo, hi := p[i], p[i+2]
				if lo > hi {
					lo, hi = hi, lo
				}
				match = match || (b >= lo && b <= hi)
				i += 2
			default:
				match = match || p[i] == b
			}
			i++
		}
		if i < len(p) {
			i++ // the closing ]
		}
		return i, match != not
	default:
		return 1, p[0] == b
	}
}
