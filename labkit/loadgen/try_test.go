package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
)

func TestTryNoop(t *testing.T) {
	for _, w := range []int{1, 4, 64} {
		res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: w, Rate: 10000, Duration: 2 * time.Second}, noop)
		t.Log(w, res, err)
	}
	for _, w := range []int{1, 4, 64} {
		srv := okServer(t)
		target := getTarget(t, loadgen.NewHTTPClient(w), srv.URL)
		res, err := loadgen.Run(context.Background(), loadgen.Config{Workers: w, Rate: 10000, Duration: 2 * time.Second}, target)
		t.Log("http", w, res, err)
	}
}
