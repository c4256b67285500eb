// Command labs prints the table of labs with the status of each one's last
// run (from out/lab-N/last-run.json) and of its exercises (from exercises/,
// package exercise): `make labs`, or `make labs lang=zh` for the Chinese
// stage titles.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/text/width"

	"github.com/architect-roadmap/architect-roadmap/labkit/catalog"
	"github.com/architect-roadmap/architect-roadmap/labkit/exercise"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
)

func main() {
	out := flag.String("out", "out", "folder the labs write their evidence under")
	lang := flag.String("lang", "en", "language of the stage titles: en or zh")
	flag.Parse()
	if err := printTable(os.Stdout, *out, ".", *lang); err != nil {
		fmt.Fprintln(os.Stderr, "labs:", err)
		os.Exit(2)
	}
}

// printTable writes the table of stages; root is the repository root the
// exercises live under, lang picks the title column.
func printTable(w io.Writer, out, root, lang string) error {
	title := func(s catalog.Stage) string { return s.Name }
	header := "LAB\tSTAGE\tSTATUS\tFAULTS\tLAST RUN\tEXERCISES"
	switch lang {
	case "en", "":
	case "zh":
		title = func(s catalog.Stage) string { return s.TitleZH }
		header = "实验\t阶段\t状态\t故障\t上次运行\t练习"
	default:
		return fmt.Errorf("unknown lang %q (expected en or zh)", lang)
	}
	rows := [][]string{strings.Split(header, "\t")}
	for _, s := range catalog.Stages() {
		last := "never run"
		if s.Status == catalog.Planned {
			last = "-"
		} else if lr, err := runner.ReadLastRun(out, s.Number); err == nil {
			last = fmt.Sprintf("%s fault=%s: %d symptom, %d healthy, %d error (%s)", lr.Finished.Format("2006-01-02 15:04Z"),
				lr.Faults, lr.Symptoms, lr.Healthy, lr.Errors, lr.Dir)
		}
		faults := strings.Join(s.Faults, ", ")
		if faults == "" {
			faults = "-"
		}
		rows = append(rows, []string{fmt.Sprint(s.Number), title(s), s.Status, faults, last, exercises(root, s)})
	}
	return writeColumns(w, rows)
}

// exercises sums up a stage's exercises: "-" until one is started, then the
// state of each started one ("goroutine-leak passed, deadlock failing").
func exercises(root string, s catalog.Stage) string {
	if s.Status != catalog.Ready {
		return "-"
	}
	st := exercise.Status(root, s)
	var parts []string
	for _, f := range s.Faults {
		if st[f] != exercise.NotStarted {
			parts = append(parts, f+" "+st[f])
		}
	}
	if len(parts) == 0 {
		return exercise.NotStarted
	}
	return strings.Join(parts, ", ")
}

// writeColumns aligns the cells by their width on a terminal, where a Chinese
// character takes two columns (text/tabwriter counts it as one).
func writeColumns(w io.Writer, rows [][]string) error {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
