// Command lab runs lab 5's fault scenarios: `make lab-5 fault=on`.
package main

import (
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/redis-lab/scenarios"
)

func main() { runner.Main(scenarios.Lab()) }
