// Command lab runs lab 0's fault scenarios: `make lab-0 fault=on`.
package main

import (
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/scenarios"
)

func main() { runner.Main(scenarios.Lab()) }
