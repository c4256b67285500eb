// Package labkit is the shared harness every architect-roadmap lab imports.
//
// A lab declares its scenarios (one per fault) with package runner; the runner
// parses the command line (package fault), serves pprof and /metrics on a debug
// port (package debugserver), captures profiles, a runtime trace and a metrics
// time series around each scenario (package evidence), reads the culprit out of
// the profiles (package culprit), drives load (package loadgen) and writes the
// report, charts and postmortem draft (package report). Package labtest turns
// the same scenarios into one table-driven test.
//
// A multi-process lab starts its nodes as child processes (package node), puts
// a proxy on every link between them and breaks it on demand (package
// netfault), and judges what its clients saw (package history): see
// example/register, a replicated register whose stale reads porcupine catches.
package labkit
