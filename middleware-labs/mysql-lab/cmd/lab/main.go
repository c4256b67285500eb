// Command lab runs lab 4's scenarios (what `make lab-4` runs):
//
//	go run ./cmd/lab                  # every fault off: the fixed paths
//	go run ./cmd/lab -fault on        # every fault on
//	go run ./cmd/lab -fault list      # the faults and the tool that reveals each
package main

import (
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/scenarios"
)

func main() { runner.Main(scenarios.Lab()) }
