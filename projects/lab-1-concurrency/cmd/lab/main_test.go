package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/scenarios"
)

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"list", []string{"-fault=list"}, 0, []string{"goroutine-leak", "deadlock", "cpu-spike", "memory-bloat"}},
		{"unknown fault", []string{"-fault=nope"}, 2, []string{"nope"}},
		{"bad duration", []string{"-duration=soon"}, 2, []string{"soon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runner.Exec(context.Background(), scenarios.Lab(), tt.args, &out, &errOut)
			assert.Equal(t, tt.wantCode, code, "stdout: %s\nstderr: %s", out.String(), errOut.String())
			for _, w := range tt.want {
				assert.Contains(t, out.String()+errOut.String(), w)
			}
		})
	}
}
