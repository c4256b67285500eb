// Package exercise turns a lab's fixed path into an exercise: the learner
// writes the fix, and the lab grades it with the same symptom checks and
// culprit contrast that prove the lab honest (labtest).
//
// # Regions
//
// A fault's fix is marked in the lab's source, around the smallest piece a
// learner should write, with its stub beside it as comments:
//
//	// exercise:begin sync-logging
//	return NewAsync(f, DefaultBuffer), nil
//	// exercise:stub
//	// return NewSync(f), nil
//	// exercise:end
//
// The stub is written by hand, not derived, because the honest stub is the
// defect itself, and only the lab's author knows what the defective path
// does at that spot (often it is the fault-on branch a few lines above). A
// stub must compile and keep the defect; the every-fault grading test
// (`make test-exercises`) proves both for every region, so a lab cannot ship
// a region that cannot be graded. A region lives on the fault-off path only:
// the fault-on path stays the reference defect that grading contrasts the
// learner's code with. Each fault of a Ready lab has exactly one region, and
// regions do not nest (Scan rejects both).
//
// # The learner's copy
//
// `make lab-N exercise=FAULT` writes exercises/lab-N/FAULT/<path in the lab>,
// the region's file with the region replaced by its stub. Grading builds the
// lab with `go build -overlay`, which maps the lab's file to the learner's
// copy for that build only. We chose an overlay over copying the module
// because it keeps the lab's source and `git status` clean, and because a
// copy is a second module: every file's imports must be rewritten to its new
// module path, and its packages are compiled again under that path (lab 1:
// 1.8 s for a fresh copy's first build against 0.2-1.3 s for an overlay
// build after one edit, on a shared 2-core machine; README.md). The overlay
// also adds the grading program
// (<lab>/cmd/exercise-grade, the lab's cmd/lab with runner.Main replaced by
// exercise.Main), so a lab needs nothing beyond its regions and hints.
//
// # Grading
//
// Grade runs the fault's scenario with the fault off, which now runs the
// learner's code, and fails when any symptom check fires (the same
// thresholds as the lab's own test). It then runs the reference defect
// (fault on) and applies labtest's contrast: the culprit must carry at most
// half of the share it carries with the fault on. Output names what was
// expected, what came, and where to look (the evidence file and the lab's
// README), in the manner of CodeCrafters' testers.
package exercise
