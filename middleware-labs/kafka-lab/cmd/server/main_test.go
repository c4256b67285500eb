package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBadFlagsAreOneLineErrorsNamingWhatIsExpected(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-fsync", "sometimes"}, "expected batch or interval"},
		{[]string{"-partitions", "0"}, "expected a whole number 1..1024"},
		{[]string{"-partitions", "three"}, "expected a whole number 1..1024"},
		{[]string{"-fault", "on"}, "no fault switch"},
		{[]string{"-addr", "nowhere", "-debug-addr", "", "-data", "DATA"}, "expected a free host:port"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			for i, a := range tc.args {
				if a == "DATA" {
					tc.args[i] = t.TempDir()
				}
			}
			err := run(tc.args)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}
