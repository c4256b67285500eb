package scenarios

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLab proves every fault: with it on, each check shows the symptom and
// the culprit carries its share of the evidence; with it off, no check
// fires and the culprit carries at most half that share.
func TestLab(t *testing.T) { labtest.Run(t, Lab()) }
