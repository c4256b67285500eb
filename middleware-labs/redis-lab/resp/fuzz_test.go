package resp

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadCommand feeds arbitrary bytes to the request parser: it must return commands or an
// error, never panic, never loop forever, and never hand back an argument over the limits.
// Run: go test -run '^$' -fuzz FuzzReadCommand -fuzztime 30s ./resp
func FuzzReadCommand(f *testing.F) {
	seeds := []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*1\r\n$4\r\nPING\r\n",
		"PING\r\n", "SET \"a b\" 'c\\'d' \"\\x41\"\n", "\r\n\r\n", "*0\r\n", "*-1\r\n",
		"*1\r\n$-1\r\n", "*1\r\n:1\r\n", "*99999999999999999999\r\n", "$5\r\nhello\r\n",
		"*1\r\n$5\r\nab", "SET \"unterminated\r\n", "*2\r\n$1\r\na\r\n$01\r\nb\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	limits := Limits{MaxInline: 256, MaxArgs: 16, MaxBulk: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), limits)
		for i := 0; i <= len(data); i++ { // every command consumes at least one byte
			args, err := r.ReadCommand()
			if err != nil {
				var pe *ProtocolError
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &pe) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				return
			}
			if len(args) == 0 || len(args) > limits.MaxArgs && data[0] == '*' {
				t.Fatalf("bad args %q", args)
			}
		}
		t.Fatalf("parser did not terminate on %q", data)
	})
}
