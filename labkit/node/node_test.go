package node_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/architect-roadmap/architect-roadmap/labkit/node"
	"github.com/architect-roadmap/architect-roadmap/labkit/timeline"
)

func TestMain(m *testing.M) {
	if node.IsChild() {
		node.Main(echo)
	}
	if dir := os.Getenv(harnessEnv); dir != "" {
		harness(dir)
	}
	goleak.VerifyTestMain(m)
}

// echo is the node program of these tests: it answers each line with
// "<node name> <line>", and "peers" with its peer list.
func echo(ctx context.Context, self *node.Self) error {
	if os.Getenv(hotNodeEnv) == self.Name {
		go burnCPU(ctx)
	}
	go func() {
		<-ctx.Done()
		_ = self.Listener.Close()
	}()
	for {
		conn, err := self.Listener.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		go func() {
			defer conn.Close()
			sc := bufio.NewScanner(conn)
			for sc.Scan() {
				reply := sc.Text()
				if reply == "peers" {
					reply = strings.Join(self.Peers, ",")
				}
				if _, err := fmt.Fprintf(conn, "%s %s\n", self.Name, reply); err != nil {
					return
				}
			}
		}()
	}
}

// ask sends one line to addr and returns the answer.
func ask(addr, line string, timeout time.Duration) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintln(conn, line); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(got), err
}

// events is a node.Env that keeps what it is given.
type events struct {
	mu       sync.Mutex
	kinds    []string
	watched  map[string]int
	cleanups []func()
}

func (e *events) Event(kind, detail string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.kinds = append(e.kinds, kind+" "+detail)
}

func (e *events) Watch(name, _ string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.watched == nil {
		e.watched = map[string]int{}
	}
	e.watched[name]++
}

func (e *events) Cleanup(fn func()) { e.cleanups = append(e.cleanups, fn) }

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.kinds...)
}

// gone reports whether no process of pid's group is left, zombies included
// (a zombie still answers signal 0).
func gone(pid int) bool {
	return errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH) && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func startCluster(t *testing.T, env node.Env) *node.Cluster {
	t.Helper()
	cfg := node.Config{Program: os.Args[0], N: 3, Dir: t.TempDir(), StopGrace: 2 * time.Second}
	if env != nil {
		cfg.Env = env
	}
	c, err := node.Start(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestNodesServeAndKnowTheirPeers(t *testing.T) {
	c := startCluster(t, nil)
	for _, n := range c.Nodes() {
		got, err := ask(n.Addr(), "hello", 5*time.Second)
		require.NoError(t, err)
		assert.Equal(t, n.Name()+" hello", got)
		peers, err := ask(n.Addr(), "peers", 5*time.Second)
		require.NoError(t, err)
		var want []string
		for _, o := range c.Nodes() {
			if o != n {
				want = append(want, o.Addr())
			}
		}
		assert.Equal(t, n.Name()+" "+strings.Join(want, ","), peers)
		log, err := os.ReadFile(n.LogPath())
		require.NoError(t, err)
		assert.Contains(t, string(log), `"msg":"node up"`, "the child's stderr lands in its node.log")
	}
}

func TestKillPauseResumeRestartAreRealAndRecorded(t *testing.T) {
	env := &events{}
	c := startCluster(t, env)
	n := c.Node(2)
	first := n.Pid()

	require.NoError(t, n.Pause())
	_, err := ask(n.Addr(), "frozen?", 300*time.Millisecond)
	require.Error(t, err, "a paused node accepts connections into its backlog but answers nothing")
	require.NoError(t, n.Resume())
	got, err := ask(n.Addr(), "thawed", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "node2 thawed", got)

	require.NoError(t, n.Kill())
	assert.True(t, gone(first), "pid %d survived SIGKILL", first)
	_, err = ask(n.Addr(), "dead?", time.Second)
	require.ErrorIs(t, err, syscall.ECONNREFUSED, "a killed node refuses connections, as a crashed server does")

	require.NoError(t, n.Restart(t.Context()))
	assert.NotEqual(t, first, n.Pid())
	got, err = ask(n.Addr(), "back", 5*time.Second)
	require.NoError(t, err, "the restarted node serves the same address")
	assert.Equal(t, "node2 back", got)

	require.NoError(t, n.Stop(t.Context()))
	assert.False(t, n.Running())

	var kinds []string
	for _, e := range env.list() {
		if strings.HasPrefix(e, timeline.Start+" ") {
			continue
		}
		kinds = append(kinds, strings.Fields(e)[0]+" "+strings.Fields(e)[1])
	}
	assert.Equal(t, []string{"pause node2", "resume node2", "kill node2", "restart node2", "stop node2"}, kinds)
	assert.Equal(t, 2, env.watched["node2"], "the evidence window is told about the restarted process")
}

func TestACrashIsAnEvent(t *testing.T) {
	env := &events{}
	c := startCluster(t, env)
	pid := c.Node(1).Pid()
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL)) // not through the harness
	require.Eventually(t, func() bool { return !c.Node(1).Running() }, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		for _, e := range env.list() {
			if strings.HasPrefix(e, timeline.Crash+" node1") {
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)
}

func TestNoNodeSurvivesClose(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, c *node.Cluster)
	}{
		{"running", func(*testing.T, *node.Cluster) {}},
		{"paused", func(t *testing.T, c *node.Cluster) { require.NoError(t, c.Node(1).Pause()) }},
		{"restarted", func(t *testing.T, c *node.Cluster) { require.NoError(t, c.Node(3).Restart(t.Context())) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := &events{}
			c := startCluster(t, env)
			tt.setup(t, c)
			var pids []int
			for _, n := range c.Nodes() {
				pids = append(pids, n.Pid())
			}
			require.Len(t, env.cleanups, 1, "the cluster hands its Close to the env")
			env.cleanups[0]()
			for _, pid := range pids {
				assert.True(t, gone(pid), "pid %d survived Close", pid)
			}
		})
	}
}

func TestACancelledStartLeavesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := node.Start(ctx, node.Config{Program: os.Args[0], N: 3, Dir: t.TempDir()})
	require.ErrorIs(t, err, context.Canceled)
	// Start killed and reaped the node it had spawned; goleak in TestMain
	// proves its wait goroutine ended too.
}

func TestAProgramThatExitsEarlyIsAnError(t *testing.T) {
	tests := []struct {
		name        string
		program     string
		wantMessage string
		wantExitErr bool // the program's own failure is wrapped, for errors.As
	}{
		{"fails", "/bin/false", "exited before it was ready: exit status 1", true},
		{"succeeds", "/bin/true", "exited with status 0 before it was ready", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := node.Start(t.Context(), node.Config{Program: tt.program, N: 1, Dir: t.TempDir()})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantMessage)
			var exitErr *exec.ExitError
			assert.Equal(t, tt.wantExitErr, errors.As(err, &exitErr), "errors.As(err, *exec.ExitError) for %v", err)
		})
	}
}

func TestBadConfigIsAnError(t *testing.T) {
	_, err := node.New(node.Config{Dir: t.TempDir()})
	require.ErrorContains(t, err, "Program")
	_, err = node.New(node.Config{Program: os.Args[0]})
	require.ErrorContains(t, err, "Dir")
}
