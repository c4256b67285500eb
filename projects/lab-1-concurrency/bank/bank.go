// Package bank moves money between accounts, each guarded by its own mutex. Built with
// unordered locking it has a lock-order inversion: Transfer locks the source account, then
// the destination, so a transfer A->B and a transfer B->A can each hold the lock the other
// needs. Those goroutines wait forever; the Go runtime does not report it ("all goroutines
// are asleep" needs every goroutine asleep), because the rest of the program still runs.
package bank

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// ErrInsufficientFunds is returned when the source account cannot cover the amount.
var ErrInsufficientFunds = errors.New("bank: insufficient funds")

type account struct {
	mu      sync.Mutex
	id      int
	balance int64
}

// Bank is a fixed set of accounts.
type Bank struct {
	accounts []*account
	ordered  bool
	// Completed counts transfers that went through (the watchdog's progress signal);
	// InFlight counts Transfer calls under way.
	Completed, InFlight atomic.Int64
}

// New opens n accounts with balance each. ordered=true is the fix: locks are always taken in
// account-id order, so no cycle of waiters can form.
func New(n int, balance int64, ordered bool) (*Bank, error) {
	if n < 2 || balance < 0 {
		return nil, fmt.Errorf("bank: want at least 2 accounts and a balance >= 0, got %d and %d", n, balance)
	}
	b := &Bank{ordered: ordered}
	for i := range n {
		b.accounts = append(b.accounts, &account{id: i, balance: balance})
	}
	return b, nil
}

// Transfer moves amount from one account to another, atomically with respect to other transfers.
func (b *Bank) Transfer(from, to int, amount int64) error {
	if from == to || from < 0 || to < 0 || from >= len(b.accounts) || to >= len(b.accounts) || amount <= 0 {
		return fmt.Errorf("bank: want two different accounts in 0..%d and an amount > 0, got %d->%d %d",
			len(b.accounts)-1, from, to, amount)
	}
	b.InFlight.Add(1)
	defer b.InFlight.Add(-1)
	src, dst := b.accounts[from], b.accounts[to]
	first, second := src, dst // the defect: lock order follows the direction of the transfer
	// exercise:begin deadlock
	if b.ordered && second.id < first.id {
		first, second = second, first // the fix: one global order, lowest id first
	}
	// exercise:stub
	// // The locks are taken in the transfer's direction.
	// exercise:end
	first.mu.Lock()
	defer first.mu.Unlock()
	second.mu.Lock()
	defer second.mu.Unlock()
	if src.balance < amount {
		return fmt.Errorf("%w: account %d has %d, needs %d", ErrInsufficientFunds, from, src.balance, amount)
	}
	src.balance -= amount
	dst.balance += amount
	b.Completed.Add(1)
	return nil
}

// Total is the sum of all balances; transfers never change it. It takes every lock in id order.
func (b *Bank) Total() int64 {
	var t int64
	for _, a := range b.accounts {
		a.mu.Lock()
	}
	for _, a := range b.accounts {
		t += a.balance
	}
	for _, a := range b.accounts {
		a.mu.Unlock()
	}
	return t
}
