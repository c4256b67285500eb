// Command lab runs lab 1's fault scenarios: go run ./cmd/lab -fault=list
package main

import (
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/scenarios"
)

func main() { runner.Main(scenarios.Lab()) }
