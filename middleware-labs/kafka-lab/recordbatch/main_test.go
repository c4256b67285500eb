package recordbatch_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Records opens compressed batches with kafka-go's codecs; goleak proves no decoder leaves a
// goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
