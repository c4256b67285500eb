package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// BenchmarkReadCommand parses a pipeline of SETs as redis-benchmark sends them.
func BenchmarkReadCommand(b *testing.B) {
	one := "*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nxxx\r\n"
	data := []byte(strings.Repeat(one, 1000))
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	for i := 0; i < b.N; {
		r := NewReader(bytes.NewReader(data), Limits{})
		for ; i < b.N; i++ {
			if _, err := r.ReadCommand(); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				b.Fatal(err)
			}
		}
	}
}
