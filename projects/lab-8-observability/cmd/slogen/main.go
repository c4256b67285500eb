// Command slogen regenerates the SLO rules from their specs:
//
//	go run ./projects/lab-8-observability/cmd/slogen            # from the repository root
//	go run ./projects/lab-8-observability/cmd/slogen -check     # exit 1 if a checked-in file is stale
//
// Each projects/lab-8-observability/slo/specs/<name>.yaml becomes
// docker-env/prometheus/rules/slo-<service>.yml.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-8-observability/slo"
)

func main() {
	specs := flag.String("specs", "projects/lab-8-observability/slo/specs", "folder of SLO spec files (*.yaml)")
	out := flag.String("out", "docker-env/prometheus/rules", "folder the rule files are written to")
	check := flag.Bool("check", false, "write nothing; exit 1 when a rule file differs from what its spec generates")
	flag.Parse()
	files, err := slo.GenerateAll(*specs, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "slogen:", err)
		os.Exit(2)
	}
	stale := 0
	for _, f := range files {
		switch {
		case *check && f.Stale:
			fmt.Fprintf(os.Stderr, "slogen: %s is stale: run go run ./projects/lab-8-observability/cmd/slogen\n", f.Path)
			stale++
		case !*check:
			if err := os.WriteFile(f.Path, f.Content, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "slogen:", err)
				os.Exit(2)
			}
			fmt.Println("wrote", f.Path)
		}
	}
	if stale > 0 {
		os.Exit(1)
	}
}
