package replication

import (
	"context"
	"fmt"
	"sort"

	"github.com/architect-roadmap/architect-roadmap/middleware-labs/kafka-lab/recordbatch"
)

// AbortedTxn is one entry of a partition's aborted-transaction index. A Fetch response at
// isolation level read_committed lists those that overlap the records it returns; the consumer
// drops ProducerID's records from FirstOffset on, until it reaches that producer's abort marker.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
	LastOffset  int64 // the abort marker's offset
}

// txnState follows transactions through the batches of one log, as Kafka's producer state
// manager does: a transactional data batch opens a transaction for its producer, a control batch
// (the coordinator's commit or abort marker) closes it. A closed transaction stays unstable until
// its marker is below the high watermark, because until then a new leader might not have it.
type txnState struct {
	open      map[int64]int64 // producer id → first offset of its open transaction
	completed []AbortedTxn    // closed, marker not yet below HW (LastOffset is the marker)
	aborted   []AbortedTxn    // ordered by LastOffset
}

func newTxnState() *txnState { return &txnState{open: make(map[int64]int64)} }

// observe updates the state with one appended batch (its base offset already assigned).
func (t *txnState) observe(h recordbatch.Header, batch []byte) error {
	if !h.IsTransactional() {
		return nil
	}
	if !h.IsControl() {
		if first, ok := t.open[h.ProducerID]; !ok || h.BaseOffset < first {
			t.open[h.ProducerID] = h.BaseOffset
		}
		return nil
	}
	recs, err := recordbatch.Records(batch)
	if err != nil {
		return fmt.Errorf("replication: control batch at %d: %w", h.BaseOffset, err)
	}
	if len(recs) == 0 {
		return fmt.Errorf("replication: control batch at %d: %w: no marker record", h.BaseOffset, recordbatch.ErrRecord)
	}
	typ, err := recordbatch.ParseControl(recs[0])
	if err != nil {
		return fmt.Errorf("replication: control batch at %d: %w", h.BaseOffset, err)
	}
	first, ok := t.open[h.ProducerID]
	if !ok {
		return nil // a marker for a transaction that wrote nothing here
	}
	delete(t.open, h.ProducerID)
	txn := AbortedTxn{ProducerID: h.ProducerID, FirstOffset: first, LastOffset: h.BaseOffset}
	t.completed = append(t.completed, txn)
	if typ == recordbatch.ControlAbort {
		t.aborted = append(t.aborted, txn)
		sort.Slice(t.aborted, func(i, j int) bool { return t.aborted[i].LastOffset < t.aborted[j].LastOffset })
	}
	return nil
}

// lastStable is the LSO: the first offset of the earliest transaction that is open, or closed with
// its marker not yet committed; HW when there is none. It drops completed transactions whose
// marker HW has passed.
func (t *txnState) lastStable(hw int64) int64 {
	lso := hw
	kept := t.completed[:0]
	for _, c := range t.completed {
		if c.LastOffset >= hw {
			kept = append(kept, c)
			lso = min(lso, c.FirstOffset)
		}
	}
	t.completed = kept
	for _, first := range t.open {
		lso = min(lso, first)
	}
	return lso
}

// abortedIn lists aborted transactions overlapping [from, to).
func (t *txnState) abortedIn(from, to int64) []AbortedTxn {
	i := sort.Search(len(t.aborted), func(i int) bool { return t.aborted[i].LastOffset >= from })
	var out []AbortedTxn
	for _, a := range t.aborted[i:] {
		if a.FirstOffset < to {
			out = append(out, a)
		}
	}
	return out
}

// LastStableOffset is the LSO: a read_committed consumer reads below it.
func (p *Partition) LastStableOffset() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.txns.lastStable(p.hw)
}

// ReadStable returns whole batches from offset that lie entirely below the LSO: what a
// read_committed consumer may see (it still filters aborted records with AbortedTransactions).
func (p *Partition) ReadStable(ctx context.Context, offset int64, maxBytes int) ([]byte, error) {
	return p.log.ReadBefore(ctx, offset, p.LastStableOffset(), maxBytes)
}

// AbortedTransactions lists the aborted transactions that overlap offsets [from, to): the
// aborted_transactions field of a read_committed Fetch response.
func (p *Partition) AbortedTransactions(from, to int64) []AbortedTxn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.txns.abortedIn(from, to)
}
