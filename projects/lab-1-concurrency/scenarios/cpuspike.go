package scenarios

import (
	"context"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
	"github.com/architect-roadmap/architect-roadmap/labkit/runner"
	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-1-concurrency/signup"
)

// runCPUSpike validates sign-up forms as fast as two workers can, and divides the process's
// CPU time by the requests served.
func runCPUSpike(ctx context.Context, env *runner.Env) error {
	v := signup.New(env.FaultOn)
	requests := prometheus.NewCounter(prometheus.CounterOpts{Name: "lab1_signup_requests_total",
		Help: "Sign-up forms validated."})
	if err := telemetry.Register(env.Metrics, requests); err != nil {
		return err
	}
	var n atomic.Uint64
	start, err := cpuTime()
	if err != nil {
		return err
	}
	res, err := loadgen.Run(ctx, loadgen.Config{Workers: 2, Duration: env.Duration}, func(context.Context) error {
		i := n.Add(1)
		f := signup.Form{Email: "user" + strconv.FormatUint(i%1000, 10) + "@example.com",
			Username: "user_" + strconv.FormatUint(i%1000, 10), Phone: "+1 415 555 0100",
			Postcode: "94103", Password: "correct-horse-battery"}
		requests.Inc()
		return v.Validate(f)
	})
	if err != nil {
		return err
	}
	env.Traffic().Add(res)
	end, err := cpuTime()
	if err != nil {
		return err
	}
	if res.Requests == 0 {
		env.Record("cpu_us_per_request", 0)
		return nil
	}
	perReq := float64((end - start).Microseconds()) / float64(res.Requests)
	env.Record("cpu_us_per_request", perReq)
	env.Record("requests", float64(res.Requests))
	env.Record("throughput_rps", res.Throughput)
	// Neutral on purpose: a mystery run shows lab.log, and a message or
	// field named after the fault or its symptom would give the answer away.
	env.Log.Info("load window done", zap.Int64("requests", res.Requests))
	return nil
}
