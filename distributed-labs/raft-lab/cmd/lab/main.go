// Command lab runs lab 7's scenarios (make lab-7). It is also the node
// program: labkit/node starts copies of this executable as the cluster's
// nodes, and a copy that finds its identity in the environment serves as one.
package main

import (
	"os"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvnode"
	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/scenarios"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

func main() {
	if node.IsChild() {
		kvnode.Main(os.Args[1:])
	}
	// The nodes are started from their own data directories: they need
	// this program's absolute path, not the one it was started by.
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	runner.Main(scenarios.Lab(self))
}
