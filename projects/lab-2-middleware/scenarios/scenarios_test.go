package scenarios

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLab proves every fault: with it on each check shows the symptom and the culprit is found in
// the evidence; with it off no check does. A 1.5s window (half the lab's) keeps the caches and the
// queue near 12s; every one still sees at least one expiry, burst or overload in it. The retry
// storm gets the lab's whole 3s window: its fault-on recovery time is the rest of the window after
// the trigger (2.05s), and the fixed path's (0.05-0.13s in go test -run TestLab/retry-storm runs)
// needs that much room to stay 10x below it.
func TestLab(t *testing.T) {
	labtest.Run(t, Lab(), labtest.Duration(1500*time.Millisecond),
		labtest.Only("cache-breakdown", "cache-avalanche", "queue-backlog"))
	labtest.Run(t, Lab(), labtest.Duration(3*time.Second), labtest.Only("retry-storm"))
}
