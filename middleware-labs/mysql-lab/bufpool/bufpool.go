// Package bufpool is a buffer pool: a fixed set of page-sized frames caching
// pages of a pager.Pager, with pin counts, dirty pages written back in
// checkpoint batches, and a switchable replacement policy.
//
// Dirty pages are never evicted ("no steal"): they reach the data file only
// through Checkpoint, which writes them all at once through the pager's
// doublewrite file. That keeps the data file a consistent image of the trees as
// of a checkpoint, which is what the engine's logical redo log replays onto.
package bufpool

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
	"github.com/architect-roadmap/architect-roadmap/middleware-labs/mysql-lab/pager"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrNoFrame means every frame is pinned or dirty: the caller must checkpoint
// (or unpin) before it can load another page.
var ErrNoFrame = errors.New("bufpool: every frame is pinned or dirty")

// Options configure a Pool.
type Options struct {
	Frames int    // frames in the pool; at least 8
	Policy Policy // replacement policy
	K      int    // LRU-K's K; 2
	// OldBlocksTime is innodb_old_blocks_time for Midpoint, and the correlated
	// reference period for LRU-K: references to a page closer together than
	// this count as one. Its job is to ignore the bursts of one statement
	// (an index range scan revisiting a clustered leaf, row after row); a
	// table scan rereading the leaf it stopped on is handled by FetchQuiet.
	// InnoDB's default is 1 s, for pools of millions of pages where an old page
	// lives for seconds; a lab pool of a few hundred frames turns its old
	// sublist over in milliseconds, and a hot page must be referenced again
	// within the window's length of its load or it is evicted before it can
	// become young. Default 100 µs.
	OldBlocksTime time.Duration
	OldPercent    int                   // innodb_old_blocks_pct: the old sublist's share; 37
	Now           func() time.Time      // the clock policies read; time.Now (tests pass a simulated one)
	Registerer    prometheus.Registerer // nil: metrics are counted but not exported
}

func (o *Options) defaults() error {
	if o.Frames < 8 {
		return fmt.Errorf("bufpool: %d frames: want at least 8", o.Frames)
	}
	if o.K == 0 {
		o.K = 2
	}
	if o.OldBlocksTime == 0 {
		o.OldBlocksTime = 100 * time.Microsecond
	}
	if o.OldPercent == 0 {
		o.OldPercent = 37
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Policy < LRU || o.Policy > Midpoint {
		return fmt.Errorf("bufpool: unknown policy %d", o.Policy)
	}
	return nil
}

type frame struct {
	id    uint64
	data  []byte
	pins  int
	dirty bool
	used  bool
}

// Page is a pinned page. Data is the frame's memory: valid until Unpin.
type Page struct {
	ID    uint64
	Data  []byte
	frame int
}

// Pool caches pages of one pager. Its methods are safe for concurrent use;
// the bytes of a page are not guarded by the pool (the B+tree's caller
// serializes writers against readers).
type Pool struct {
	mu     sync.Mutex
	pg     *pager.Pager
	opts   Options
	frames []frame
	table  map[uint64]int
	free   []int
	rep    replacer
	dirty  int

	hits, misses, evictions atomic.Uint64
	m                       metrics
}

type metrics struct {
	hits, misses, evictions prometheus.Counter
	dirty                   prometheus.Gauge
}

// New makes a pool over pg.
func New(pg *pager.Pager, opts Options) (*Pool, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	p := &Pool{pg: pg, opts: opts, frames: make([]frame, opts.Frames), table: make(map[uint64]int, opts.Frames), rep: newReplacer(opts)}
	for i := range p.frames {
		p.frames[i].data = make([]byte, pg.PageSize())
		p.free = append(p.free, opts.Frames-1-i)
	}
	labels := prometheus.Labels{"policy": opts.Policy.String()}
	p.m = metrics{
		hits:      prometheus.NewCounter(prometheus.CounterOpts{Name: "mysqllab_bufpool_hits_total", Help: "Page requests served from a frame.", ConstLabels: labels}),
		misses:    prometheus.NewCounter(prometheus.CounterOpts{Name: "mysqllab_bufpool_misses_total", Help: "Page requests that read the data file.", ConstLabels: labels}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{Name: "mysqllab_bufpool_evictions_total", Help: "Pages evicted to make room.", ConstLabels: labels}),
		dirty:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "mysqllab_bufpool_dirty_pages", Help: "Frames modified since the last checkpoint.", ConstLabels: labels}),
	}
	if opts.Registerer != nil {
		if err := telemetry.Register(opts.Registerer, p.m.hits, p.m.misses, p.m.evictions, p.m.dirty); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Policy is the pool's replacement policy.
func (p *Pool) Policy() Policy { return p.opts.Policy }

// Frames is the pool's size.
func (p *Pool) Frames() int { return p.opts.Frames }

// PageCount is the number of pages in the file, allocated ones included.
func (p *Pool) PageCount() uint64 { return p.pg.PageCount() }

// PageSize is the pager's page size.
func (p *Pool) PageSize() int { return p.pg.PageSize() }

// Fetch pins page id, reading it from the data file on a miss.
func (p *Pool) Fetch(id uint64) (*Page, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetchLocked(id, true)
}

// FetchQuiet pins page id like Fetch, but a hit is not a reference for the
// replacement policy. A scan that let go of a leaf (to release a latch) and
// comes back to it uses it: rereading the page it was already on is part of
// one reference, and must not make a scanned page look hot.
func (p *Pool) FetchQuiet(id uint64) (*Page, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetchLocked(id, false)
}

// claim finds a frame for a new page: a free one, or a clean unpinned victim.
func (p *Pool) claim() (int, error) {
	if n := len(p.free); n > 0 {
		f := p.free[n-1]
		p.free = p.free[:n-1]
		return f, nil
	}
	f := p.rep.victim(func(f int) bool { return p.frames[f].pins == 0 && !p.frames[f].dirty })
	if f < 0 {
		return -1, fmt.Errorf("%w (%d frames, %d dirty)", ErrNoFrame, len(p.frames), p.dirty)
	}
	delete(p.table, p.frames[f].id)
	p.frames[f].used = false
	p.evictions.Add(1)
	p.m.evictions.Inc()
	return f, nil
}

func (p *Pool) install(f int, id uint64, now time.Time) {
	fr := &p.frames[f]
	fr.id, fr.pins, fr.dirty, fr.used = id, 1, false, true
	p.table[id] = f
	p.rep.touch(f, id, now, true)
}

// Unpin releases a pin; dirty marks the page modified.
func (p *Pool) Unpin(pg *Page, dirty bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fr := &p.frames[pg.frame]
	if fr.pins <= 0 || fr.id != pg.ID {
		panic(fmt.Sprintf("bufpool: unpin of page %d that is not pinned", pg.ID)) // a caller bug, never input
	}
	fr.pins--
	if dirty && !fr.dirty {
		fr.dirty = true
		p.dirty++
		p.m.dirty.Set(float64(p.dirty))
	}
}

// NewPage allocates a page (from the free list, else at the end of the file)
// and returns it pinned, zeroed and dirty.
func (p *Pool) NewPage() (*Page, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var id uint64
	head := p.pg.Meta().FreeHead
	if head != 0 {
		pg, err := p.fetchLocked(head, true)
		if err != nil {
			return nil, err
		}
		next, err := pager.DecodeFree(pg.Data)
		if err != nil {
			p.frames[pg.frame].pins--
			return nil, fmt.Errorf("free list page %d: %w", head, err)
		}
		p.pg.UpdateMeta(func(m *pager.Meta) { m.FreeHead = next })
		clear(pg.Data)
		p.markDirtyLocked(pg.frame)
		return pg, nil
	}
	f, err := p.claim()
	if err != nil {
		return nil, err
	}
	id = p.pg.Grow()
	clear(p.frames[f].data)
	p.install(f, id, p.opts.Now())
	p.markDirtyLocked(f)
	return &Page{ID: id, Data: p.frames[f].data, frame: f}, nil
}

func (p *Pool) fetchLocked(id uint64, reference bool) (*Page, error) {
	now := p.opts.Now()
	if f, ok := p.table[id]; ok {
		p.frames[f].pins++
		if reference {
			p.rep.touch(f, id, now, false)
		}
		p.hits.Add(1)
		p.m.hits.Inc()
		return &Page{ID: id, Data: p.frames[f].data, frame: f}, nil
	}
	p.misses.Add(1)
	p.m.misses.Inc()
	f, err := p.claim()
	if err != nil {
		return nil, err
	}
	if err := p.pg.ReadPage(id, p.frames[f].data); err != nil {
		p.free = append(p.free, f)
		return nil, err
	}
	p.install(f, id, now)
	return &Page{ID: id, Data: p.frames[f].data, frame: f}, nil
}

func (p *Pool) markDirtyLocked(f int) {
	if !p.frames[f].dirty {
		p.frames[f].dirty = true
		p.dirty++
		p.m.dirty.Set(float64(p.dirty))
	}
}

// FreePage puts a pinned page on the free list and unpins it.
func (p *Pool) FreePage(pg *Page) {
	p.mu.Lock()
	defer p.mu.Unlock()
	head := p.pg.Meta().FreeHead
	pager.EncodeFree(pg.Data, head)
	p.pg.UpdateMeta(func(m *pager.Meta) { m.FreeHead = pg.ID })
	p.markDirtyLocked(pg.frame)
	p.frames[pg.frame].pins--
}

// Dirty is the number of dirty frames.
func (p *Pool) Dirty() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dirty
}

// Checkpoint writes every dirty page and the pager's metadata in one
// crash-atomic batch, then marks them clean. The caller guarantees no page is
// being modified meanwhile (the trees are at a consistent point).
func (p *Pool) Checkpoint() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	batch := make(map[uint64][]byte, p.dirty)
	for i := range p.frames {
		if fr := &p.frames[i]; fr.used && fr.dirty {
			batch[fr.id] = append([]byte(nil), fr.data...)
		}
	}
	if err := p.pg.WriteBatch(batch); err != nil {
		return err
	}
	for i := range p.frames {
		p.frames[i].dirty = false
	}
	p.dirty = 0
	p.m.dirty.Set(0)
	return nil
}

// Stats are the pool's counters since New.
type Stats struct {
	Policy                  string
	Hits, Misses, Evictions uint64
	PagesRead, PagesWritten uint64
}

// HitRatio is Hits / (Hits + Misses), 0 before any request.
func (s Stats) HitRatio() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// Stats returns the counters.
func (p *Pool) Stats() Stats {
	r, w := p.pg.Counts()
	return Stats{Policy: p.opts.Policy.String(), Hits: p.hits.Load(), Misses: p.misses.Load(), Evictions: p.evictions.Load(), PagesRead: r, PagesWritten: w}
}
