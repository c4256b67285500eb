package protocol_test

import (
	"testing"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
)

// FuzzDecodeRequest: any bytes a client sends decode to a request or an
// error, never a panic, and never an allocation sized by a hostile length.
func FuzzDecodeRequest(f *testing.F) {
	for _, tc := range requestCases() {
		f.Add(encoded(f, tc.v, tc.msg))
	}
	f.Add([]byte{})
	f.Add([]byte{0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, frame []byte) {
		h, r, err := protocol.DecodeRequest(frame)
		if err == nil && r == nil {
			t.Fatalf("api key %d v%d: no request and no error", h.Key, h.Version)
		}
	})
}
