package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func strs(args [][]byte) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

func TestReadCommand(t *testing.T) {
	small := Limits{MaxInline: 32, MaxArgs: 4, MaxBulk: 8}
	tests := []struct {
		name    string
		in      string
		limits  Limits
		want    [][]string
		wantErr string // "" = ends with io.EOF
	}{
		{name: "multibulk", in: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", want: [][]string{{"GET", "k"}}},
		{name: "pipeline", in: "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{{"PING"}, {"PING"}}},
		{name: "empty bulk", in: "*2\r\n$3\r\nSET\r\n$0\r\n\r\n", want: [][]string{{"SET", ""}}},
		{name: "binary bulk", in: "*1\r\n$4\r\na\r\nb\r\n", want: [][]string{{"a\r\nb"}}},
		{name: "empty multibulk skipped", in: "*0\r\n*-1\r\n*1\r\n$1\r\nx\r\n", want: [][]string{{"x"}}},
		{name: "inline", in: "SET k v\r\n", want: [][]string{{"SET", "k", "v"}}},
		{name: "inline bare LF", in: "PING\n", want: [][]string{{"PING"}}},
		{name: "inline quotes", in: "SET \"a b\" 'c\\'d' \"\\x41\\n\"\r\n", want: [][]string{{"SET", "a b", "c'd", "A\n"}}},
		{name: "empty lines skipped", in: "\r\n   \r\nPING\r\n", want: [][]string{{"PING"}}},
		{name: "unbalanced", in: "SET \"a\r\n", wantErr: "Protocol error: unbalanced quotes in request"},
		{name: "quote glued", in: "SET \"a\"b\r\n", wantErr: "Protocol error: unbalanced quotes in request"},
		{name: "bad multibulk", in: "*x\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "multibulk over limit", in: "*5\r\n", limits: small, wantErr: "Protocol error: invalid multibulk length"},
		{name: "expected dollar", in: "*1\r\n:3\r\n", wantErr: "Protocol error: expected '$', got ':'"},
		{name: "bad bulk length", in: "*1\r\n$-2\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk over limit", in: "*1\r\n$9\r\n", limits: small, wantErr: "Protocol error: invalid bulk length"},
		{name: "bulk missing CRLF", in: "*1\r\n$1\r\nabc\r\n", wantErr: "Protocol error: invalid bulk length"},
		{name: "leading zero", in: "*01\r\n", wantErr: "Protocol error: invalid multibulk length"},
		{name: "inline too big", in: strings.Repeat("a", 100) + "\r\n", limits: small, wantErr: "Protocol error: too big inline request"},
		{name: "mbulk line too big", in: "*" + strings.Repeat("1", 100) + "\r\n", limits: small, wantErr: "Protocol error: too big mbulk count string"},
		{name: "truncated bulk", in: "*1\r\n$5\r\nab", wantErr: io.ErrUnexpectedEOF.Error()},
		{name: "truncated line", in: "*1\r\n$5", wantErr: io.ErrUnexpectedEOF.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in), tc.limits)
			var got [][]string
			for {
				args, err := r.ReadCommand()
				if err != nil {
					if tc.wantErr == "" {
						require.ErrorIs(t, err, io.EOF)
					} else {
						require.EqualError(t, err, tc.wantErr)
					}
					break
				}
				got = append(got, strs(args))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestHugeDeclaredLengthsDoNotAllocate(t *testing.T) {
	// A 30-byte request declaring a million arguments of 512 MiB each must fail on EOF, not OOM.
	r := NewReader(strings.NewReader("*1048576\r\n$536870912\r\nabc"), Limits{})
	_, err := r.ReadCommand()
	require.True(t, errors.Is(err, io.ErrUnexpectedEOF))
}

func TestWriter(t *testing.T) {
	tests := []struct {
		name  string
		proto int
		write func(w *Writer)
		want  string
	}{
		{"simple", 2, func(w *Writer) { w.Simple("OK") }, "+OK\r\n"},
		{"error strips newlines", 2, func(w *Writer) { w.Error("ERR a\r\nb") }, "-ERR a  b\r\n"},
		{"int", 2, func(w *Writer) { w.Int(-3) }, ":-3\r\n"},
		{"bulk", 2, func(w *Writer) { w.Bulk([]byte("hi")) }, "$2\r\nhi\r\n"},
		{"null2", 2, func(w *Writer) { w.Null() }, "$-1\r\n"},
		{"null3", 3, func(w *Writer) { w.Null() }, "_\r\n"},
		{"nullarray2", 2, func(w *Writer) { w.NullArray() }, "*-1\r\n"},
		{"map2", 2, func(w *Writer) { w.Map(1) }, "*2\r\n"},
		{"map3", 3, func(w *Writer) { w.Map(1) }, "%1\r\n"},
		{"set3", 3, func(w *Writer) { w.Set(2) }, "~2\r\n"},
		{"push3", 3, func(w *Writer) { w.Push(3) }, ">3\r\n"},
		{"double2", 2, func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n"},
		{"double3", 3, func(w *Writer) { w.Double(1.5) }, ",1.5\r\n"},
		{"inf", 3, func(w *Writer) { w.Double(FloatInf()) }, ",inf\r\n"},
		{"bool3", 3, func(w *Writer) { w.Bool(true) }, "#t\r\n"},
		{"bool2", 2, func(w *Writer) { w.Bool(true) }, ":1\r\n"},
		{"verbatim3", 3, func(w *Writer) { w.Verbatim("txt", "ab") }, "=6\r\ntxt:ab\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			w.Proto = tc.proto
			tc.write(w)
			require.NoError(t, w.Flush())
			assert.Equal(t, tc.want, buf.String())
		})
	}
}
