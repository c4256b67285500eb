package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// globReference is the textbook recursive matcher with Redis's stringmatchlen semantics. It is
// exponential on patterns with many stars, so the fuzz target only feeds it short inputs.
func globReference(p, s []byte) bool {
	if len(s) == 0 {
		return len(p) == 0
	}
	return globRef(p, s)
}

// globRef is the matcher this server shipped before issue 11, kept as the oracle.
func globRef(p, s []byte) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globRef(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for len(p) > 0 && p[0] != ']' {
				switch {
				case p[0] == '\\' && len(p) >= 2:
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				case len(p) >= 3 && p[1] == '-':
					lo, hi := p[0], p[2]
					if lo > hi {
						lo, hi = hi, lo
					}
					if s[0] >= lo && s[0] <= hi {
						match = true
					}
					p = p[2:]
				default:
					if p[0] == s[0] {
						match = true
					}
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if len(s) == 0 || p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		if len(p) > 0 {
			p = p[1:]
		}
	}
	return len(s) == 0
}

// evilPattern is the CVE-2022-36021 shape: n stars between a's, then a b that never matches.
func evilPattern(n int) string { return strings.Repeat("a*", n) + "b" }

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"*", "", false}, // stringmatchlen: an empty string matches only an empty pattern
		{"**", "", false},
		{"*", "a", true},
		{"a*", "a", true},
		{"a**", "a", true},
		{"a?*", "a", false},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h*llo", "hllo", true},
		{"h*llo", "heeeello", true},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hallo", true}, // reversed range, as Redis swaps the ends
		{"h[a-b]llo", "hcllo", false},
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hallo", false},
		{`[\]]`, "]", true},
		{"[abc", "b", true}, // unterminated class: the rest of the pattern is the class
		{"[abc", "bc", false},
		{`\`, `\`, true},
		{"*a*b*c", "xxaxxbxxc", true},
		{"*a*b*c", "xxaxxcxxb", false},
		{"user:*:name", "user:42:name", true},
		{"user:*:name", "user:42:email", false},
		{evilPattern(20), strings.Repeat("a", 40), false},
		{evilPattern(20) + "*", strings.Repeat("a", 40) + "b", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"|"+tt.s, func(t *testing.T) {
			assert.Equal(t, tt.want, globMatch([]byte(tt.pattern), []byte(tt.s)))
			if len(tt.s) <= 16 {
				assert.Equal(t, tt.want, globReference([]byte(tt.pattern), []byte(tt.s)), "reference")
			}
		})
	}
}

// TestGlobMatchIsPolynomial is issue 11's hang: with the recursive matcher, 20 stars against 40
// a's backtrack exponentially and this never returns. Run on its own goroutine so the test fails
// within seconds instead of hanging the package.
func TestGlobMatchIsPolynomial(t *testing.T) {
	done := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		p, s := []byte(evilPattern(200)), []byte(strings.Repeat("a", 4000))
		for range 10 {
			globMatch(p, s)
		}
		done <- time.Since(start)
	}()
	select {
	case d := <-done:
		t.Logf("10 matches of a 401-byte pattern against 4000 bytes: %v", d)
	case <-time.After(3 * time.Second):
		t.Fatal("globMatch did not return within 3 s: it backtracks exponentially (CVE-2022-36021)")
	}
}

// TestKeysEvilPatternDoesNotStall runs issue 11's reproduction against the server: KEYS with the
// evil pattern answers quickly, and another client is served meanwhile.
func TestKeysEvilPatternDoesNotStall(t *testing.T) {
	_, addr := start(t, Config{})
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: 3 * time.Second})
	t.Cleanup(func() { rdb.Close() })
	key := strings.Repeat("a", 40)
	require.NoError(t, rdb.Set(ctx, key, "1", 0).Err())
	start := time.Now()
	keys, err := rdb.Keys(ctx, evilPattern(20)).Result()
	require.NoError(t, err)
	assert.Empty(t, keys)
	assert.Less(t, time.Since(start), time.Second)
	for _, cmd := range [][]any{
		{"SCAN", "0", "MATCH", evilPattern(20), "COUNT", "100"},
		{"CONFIG", "GET", evilPattern(20)},
		{"PUBSUB", "CHANNELS", evilPattern(20)},
	} {
		require.NoError(t, rdb.Do(ctx, cmd...).Err(), cmd)
	}
	assert.Equal(t, []string{key}, rdb.Keys(ctx, strings.Repeat("a*", 20)+"a").Val())
	assert.Equal(t, "PONG", rdb.Ping(ctx).Val())
	// As Redis: "*" lists the empty key, "**" does not (stringmatchlen never matches "").
	require.NoError(t, rdb.Set(ctx, "", "empty", 0).Err())
	assert.ElementsMatch(t, []string{key, ""}, rdb.Keys(ctx, "*").Val())
	assert.Equal(t, []string{key}, rdb.Keys(ctx, "**").Val())
}

// FuzzGlobMatch compares the linear matcher with the recursive reference on short inputs (where
// the reference is fast), and bounds the matcher's time on any input.
// Run: go test -run '^$' -fuzz FuzzGlobMatch -fuzztime 30s ./server
func FuzzGlobMatch(f *testing.F) {
	seeds := [][2]string{
		{"*", "a"}, {"h?llo", "hello"}, {"h[^e]llo", "hallo"}, {"[a-", "b"}, {`\`, `\`},
		{"[abc", "b"}, {`[\]]`, "]"}, {"*a*b*c", "xaxbxc"}, {"a*a*a*b", "aaaaaa"}, {"", ""}, {"**", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		start := time.Now()
		got := globMatch([]byte(pattern), []byte(s))
		// O(len(pattern) × len(s)): even 64 KiB × 64 KiB would be far from this bound.
		if d := time.Since(start); d > time.Second {
			t.Fatalf("globMatch(%q, %q) took %v", pattern, s, d)
		}
		if len(pattern) > 16 || len(s) > 16 {
			return
		}
		if want := globReference([]byte(pattern), []byte(s)); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, reference says %v", pattern, s, got, want)
		}
	})
}
