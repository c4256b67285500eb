package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/architect-roadmap/architect-roadmap/labkit/telemetry"
)

type slowEntry struct {
	id       int64
	at       time.Time
	duration time.Duration
	args     [][]byte
	addr     string
	name     string
}

// slowlog keeps the most recent commands slower than the threshold (SLOWLOG GET/LEN/RESET).
type slowlog struct {
	entries    []slowEntry // newest first
	nextID     int64
	maxLen     int
	slowerThan time.Duration
}

func (l *slowlog) add(c *client, args [][]byte, d time.Duration) {
	n := min(len(args), 32)
	cp := make([][]byte, n)
	for i := 0; i < n; i++ {
		a := args[i]
		if len(a) > 128 {
			a = append(append([]byte{}, a[:128]...), []byte("... ("+itoa(int64(len(a)-128))+" more bytes)")...)
		} else {
			a = append([]byte{}, a...)
		}
		cp[i] = a
	}
	if len(args) > 32 {
		cp[31] = []byte("... (" + itoa(int64(len(args)-31)) + " more arguments)")
	}
	l.entries = append([]slowEntry{{id: l.nextID, at: time.Now(), duration: d, args: cp, addr: c.addr, name: c.name}}, l.entries...)
	l.nextID++
	l.trim()
}

func (l *slowlog) trim() {
	if len(l.entries) > l.maxLen {
		l.entries = l.entries[:l.maxLen]
	}
}

func itoa(n int64) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int64) []byte {
	if n == 0 {
		return append(b, '0')
	}
	var tmp [20]byte
	i := len(tmp)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		b = append(b, '-')
	}
	return append(b, tmp[i:]...)
}

func cmdSlowlog(s *Server, c *client, args [][]byte) {
	switch string(lowerASCII(args[1])) {
	case "get":
		n := 10
		if len(args) > 2 {
			v, ok := parseInt(args[2])
			if !ok || v < -1 {
				c.err("ERR count should be greater than or equal to -1")
				return
			}
			if v >= 0 {
				n = int(v)
			} else {
				n = len(s.slowlog.entries)
			}
		}
		n = min(n, len(s.slowlog.entries))
		c.w.Array(n)
		for _, e := range s.slowlog.entries[:n] {
			c.w.Array(6)
			c.w.Int(e.id)
			c.w.Int(e.at.Unix())
			c.w.Int(e.duration.Microseconds())
			c.w.Array(len(e.args))
			for _, a := range e.args {
				c.w.Bulk(a)
			}
			c.w.BulkString(e.addr)
			c.w.BulkString(e.name)
		}
	case "len":
		c.w.Int(int64(len(s.slowlog.entries)))
	case "reset":
		s.slowlog.entries = nil
		c.ok()
	default:
		c.err(unknownSubcommand(args[1], "slowlog"))
	}
}

func lowerASCII(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// metrics are the server's Prometheus series (prefix lab5_). Per-command counters and latency
// histograms are resolved once at start, so the hot path pays one atomic add and one observe.
type metrics struct {
	expired prometheus.Counter
}

func newMetrics(s *Server, reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{expired: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lab5_expired_keys_total", Help: "Keys removed by lazy or active expiry.",
	})}
	if reg == nil {
		return m, nil
	}
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lab5_commands_total", Help: "Commands executed, by command.",
	}, []string{"cmd"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lab5_command_duration_seconds",
		Help:    "Time a command held the executor (every other client waited this long).",
		Buckets: []float64{1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1},
	}, []string{"cmd"})
	for name, cmd := range s.commands {
		cmd.counter = calls.WithLabelValues(name)
		cmd.latency = lat.WithLabelValues(name)
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			return f()
		})
	}
	for _, c := range []prometheus.Collector{calls, lat, m.expired,
		gauge("lab5_connected_clients", "Open client connections.", func() float64 { return float64(len(s.clients)) }),
		gauge("lab5_keys", "Keys in the keyspace.", func() float64 { return float64(s.keyCount()) }),
		gauge("lab5_used_memory_bytes", "Accounted size of keys and values.", func() float64 { return float64(s.usedMemory()) }),
		gauge("lab5_slowlog_length", "Entries in the slowlog.", func() float64 { return float64(len(s.slowlog.entries)) }),
	} {
		if err := telemetry.Register(reg, c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
