// Package pool renders records into a byte buffer, once with a fresh buffer per call and once
// with buffers recycled through a sync.Pool, so benchmarks show what the pool saves (allocation
// and GC work for large, short-lived buffers) and what it does not (anything for small values,
// and nothing at all across garbage collections: a pool is not a cache).
package pool

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
)

// Row is one record to render.
type Row struct {
	ID    int
	Name  string
	Score float64
}

// MaxPooledCap bounds the buffers returned to the pool: one huge request must not pin a huge
// buffer for every later small one (golang/go#23199).
const MaxPooledCap = 64 << 10

// Renderer writes rows as CSV. The zero value is ready to use.
type Renderer struct {
	buffers sync.Pool
	// Pooled and Dropped count buffers returned to the pool and buffers refused for size.
	Pooled, Dropped atomic.Int64
}

func render(buf *bytes.Buffer, rows []Row) {
	for _, r := range rows {
		b := buf.AvailableBuffer()
		b = strconv.AppendInt(b, int64(r.ID), 10)
		b = append(b, ',')
		b = strconv.AppendQuote(b, r.Name)
		b = append(b, ',')
		b = strconv.AppendFloat(b, r.Score, 'f', 3, 64)
		b = append(b, '\n')
		buf.Write(b)
	}
}

// WriteAlloc renders into a new buffer each call.
func (r *Renderer) WriteAlloc(w io.Writer, rows []Row) (int64, error) {
	var buf bytes.Buffer
	render(&buf, rows)
	return buf.WriteTo(w)
}

// WritePooled renders into a buffer taken from, and returned to, the pool.
func (r *Renderer) WritePooled(w io.Writer, rows []Row) (int64, error) {
	buf, _ := r.buffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	render(buf, rows)
	n, err := buf.WriteTo(w)
	r.put(buf)
	return n, err
}

func (r *Renderer) put(buf *bytes.Buffer) {
	if buf.Cap() > MaxPooledCap {
		r.Dropped.Add(1)
		return
	}
	r.Pooled.Add(1)
	r.buffers.Put(buf)
}
