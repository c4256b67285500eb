package scenarios

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
)

// Two faults leave goroutines blocked forever, which is the defect they demonstrate: leaked
// fetch workers wait on a send nobody will receive, deadlocked tellers wait on locks whose
// owners wait too, and neither can be released from outside. goleak ignores exactly those
// frames (a leaked worker's top frame; any goroutine with Transfer on its stack, since its
// top frame is the runtime's semaphore wait); everything else the scenarios start must end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(LeakedFrame), goleak.IgnoreAnyFunction(StuckFrame))
}

func TestLab(t *testing.T) {
	labtest.Run(t, Lab())
}
