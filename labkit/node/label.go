package node

import (
	"context"
	"runtime/pprof"
)

// LabelKey is the pprof label that names the node a goroutine works for.
const LabelKey = "node"

// Label runs fn with its goroutine (and every goroutine it starts) labelled
// node=name, for clusters whose nodes share one process: CPU and goroutine
// profiles then split by node (`go tool pprof -tagfocus node=node2`), and a
// runner.Culprit with Node set reads only that node's samples.
func Label(ctx context.Context, name string, fn func(ctx context.Context)) {
	pprof.Do(ctx, pprof.Labels(LabelKey, name), fn)
}
