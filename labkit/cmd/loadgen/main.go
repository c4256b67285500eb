// Command loadgen drives HTTP GET load at one URL with labkit's load generator and prints the
// latency percentiles, throughput and errors.
//
//	loadgen -url http://127.0.0.1:8080/ -c 50 -d 10s            # closed loop, 50 workers
//	loadgen -url http://127.0.0.1:8080/ -rate 10000 -c 64 -d 10s # open loop, 10k req/s
//
// Bad flags print one line and exit with status 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/loadgen"
)

const usage = "usage: loadgen -url http://HOST:PORT/PATH [-c workers] [-rate req/s (0 = closed loop)] [-d duration] [-n max requests] [-client raw|std|auto]"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	url := fs.String("url", "", "URL to GET")
	workers := fs.Int("c", 50, "workers (connections); in open loop, the bound on requests in flight")
	rate := fs.Float64("rate", 0, "open-loop arrival rate in requests per second; 0 = closed loop")
	dur := fs.Duration("d", 10*time.Second, "load window")
	maxReq := fs.Int64("n", 0, "stop after this many requests (0 = no cap)")
	client := fs.String("client", "auto", "HTTP client: raw (loadgen.RawHTTP, HTTP/1.1 GET only, fastest), std (net/http), auto (raw for http://, std for https://)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(out, usage)
			return 0
		}
		fmt.Fprintf(errOut, "loadgen: %v; %s\n", err, usage)
		return 2
	}
	fail := func(format string, a ...any) int {
		msg := strings.TrimPrefix(fmt.Sprintf(format, a...), "loadgen: ")
		fmt.Fprintf(errOut, "loadgen: %s; %s\n", msg, usage)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case *url == "":
		return fail("-url is required")
	case *workers < 1 || *workers > loadgen.MaxWorkers:
		return fail("-c must be between 1 and %d, got %d", loadgen.MaxWorkers, *workers)
	}
	if *client == "auto" {
		*client = "raw"
		if strings.HasPrefix(strings.ToLower(*url), "https://") {
			*client = "std"
		}
	}
	var target loadgen.Target
	switch *client {
	case "raw":
		raw, err := loadgen.NewRawHTTP(*url)
		if err != nil {
			return fail("%v", err)
		}
		defer raw.Close()
		target = raw.Get
	case "std":
		std := loadgen.NewHTTPClient(*workers)
		defer std.CloseIdleConnections()
		t, err := loadgen.Get(std, *url)
		if err != nil {
			return fail("%v", err)
		}
		target = t
	default:
		return fail("-client must be raw, std or auto, got %q", *client)
	}
	cfg := loadgen.Config{Workers: *workers, Rate: *rate, Duration: *dur, MaxRequests: *maxReq}
	res, err := loadgen.Run(ctx, cfg, target)
	if errors.Is(err, loadgen.ErrConfig) {
		return fail("%v", err)
	}
	printResult(out, cfg, res)
	if err != nil {
		fmt.Fprintf(errOut, "loadgen: run stopped early: %v\n", err)
		return 1
	}
	return 0
}

func printResult(out io.Writer, cfg loadgen.Config, r loadgen.Result) {
	mode := fmt.Sprintf("closed loop, %d workers", cfg.Workers)
	if cfg.Rate > 0 {
		mode = fmt.Sprintf("open loop, %.0f req/s target, %d workers", cfg.Rate, cfg.Workers)
	}
	fmt.Fprintf(out, "%s, %v\n", mode, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "latency  p50 %v  p90 %v  p99 %v  p99.9 %v  max %v  mean %v\n",
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.Latency.Mean)
	fmt.Fprintf(out, "requests %d  req/s %.0f  errors %d", r.Requests, r.Throughput, r.Errors)
	if r.Missed > 0 {
		fmt.Fprintf(out, "  missed %d (all workers busy; raise -c)", r.Missed)
	}
	fmt.Fprintln(out)
	for _, k := range r.KindsByCount() {
		fmt.Fprintf(out, "  %-20s %d  e.g. %s\n", k, r.ErrorKinds[k], r.ErrorSamples[k])
	}
}
