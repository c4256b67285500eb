// Command labs prints the table of labs with the status of each one's last
// run (from out/lab-N/last-run.json): `make labs`.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

func main() {
	out := flag.String("out", "out", "folder the labs write their evidence under")
	flag.Parse()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LAB\tSTAGE\tSTATUS\tFAULTS\tLAST RUN")
	for _, s := range catalog.Stages() {
		last := "never run"
		if s.Status == catalog.Planned {
			last = "-"
		} else if lr, err := runner.ReadLastRun(*out, s.Number); err == nil {
			last = fmt.Sprintf("%s fault=%s: %d symptom, %d healthy, %d error (%s)", lr.Finished.Format("2006-01-02 15:04Z"),
				lr.Faults, lr.Symptoms, lr.Healthy, lr.Errors, lr.Dir)
		}
		faults := strings.Join(s.Faults, ", ")
		if faults == "" {
			faults = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", s.Number, s.Name, s.Status, faults, last)
	}
	_ = tw.Flush()
}
