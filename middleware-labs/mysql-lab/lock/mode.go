package lock

// Mode is a row lock's mode. Shared locks are what SELECT ... LOCK IN SHARE MODE
// takes; exclusive locks are what UPDATE, DELETE and SELECT ... FOR UPDATE take.
type Mode uint8

const (
	// Shared (S) is compatible with other shared locks.
	Shared Mode = iota + 1
	// Exclusive (X) is compatible with nothing.
	Exclusive
)

// String returns the InnoDB spelling of the mode, as it appears in lock_mode lines.
func (m Mode) String() string {
	switch m {
	case Shared:
		return "S"
	case Exclusive:
		return "X"
	default:
		return "?"
	}
}

// compatible reports whether a lock in mode held can coexist with one in mode want.
func compatible(held, want Mode) bool { return held == Shared && want == Shared }
