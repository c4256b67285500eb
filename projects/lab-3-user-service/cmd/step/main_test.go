package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBadArgumentsAreOneLineErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"unknown step":   {[]string{"-step=microkernel"}, `unknown step "microkernel": expected monolith, modular, split or seedling`},
		"stray argument": {[]string{"seedling"}, `unexpected argument "seedling"`},
		"zero users":     {[]string{"-step=seedling", "-users=0"}, "must be positive"},
		"bad duration":   {[]string{"-measure", "-d=fast"}, `invalid value "fast"`},
	} {
		err := run(context.Background(), tc.args)
		if assert.Error(t, err, name) {
			assert.Contains(t, err.Error(), tc.want, name)
			assert.NotContains(t, err.Error(), "\n", "%s: one line", name)
		}
	}
}
