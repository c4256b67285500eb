package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/architect-roadmap/architect-roadmap/projects/lab-0-template/config"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c config.Config)
		wantErr string
	}{
		{name: "defaults are valid", check: func(t *testing.T, c config.Config) {
			assert.Equal(t, config.Default(), c)
		}},
		{name: "env overrides defaults", env: map[string]string{"ADDR": ":9000", "READ_HEADER_TIMEOUT": "1s", "MAX_CONNS": "10"},
			check: func(t *testing.T, c config.Config) {
				assert.Equal(t, ":9000", c.Addr)
				assert.Equal(t, time.Second, c.ReadHeaderTimeout)
				assert.Equal(t, 10, c.MaxConns)
			}},
		{name: "flags override env", args: []string{"-addr", ":9001"}, env: map[string]string{"ADDR": ":9000"},
			check: func(t *testing.T, c config.Config) { assert.Equal(t, ":9001", c.Addr) }},
		{name: "faults from env", env: map[string]string{"FAULTS": "sync-logging, no-server-timeouts"},
			check: func(t *testing.T, c config.Config) {
				assert.Equal(t, config.Faults{SyncLogging: true, NoServerTimeouts: true}, c.Faults)
			}},
		{name: "unknown fault", args: []string{"-fault", "bogus"}, wantErr: `unknown fault "bogus"; valid: no-graceful-shutdown, sync-logging, no-server-timeouts`},
		{name: "bad env duration", env: map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, wantErr: `SHUTDOWN_TIMEOUT="soon": expected a Go duration`},
		{name: "bad addr", args: []string{"-addr", "8100"}, wantErr: `addr "8100": expected host:port`},
		{name: "zero timeout", args: []string{"-read-header-timeout", "0s"}, wantErr: "read-header-timeout must be positive"},
		{name: "bad log format", env: map[string]string{"LOG_FORMAT": "xml"}, wantErr: "expected json or console"},
		{name: "bad max conns", env: map[string]string{"MAX_CONNS": "many"}, wantErr: "MAX_CONNS=\"many\": expected a positive integer"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "flag provided but not defined: -nope"},
		{name: "stray argument", args: []string{"serve"}, wantErr: `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(tt.args, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

// FuzzLoad: any flags and environment give a valid Config or an error; Load
// never panics, and what it accepts always validates.
func FuzzLoad(f *testing.F) {
	f.Add("-addr=:1", "5s", "sync-logging", "10")
	f.Add("-read-timeout=-1s", "x", "bogus", "-3")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, arg, dur, faults, maxConns string) {
		env := map[string]string{"READ_HEADER_TIMEOUT": dur, "FAULTS": faults, "MAX_CONNS": maxConns}
		c, err := config.Load([]string{arg}, func(k string) string { return env[k] })
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Load accepted a config that does not validate: %v", verr)
			}
		}
	})
}
