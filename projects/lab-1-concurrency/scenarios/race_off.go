//go:build !race

package scenarios

// raceDetector is true in -race builds (see race_on.go).
const raceDetector = false
