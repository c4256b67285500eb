//go:build race

package loadgen_test

// raceEnabled: the race detector slows client and server 5–10×, so rate tests scale down.
const raceEnabled = true
