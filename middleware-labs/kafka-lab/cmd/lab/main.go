// Command lab runs lab 6's fault scenarios: `make lab-6 fault=on`.
package main

import (
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/scenarios"
)

func main() { runner.Main(scenarios.Lab()) }
