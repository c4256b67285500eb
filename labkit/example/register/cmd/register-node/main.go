// Command register-node is one node of the example register cluster
// (labkit/example/register); a node.Cluster starts it with its identity,
// listeners and peers in the environment.
package main

import (
	"os"

	"github.com/architect-roadmap/architect-roadmap/labkit/example/register"
)

func main() { register.NodeMain(os.Args[1:]) }
