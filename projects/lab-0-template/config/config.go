// Package config loads the service's configuration from flags and the
// environment (flags win), and validates all of it at start, so a typo is a
// one-line error at boot rather than a surprise under load.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Faults switches the lab's defects; all false is the production path.
type Faults struct {
	SyncLogging        bool // every access-log line is written and fsynced under one lock
	NoServerTimeouts   bool // http.Server without timeouts or a connection limit
	NoGracefulShutdown bool // SIGTERM closes connections instead of draining them
}

// FaultNames are the names Faults accepts, in the lab's order.
var faultNames = []string{"no-graceful-shutdown", "sync-logging", "no-server-timeouts"}

// Config is everything the service needs to start.
type Config struct {
	Addr              string        // HTTP listen address
	DebugAddr         string        // pprof and /metrics; empty disables
	LogFormat         string        // json or console
	AccessLog         string        // access-log file; "" writes to stderr
	ReadHeaderTimeout time.Duration // slowloris defence: time to read request headers
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	RequestTimeout    time.Duration // per-request deadline set by middleware
	ShutdownTimeout   time.Duration // how long SIGTERM waits for in-flight requests
	MaxConns          int           // concurrent connections accepted
	DownstreamLatency time.Duration // latency of the simulated dependency behind /api/v1/work
	ReusePort         bool          // SO_REUSEPORT, so a new process can take over the port
	Faults            Faults
}

// Default is the production configuration.
func Default() Config {
	return Config{
		Addr: "127.0.0.1:8100", DebugAddr: "127.0.0.1:8101", LogFormat: "json",
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 15 * time.Second,
		IdleTimeout: 60 * time.Second, RequestTimeout: 5 * time.Second, ShutdownTimeout: 20 * time.Second,
		MaxConns: 1024, DownstreamLatency: 20 * time.Millisecond,
	}
}

// Load parses args over the environment over the defaults.
func Load(args []string, getenv func(string) string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	str := func(p *string, name, env, usage string) {
		if v := getenv(env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" (env "+env+")")
	}
	dur := func(p *time.Duration, name, env, usage string) error {
		if v := getenv(env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("config: %s=%q: expected a Go duration such as 5s", env, v)
			}
			*p = d
		}
		fs.DurationVar(p, name, *p, usage+" (env "+env+")")
		return nil
	}
	str(&c.Addr, "addr", "ADDR", "HTTP listen address")
	str(&c.DebugAddr, "debug-addr", "DEBUG_ADDR", "pprof and /metrics address; empty disables")
	str(&c.LogFormat, "log-format", "LOG_FORMAT", "json or console")
	str(&c.AccessLog, "access-log", "ACCESS_LOG", "access-log file; empty writes to stderr")
	var faults string
	str(&faults, "fault", "FAULTS", "comma-separated faults to inject: "+strings.Join(faultNames, ", "))
	var errs []error
	for _, d := range []struct {
		p               *time.Duration
		name, env, what string
	}{
		{&c.ReadHeaderTimeout, "read-header-timeout", "READ_HEADER_TIMEOUT", "time allowed to read request headers"},
		{&c.ReadTimeout, "read-timeout", "READ_TIMEOUT", "time allowed to read a whole request"},
		{&c.WriteTimeout, "write-timeout", "WRITE_TIMEOUT", "time allowed to write a response"},
		{&c.IdleTimeout, "idle-timeout", "IDLE_TIMEOUT", "keep-alive idle time"},
		{&c.RequestTimeout, "request-timeout", "REQUEST_TIMEOUT", "per-request deadline"},
		{&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", "drain deadline on SIGTERM"},
		{&c.DownstreamLatency, "downstream-latency", "DOWNSTREAM_LATENCY", "latency of the simulated dependency"},
	} {
		errs = append(errs, dur(d.p, d.name, d.env, d.what))
	}
	if v := getenv("MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: MAX_CONNS=%q: expected a positive integer", v))
		}
		c.MaxConns = n
	}
	fs.IntVar(&c.MaxConns, "max-conns", c.MaxConns, "concurrent connections accepted (env MAX_CONNS)")
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, fmt.Errorf("config: %w (run with -h for the flags)", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("config: unexpected argument %q (run with -h for the flags)", fs.Arg(0))
	}
	var err error
	if c.Faults, err = ParseFaults(faults); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// ParseFaults reads a comma-separated fault list.
func ParseFaults(s string) (Faults, error) {
	var f Faults
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "":
		case "sync-logging":
			f.SyncLogging = true
		case "no-server-timeouts":
			f.NoServerTimeouts = true
		case "no-graceful-shutdown":
			f.NoGracefulShutdown = true
		default:
			return f, fmt.Errorf("config: unknown fault %q; valid: %s", name, strings.Join(faultNames, ", "))
		}
	}
	return f, nil
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("config: addr %q: expected host:port such as 127.0.0.1:8100", c.Addr))
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			errs = append(errs, fmt.Errorf("config: debug-addr %q: expected host:port such as 127.0.0.1:8101", c.DebugAddr))
		}
	}
	if c.LogFormat != "json" && c.LogFormat != "console" {
		errs = append(errs, fmt.Errorf("config: log-format %q: expected json or console", c.LogFormat))
	}
	for name, d := range map[string]time.Duration{"read-header-timeout": c.ReadHeaderTimeout, "read-timeout": c.ReadTimeout,
		"write-timeout": c.WriteTimeout, "idle-timeout": c.IdleTimeout, "request-timeout": c.RequestTimeout,
		"shutdown-timeout": c.ShutdownTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("config: %s must be positive, got %s", name, d))
		}
	}
	if c.DownstreamLatency < 0 {
		errs = append(errs, fmt.Errorf("config: downstream-latency must not be negative, got %s", c.DownstreamLatency))
	}
	if c.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("config: max-conns must be at least 1, got %d", c.MaxConns))
	}
	return errors.Join(errs...)
}
