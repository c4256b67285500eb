package store

// List is a double-ended queue on a ring buffer: O(1) push and pop at both ends, O(1) index.
type List struct {
	buf  [][]byte
	head int
	n    int
}

// Len is the number of elements.
func (l *List) Len() int { return l.n }

func (l *List) grow() {
	nb := make([][]byte, max(8, 2*len(l.buf)))
	for i := 0; i < l.n; i++ {
		nb[i] = l.buf[(l.head+i)%len(l.buf)]
	}
	l.buf, l.head = nb, 0
}

// PushFront prepends e.
func (l *List) PushFront(e []byte) {
	if l.n == len(l.buf) {
		l.grow()
	}
	l.head = (l.head - 1 + len(l.buf)) % len(l.buf)
	l.buf[l.head] = e
	l.n++
}

// PushBack appends e.
func (l *List) PushBack(e []byte) {
	if l.n == len(l.buf) {
		l.grow()
	}
	l.buf[(l.head+l.n)%len(l.buf)] = e
	l.n++
}

// PopFront removes the first element.
func (l *List) PopFront() ([]byte, bool) {
	if l.n == 0 {
		return nil, false
	}
	e := l.buf[l.head]
	l.buf[l.head] = nil
	l.head = (l.head + 1) % len(l.buf)
	l.n--
	return e, true
}

// PopBack removes the last element.
func (l *List) PopBack() ([]byte, bool) {
	if l.n == 0 {
		return nil, false
	}
	i := (l.head + l.n - 1) % len(l.buf)
	e := l.buf[i]
	l.buf[i] = nil
	l.n--
	return e, true
}

// At returns element i (0-based, in range).
func (l *List) At(i int) []byte { return l.buf[(l.head+i)%len(l.buf)] }

// Each calls fn on every element in order.
func (l *List) Each(fn func([]byte)) {
	for i := 0; i < l.n; i++ {
		fn(l.At(i))
	}
}
