package scenarios

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLab proves every fault: with it on, each check shows the symptom and the culprit carries its
// share of the profile; with it off, no check fires; and the culprit is falsifiable (at most half
// its fault-on share with the fault off).
func TestLab(t *testing.T) {
	dir := t.TempDir()
	lab := Lab()
	labtest.Run(t, lab, labtest.KeepEvidence(dir))
	for _, sc := range lab.Scenarios {
		t.Run(sc.Fault+"/culprit-contrast", func(t *testing.T) {
			frame := sc.Culprit.Frame
			if frame == "" {
				frame = sc.Culprit.Func
			}
			share := func(side string) float64 {
				a, err := culprit.Analyze(filepath.Join(dir, sc.Fault+"-"+side, sc.Culprit.Evidence.File()))
				require.NoError(t, err)
				_, s := a.Share(frame)
				return s
			}
			on, off := share("on"), share("off")
			t.Logf("%s: %q carries %.1f%% of the %s profile with the fault on, %.1f%% with it off", sc.Fault, frame, 100*on, sc.Culprit.Evidence, 100*off)
			assert.LessOrEqual(t, off, on/2, "%s: the culprit must carry at most half its fault-on share with the fault off", sc.Fault)
		})
	}
}
