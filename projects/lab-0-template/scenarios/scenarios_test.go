package scenarios_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/scenarios"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestScenarios proves every lab-0 fault: symptom present with the fault on,
// absent with it off, and the culprit found in the evidence.
func TestScenarios(t *testing.T) {
	labtest.Run(t, scenarios.Lab())
}

func TestBadInputIsOneLineAndExitTwo(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-fault=bogus"}, "valid: off, on, list, mystery, no-graceful-shutdown, sync-logging, no-server-timeouts"},
		{[]string{"-duration=abc"}, "expected a positive Go duration"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := runner.Exec(context.Background(), scenarios.Lab(), tt.args, &out, &errOut)
		assert.Equal(t, runner.ExitUsage, code)
		assert.Contains(t, errOut.String(), tt.want)
		assert.Equal(t, 1, strings.Count(errOut.String(), "\n"))
	}
}
