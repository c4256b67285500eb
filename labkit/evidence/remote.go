package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// A node's profiles are fetched from its debug server (net/http/pprof) and
// written to <window>/<node>/ under the same names as the runner's own.
//
// CPU is taken in back-to-back one-second profiles (?seconds=1) and merged:
// the window's end is not known in advance, a node may be restarted in the
// middle (its profile so far dies with it) or frozen (its profiler with it),
// and a one-second segment loses at most one second to any of these. Mutex
// and block are cumulative, so, as for the runner's own, a baseline taken
// when the node is watched is subtracted at the end; the trace runs from
// then until the window's expected end.

// remoteSegment is one CPU profile's length.
const remoteSegment = time.Second

// remoteTimeout bounds one fetch beyond its own length: a frozen node must
// not hold the window open.
const remoteTimeout = 3 * time.Second

// remoteSet is every node a Capture watches.
type remoteSet struct {
	mu     sync.Mutex
	nodes  map[string]*remoteNode
	order  []string
	client *http.Client
	stop   chan struct{} // closed by Stop: the loops end their segment and return
	// ctx ends a moment after stop closes, cutting off a fetch from a node
	// that is frozen or gone.
	ctx    context.Context
	cancel context.CancelFunc
	closed bool
	wg     sync.WaitGroup
}

// remoteNode is one node's part of the window.
type remoteNode struct {
	name string
	dir  string

	mu       sync.Mutex
	addr     string
	baseline map[Kind]*profile.Profile
	cpu      []*profile.Profile
	traces   [][]byte
	problems []string
}

// Watch adds a node's debug server (host:port) to the window; its profiles
// are written to <dir>/<name>/ when the window closes. Call it again when
// the node's process is replaced (a restart): the mutex and block baselines
// then restart from the new process. until is when the window is expected
// to close; the node's trace runs until then.
func (c *Capture) Watch(name, debugAddr string, until time.Time) error {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return fmt.Errorf("evidence: node name %q must be a plain folder name", name)
	}
	r := &c.remote
	r.mu.Lock()
	if r.nodes == nil {
		r.nodes = map[string]*remoteNode{}
		r.client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		r.stop = make(chan struct{})
		r.ctx, r.cancel = context.WithCancel(context.Background())
	}
	if r.closed {
		r.mu.Unlock()
		return fmt.Errorf("evidence: watch %s: the window is closed", name)
	}
	n, known := r.nodes[name]
	if !known {
		n = &remoteNode{name: name, dir: filepath.Join(c.dir, name)}
		r.nodes[name] = n
		r.order = append(r.order, name)
	}
	n.mu.Lock()
	n.addr = debugAddr
	n.mu.Unlock()
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		r.mu.Unlock()
		return fmt.Errorf("evidence: %w", err)
	}
	// The loops are counted while r.mu is held, so Stop waits for them.
	r.wg.Add(1)
	if !known {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			n.cpuLoop(r.ctx, r.client, r.stop)
		}()
	}
	r.mu.Unlock()

	go func() {
		defer r.wg.Done()
		n.takeBaseline(r.ctx, r.client)
		if !c.opts.NoTrace {
			n.traceOnce(r.client, debugAddr, until, r.stop)
		}
	}()
	return nil
}

func (n *remoteNode) currentAddr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

func (n *remoteNode) problem(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.problems = append(n.problems, time.Now().UTC().Format("15:04:05.000Z")+" "+fmt.Sprintf(format, args...))
}

func (n *remoteNode) takeBaseline(ctx context.Context, client *http.Client) {
	base := map[Kind]*profile.Profile{}
	for _, k := range []Kind{Mutex, Block} {
		p, err := fetchProfile(ctx, client, n.currentAddr(), string(k), remoteTimeout)
		if err != nil {
			// Without a baseline the file holds the process's whole life,
			// which for a node started in the window is nearly the same.
			n.problem("%s baseline: %v", k, err)
			continue
		}
		base[k] = p
	}
	n.mu.Lock()
	n.baseline = base
	n.mu.Unlock()
}

// cpuLoop takes one-second CPU profiles until stop is closed.
func (n *remoteNode) cpuLoop(ctx context.Context, client *http.Client, stop <-chan struct{}) {
	failures := 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		p, err := fetchProfile(ctx, client, n.currentAddr(),
			fmt.Sprintf("profile?seconds=%d", int(remoteSegment/time.Second)), remoteSegment+remoteTimeout)
		if err == nil {
			n.mu.Lock()
			n.cpu = append(n.cpu, p)
			n.mu.Unlock()
			failures = 0
			continue
		}
		// Down (killed, restarting) or frozen: note it once per outage and
		// try again shortly, until the window closes.
		if failures == 0 {
			n.problem("cpu: %v", err)
		}
		failures++
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// traceOnce traces one process of the node from now until the window's
// expected end; it is cut short when the window closes first.
func (n *remoteNode) traceOnce(client *http.Client, addr string, until time.Time, stop <-chan struct{}) {
	d := time.Until(until)
	if d < remoteSegment {
		d = remoteSegment
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			// The window closed before the trace did: allow the trace its
			// own end plus a second, then give up on it (a frozen node).
			t := time.NewTimer(time.Until(until.Add(time.Second)))
			defer t.Stop()
			select {
			case <-t.C:
				cancel()
			case <-ctx.Done():
			}
		case <-ctx.Done():
		}
	}()
	b, err := fetch(ctx, client, addr, fmt.Sprintf("trace?seconds=%.3f", d.Seconds()), d+remoteTimeout)
	if err != nil {
		n.problem("trace: %v", err)
		return
	}
	n.mu.Lock()
	n.traces = append(n.traces, b)
	n.mu.Unlock()
}

// finish ends every node's loops and writes its profiles. A node that is down
// or frozen when the window closes is not a failed capture (killing one is
// often the point of the scenario): what could not be fetched is listed in
// <node>/capture-errors.txt instead. Only a failure to write is returned.
func (r *remoteSet) finish(c *Capture) error {
	r.mu.Lock()
	if r.nodes == nil || r.closed {
		r.closed = true
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.stop)
	// The segment in flight gets its length plus a margin to finish; a
	// frozen node's does not finish, and is cut off.
	cut := time.AfterFunc(remoteSegment+remoteTimeout/3, r.cancel)
	defer cut.Stop()
	defer r.cancel()
	nodes := make([]*remoteNode, 0, len(r.order))
	for _, name := range r.order {
		nodes = append(nodes, r.nodes[name])
	}
	r.mu.Unlock()
	r.wg.Wait()

	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.write(c, r.client)
		}()
	}
	wg.Wait()
	r.client.CloseIdleConnections()
	return errors.Join(errs...)
}

func (n *remoteNode) write(c *Capture, client *http.Client) error {
	var errs []error
	put := func(file string, data []byte) {
		if err := c.writeFile(n.name+"/"+file, data); err != nil {
			errs = append(errs, err)
		}
	}
	n.mu.Lock()
	cpu, traces, base := n.cpu, n.traces, n.baseline
	n.mu.Unlock()

	if len(cpu) > 0 {
		if p, err := profile.Merge(cpu); err != nil {
			n.problem("cpu: merge %d segments: %v", len(cpu), err)
		} else if b, err := encode(p); err == nil {
			put(CPU.File(), b)
		}
	}
	for i, t := range traces {
		name := TraceFile
		if i > 0 {
			name = fmt.Sprintf("trace-%d.out", i+1)
		}
		put(name, t)
	}

	addr := n.currentAddr()
	// One deadline for all of a node's final fetches: a frozen node costs
	// the window one timeout, not one per profile.
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	for _, f := range []struct {
		kind Kind
		path string
	}{{Heap, "heap?gc=1"}, {Goroutine, "goroutine"}, {Mutex, "mutex"}, {Block, "block"}} {
		p, err := fetchProfile(ctx, client, addr, f.path, remoteTimeout)
		if err != nil {
			n.problem("%s: %v", f.kind, err)
			continue
		}
		if f.kind == Mutex || f.kind == Block {
			if p, err = delta(p, base[f.kind]); err != nil {
				n.problem("%s: %v", f.kind, err)
				continue
			}
		}
		if b, err := encode(p); err == nil {
			put(f.kind.File(), b)
		}
	}
	if dump, err := fetch(ctx, client, addr, "goroutine?debug=2", remoteTimeout); err != nil {
		n.problem("goroutine dump: %v", err)
	} else {
		put(GoroutineDump, dump)
	}

	n.mu.Lock()
	problems := strings.Join(n.problems, "\n")
	n.mu.Unlock()
	if problems != "" {
		put("capture-errors.txt", []byte(problems+"\n"))
	}
	// Files the node wrote itself (node.log) are evidence too.
	entries, _ := os.ReadDir(n.dir)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if e.Type().IsRegular() {
			c.record(n.name + "/" + e.Name())
		}
	}
	return errors.Join(errs...)
}

func encode(p *profile.Profile) ([]byte, error) {
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		return nil, fmt.Errorf("evidence: encode profile: %w", err)
	}
	return buf.Bytes(), nil
}

func fetchProfile(ctx context.Context, client *http.Client, addr, path string, timeout time.Duration) (*profile.Profile, error) {
	b, err := fetch(ctx, client, addr, path, timeout)
	if err != nil {
		return nil, err
	}
	p, err := profile.ParseData(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return p, nil
}

// fetch GETs http://addr/debug/pprof/<path>.
func fetch(ctx context.Context, client *http.Client, addr, path string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + addr + "/debug/pprof/" + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}
