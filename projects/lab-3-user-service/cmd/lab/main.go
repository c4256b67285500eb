// Command lab runs lab 3's fault scenarios: `go run ./cmd/lab -fault=on` (or `make lab-3 fault=on`).
package main

import (
	"github.com/gin-gonic/gin"

	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/scenarios"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	runner.Main(scenarios.Lab())
}
