package password

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckPolicy(t *testing.T) {
	cases := []struct {
		pw, email, name string
		ok              bool
	}{
		{"            ", "a@example.com", "A", false},
		{"aaaaaaaaaaaa", "a@example.com", "A", false},
		{"aaaaaaaaaaab", "a@example.com", "A", false},
		{"123456789012", "a@example.com", "A", false},
		{"098765432109", "a@example.com", "A", false},
		{"passwordpassword", "a@example.com", "A", false},
		{"qwertyuiopas", "a@example.com", "A", false},
		{"zyxwvutsrqpo", "a@example.com", "A", false},
		{"1qaz2wsx3edc", "a@example.com", "A", false},
		{"abab-abab-abab", "a@example.com", "A", false},
		{"Password1234", "a@example.com", "A", false},
		{"!!Dragon2024!!", "a@example.com", "A", false},
		{"iloveyou1234", "a@example.com", "A", false},
		{"short", "a@example.com", "A", false},
		{strings.Repeat("x1y2", 40), "a@example.com", "A", false},
		{"kayak.owner-2024", "kayak.owner@example.com", "K", false},
		{"margaret-1987-x", "m@example.com", "Margaret", false},
		{"correct-horse-battery", "a@example.com", "A", true},
		{"violet-tractor-42-kayak", "a@example.com", "A", true},
		{"ünïcödé-päss-wörd", "a@example.com", "A", true},
		{"dragonfly in amber 7", "a@example.com", "A", true},
	}
	for _, c := range cases {
		t.Run(c.pw, func(t *testing.T) {
			err := CheckPolicy(c.pw, c.email, c.name)
			if c.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrWeak)
			}
		})
	}
}

func TestCommonListIsLowerCase(t *testing.T) {
	require.Greater(t, len(commonSet), 150)
	for w := range commonSet {
		require.Equal(t, strings.ToLower(w), w)
	}
}
