package scenarios_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvnode"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/scenarios"
	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
)

// TestMain makes this test binary the node program too: a node.Cluster
// re-executes it with the node's identity in the environment.
func TestMain(m *testing.M) {
	if node.IsChild() {
		kvnode.Main(os.Args[1:])
	}
	goleak.VerifyTestMain(m)
}

func TestScenarios(t *testing.T) {
	labtest.Run(t, scenarios.Lab(os.Args[0]))
}
