package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

// process is one run of a node's program, from spawn to reaping.
type process struct {
	cmd      *exec.Cmd
	done     chan struct{} // closed once Wait returned
	err      error         // Wait's result, set before done closes
	expected atomic.Bool   // the harness asked it to exit
}

func spawn(n *Node, lns [2]net.Listener, environ []string) (*process, error) {
	files := make([]*os.File, 0, len(lns))
	defer func() {
		for _, f := range files {
			_ = f.Close()
		}
	}()
	for _, ln := range lns {
		// File returns a duplicate descriptor; the child inherits it as
		// fd 3, 4 ... in order.
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			return nil, fmt.Errorf("node: %s: pass listener: %w", n.name, err)
		}
		files = append(files, f)
	}
	logFile, err := os.OpenFile(n.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	cmd := exec.Command(n.c.cfg.Program, n.c.cfg.Args...)
	cmd.Env = environ
	cmd.Dir = n.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = files
	cmd.SysProcAttr = sysProcAttr()
	fmt.Fprintf(logFile, "--- %s starting at %s: %s\n", n.name, time.Now().UTC().Format(time.RFC3339Nano), cmd.String())
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("node: start %s: %w", n.name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
		if !p.expected.Load() {
			n.c.event(timeline.Crash, n, "(pid %d: %v)", cmd.Process.Pid, p.err)
		}
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) signal(s sig) error {
	if p.exited() {
		return errors.New("the process has exited")
	}
	return signalGroup(p.pid(), s)
}

// kill kills the whole process group and waits for the reaping, so nothing
// the node forked survives it either.
func (p *process) kill() {
	p.expected.Store(true)
	_ = signalGroup(p.pid(), sigKill)
	<-p.done
}

// stop asks politely, then kills after grace or when ctx ends.
func (p *process) stop(ctx context.Context, grace time.Duration) error {
	p.expected.Store(true)
	if err := signalGroup(p.pid(), sigTerm); err != nil && !p.exited() {
		return fmt.Errorf("node: SIGTERM pid %d: %w", p.pid(), err)
	}
	// A stopped process keeps SIGTERM pending until it runs again.
	_ = signalGroup(p.pid(), sigCont)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	p.kill()
	return nil
}

// waitReady polls the debug server's /healthz until it answers 200, the
// process exits, ctx ends or timeout passes.
func (p *process) waitReady(ctx context.Context, debugAddr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Second}
	url := "http://" + debugAddr + "/healthz"
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("node: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			if p.err == nil {
				// A clean exit is still a failure: a node is meant to keep
				// serving, and %w of a nil error would print garbage.
				return errors.New("exited with status 0 before it was ready")
			}
			return fmt.Errorf("exited before it was ready: %w", p.err)
		case <-ctx.Done():
			return fmt.Errorf("no answer from %s: %w", url, ctx.Err())
		case <-tick.C:
		}
	}
}
