// Command node is one node of lab 7's replicated KV. A labkit node.Cluster
// starts it (cmd/server, the scenarios) with its identity, listener, data
// directory and peers in the environment.
package main

import (
	"os"

	"github.com/architect-roadmap/architect-roadmap/distributed-labs/raft-lab/kvnode"
)

func main() { kvnode.Main(os.Args[1:]) }
