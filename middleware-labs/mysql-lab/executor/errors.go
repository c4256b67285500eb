package executor

import "fmt"

// MySQL error codes the lab returns; the server puts Code and State in the error packet.
const (
	ErUnknown         = 1105
	ErParse           = 1064
	ErNoSuchTable     = 1146
	ErBadField        = 1054
	ErDupEntry        = 1062
	ErTableExists     = 1050
	ErDupFieldName    = 1060
	ErDupKeyName      = 1061
	ErKeyDoesNotExist = 1176
	ErWrongValueCount = 1136
	ErUnknownSysVar   = 1193
	ErLockWaitTimeout = 1205
	ErLockDeadlock    = 1213
	ErBadNull         = 1048
	ErNotSupported    = 1235
)

// Error is a MySQL-shaped error: a code, a five-character SQLSTATE and the message a client shows.
type Error struct {
	Code  uint16
	State string
	Msg   string
	Err   error // the cause, for errors.Is (storage.ErrDeadlock, ...)
}

func (e *Error) Error() string { return fmt.Sprintf("ERROR %d (%s): %s", e.Code, e.State, e.Msg) }

func (e *Error) Unwrap() error { return e.Err }

func unknownColumn(name string) error {
	return &Error{Code: ErBadField, State: "42S22", Msg: fmt.Sprintf("Unknown column '%s' in 'field list'", name)}
}

func notSupported(what string) error {
	return &Error{Code: ErNotSupported, State: "42000", Msg: "This version of the lab's engine doesn't yet support '" + what + "'"}
}
