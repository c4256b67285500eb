// Package escape holds small functions whose values the compiler keeps on the stack or moves to
// the heap. escape_test.go runs `go build -gcflags=-m` on this package and checks every
// decision against the table in the lab README, so the lesson is re-checked against whatever
// compiler runs the tests.
//
// Every function is //go:noinline: inlined into a caller, a function's values are re-analysed
// in the caller's context (a returned pointer the caller does not keep stays on the caller's
// stack), which would hide the decision each function makes on its own.
package escape

import "strconv"

// Point is a small value type.
type Point struct{ X, Y int }

// SumArray keeps a fixed-size array on the stack, even one made with new: its size is known
// and its address never leaves the frame.
//
//go:noinline
func SumArray(n int) int {
	arr := new([64]int)
	for i := range arr {
		arr[i] = i * n
	}
	s := 0
	for _, v := range arr {
		s += v
	}
	return s
}

// NewPoint returns a pointer to a local: the local must outlive the frame, so it moves to the heap.
//
//go:noinline
func NewPoint(x, y int) *Point {
	p := Point{X: x, Y: y}
	return &p
}

// PointValue builds its Point through a pointer but returns a copy: nothing outlives the frame.
//
//go:noinline
func PointValue(x, y int) Point {
	p := &Point{X: x, Y: y}
	return *p
}

// MakeFixed makes a slice whose size the compiler knows and which never leaves the function.
//
//go:noinline
func MakeFixed(n int) int {
	buf := make([]int, 64)
	for i := range buf {
		buf[i] = i + n
	}
	return buf[63]
}

// MakeVariable makes a slice whose size is only known at run time: the heap it is.
//
//go:noinline
func MakeVariable(n int) int {
	buf := make([]int, n)
	for i := range buf {
		buf[i] = i
	}
	return len(buf)
}

// MakeLarge makes a constant-size slice too big for the stack (over 64 KiB).
//
//go:noinline
func MakeLarge(n int) int {
	buf := make([]byte, 128<<10)
	buf[n] = 1
	return int(buf[n])
}

// ToInterface stores an int in an interface: the value is boxed on the heap (except 0..255,
// which the runtime serves from a static table).
//
//go:noinline
func ToInterface(x int) any {
	return x
}

// Counter returns a closure that outlives the call, so the variable it captures moves to the heap.
//
//go:noinline
func Counter() func() int {
	n := 0
	return func() int {
		n++
		return n
	}
}

// LocalClosure hands its closure to a function that keeps no reference to it: the closure and
// the variable it captures stay on the stack.
//
//go:noinline
func LocalClosure(k int) int {
	total := 0
	apply(k, func(v int) { total += v })
	return total
}

// apply calls f for 0..k-1 and keeps no reference to it, so f does not escape.
//
//go:noinline
func apply(k int, f func(int)) {
	for i := range k {
		f(i)
	}
}

// Norm1 only reads through its pointer parameter: the pointee does not escape.
//
//go:noinline
func Norm1(p *Point) int {
	return abs(p.X) + abs(p.Y)
}

// Identity returns its parameter: the parameter leaks to the result, so the caller decides.
//
//go:noinline
func Identity(p *Point) *Point {
	return p
}

// Format converts with strconv into a stack buffer: AppendInt is inlined, so the buffer it
// appends to does not escape.
//
//go:noinline
func Format(x int) int {
	b := strconv.AppendInt(make([]byte, 0, 20), int64(x), 10)
	return len(b)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
