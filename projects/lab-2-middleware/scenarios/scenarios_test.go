package scenarios

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLab proves every fault: with it on each check shows the symptom and the culprit is found in
// the evidence; with it off no check does. A 1.5s window (half the lab's) keeps one pass near 15s;
// every scenario still sees at least one expiry, burst or overload in it.
func TestLab(t *testing.T) {
	labtest.Run(t, Lab(), labtest.Duration(1500*time.Millisecond))
}
