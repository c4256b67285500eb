package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/culprit"
	"github.com/architect-roadmap/architect-roadmap/labkit/evidence"
	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/labkit/report"
)

// Event records something that happened during the scenario (timeline.Kill,
// timeline.Partition, or a kind of the lab's own) at the time it happened:
// it goes to report.json, report.md, the postmortem draft's timeline and
// the charts. A node.Cluster given this Env records its own.
//
// In a fault=mystery run the events are dropped: what the fault did to the
// cluster (a partition, a kill) is the answer the learner is looking for.
func (e *Env) Event(kind, detail string) {
	if e.hidden {
		return
	}
	e.capture.Event(kind, detail)
}

// Watch adds a node's debug server to the evidence window: its profiles
// are fetched into <Dir>/<node>/ when the window closes. A node.Cluster
// given this Env calls it each time a node's process starts.
func (e *Env) Watch(name, debugAddr string) {
	if err := e.capture.Watch(name, debugAddr, e.capture.Started().Add(e.Duration)); err != nil {
		e.Log.Warn("node evidence will be missing", zap.String("node", name), zap.Error(err))
	}
}

var _ node.Env = (*Env)(nil)

// analyzeCulprit reads the profile a culprit names and says whose it was:
// the runner's own (Node ""), one node's, or, for AnyNode, the node whose
// profile gives the frame the largest share. A node's profile is its own
// folder's when its process was watched, and otherwise the runner's own
// profile split by the node.Label pprof label.
func analyzeCulprit(c Culprit, dir string) (*culprit.Analysis, string, error) {
	file := c.Evidence.File()
	if c.Evidence == evidence.Log {
		a, err := culprit.AnalyzeLog(filepath.Join(dir, file))
		return a, "", err
	}
	own := filepath.Join(dir, file)
	switch c.Node {
	case "":
		a, err := culprit.Analyze(own)
		return a, "", err
	case AnyNode:
		return bestNode(c, dir)
	}
	a, err := nodeAnalysis(dir, c.Node, file)
	return a, c.Node, err
}

func nodeAnalysis(dir, name, file string) (*culprit.Analysis, error) {
	if path := filepath.Join(dir, name, file); exists(path) {
		return culprit.Analyze(path)
	}
	own := filepath.Join(dir, file)
	values, err := culprit.LabelValues(own, node.LabelKey)
	if err != nil {
		return nil, err
	}
	for _, v := range values {
		if v == name {
			return culprit.AnalyzeLabel(own, node.LabelKey, name)
		}
	}
	return nil, fmt.Errorf("runner: no %s for node %s: neither %s nor samples labelled %s=%s in %s",
		file, name, filepath.Join(dir, name, file), node.LabelKey, name, own)
}

// bestNode tries every node folder holding the profile, then every node
// label in the runner's own.
func bestNode(c Culprit, dir string) (*culprit.Analysis, string, error) {
	file := c.Evidence.File()
	var names []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, "", fmt.Errorf("runner: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() && exists(filepath.Join(dir, e.Name(), file)) {
			names = append(names, e.Name())
		}
	}
	if labels, err := culprit.LabelValues(filepath.Join(dir, file), node.LabelKey); err == nil {
		names = append(names, labels...)
	}
	if len(names) == 0 {
		return nil, "", fmt.Errorf("runner: no node's %s in %s", file, dir)
	}
	var best *culprit.Analysis
	var bestName string
	var errs []error
	bestShare := -1.0
	for _, name := range names {
		a, err := nodeAnalysis(dir, name, file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, share := a.Share(c.frame()); share > bestShare {
			best, bestName, bestShare = a, name, share
		}
	}
	if best == nil {
		return nil, "", errors.Join(errs...)
	}
	return best, bestName, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// JudgeCulprit reads a finished scenario's evidence folder as the runner
// does after the run: a test can ask the same question of another node.
func JudgeCulprit(c Culprit, dir string) report.Culprit { return judgeCulprit(c, dir) }

// pprofCommand is the command that opens the profile the culprit is judged
// by: the runner's own (name ""), a node's folder, or the node's samples of a
// shared process (-tagfocus keeps only the samples carrying that label).
// name is the node judgeCulprit settled on, so AnyNode is not searched again.
func pprofCommand(c Culprit, dir, name string) string {
	own := filepath.Join(dir, c.Evidence.File())
	switch {
	case name == "":
		return fmt.Sprintf("go tool pprof -top %s", own)
	case exists(filepath.Join(dir, name, c.Evidence.File())):
		return fmt.Sprintf("go tool pprof -top %s", filepath.Join(dir, name, c.Evidence.File()))
	default:
		return fmt.Sprintf("go tool pprof -top -tagfocus=%s=%s %s", node.LabelKey, name, own)
	}
}
