package protocol_test

import (
	"testing"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/protocol"
)

// BenchmarkDecodeRequest decodes each API's request as kafka-go encodes it.
func BenchmarkDecodeRequest(b *testing.B) {
	for _, tc := range requestCases() {
		frame := encoded(b, tc.v, tc.msg)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if _, _, err := protocol.DecodeRequest(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
