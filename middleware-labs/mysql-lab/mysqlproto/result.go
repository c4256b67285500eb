package mysqlproto

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Command bytes.
const (
	ComQuit        = 0x01
	ComInitDB      = 0x02
	ComQuery       = 0x03
	ComFieldList   = 0x04
	ComPing        = 0x0e
	ComStmtPrepare = 0x16
	ComStmtExecute = 0x17
	ComStmtClose   = 0x19
	ComStmtReset   = 0x1a
	ComSetOption   = 0x1b
	ComResetConn   = 0x1f
)

// Column types on the wire.
const (
	TypeTiny      = 0x01
	TypeShort     = 0x02
	TypeLong      = 0x03
	TypeFloat     = 0x04
	TypeDouble    = 0x05
	TypeNull      = 0x06
	TypeTimestamp = 0x07
	TypeLongLong  = 0x08
	TypeInt24     = 0x09
	TypeDate      = 0x0a
	TypeTime      = 0x0b
	TypeDatetime  = 0x0c
	TypeYear      = 0x0d
	TypeVarchar   = 0x0f
	TypeBit       = 0x10
	TypeNewDec    = 0xf6
	TypeBlob      = 0xfc
	TypeVarString = 0xfd
	TypeString    = 0xfe
)

// OK is an OK packet.
func OK(affected, lastInsertID uint64, status, warnings uint16) []byte {
	b := []byte{0x00}
	b = AppendLenEncInt(b, affected)
	b = AppendLenEncInt(b, lastInsertID)
	b = binary.LittleEndian.AppendUint16(b, status)
	return binary.LittleEndian.AppendUint16(b, warnings)
}

// Err is an ERR packet with a MySQL error code and SQLSTATE.
func Err(code uint16, state, msg string) []byte {
	if len(state) != 5 {
		state = "HY000"
	}
	b := []byte{0xff}
	b = binary.LittleEndian.AppendUint16(b, code)
	b = append(b, '#')
	b = append(b, state...)
	return append(b, msg...)
}

// EOF is an EOF packet.
func EOF(status, warnings uint16) []byte {
	b := []byte{0xfe}
	b = binary.LittleEndian.AppendUint16(b, warnings)
	return binary.LittleEndian.AppendUint16(b, status)
}

// Column is a result set column's definition.
type Column struct {
	Schema, Table, Name string
	Type                byte
	Length              uint32
	Flags               uint16
	Decimals            byte
}

// ColumnDefinition is a ColumnDefinition41 packet.
func ColumnDefinition(c Column) []byte {
	b := AppendLenEncString(nil, "def")
	b = AppendLenEncString(b, c.Schema)
	b = AppendLenEncString(b, c.Table)
	b = AppendLenEncString(b, c.Table)
	b = AppendLenEncString(b, c.Name)
	b = AppendLenEncString(b, c.Name)
	b = append(b, 0x0c)
	charset := uint16(45)
	if c.Type != TypeVarString && c.Type != TypeString && c.Type != TypeBlob {
		charset = 63 // binary, for numbers
	}
	b = binary.LittleEndian.AppendUint16(b, charset)
	b = binary.LittleEndian.AppendUint32(b, c.Length)
	b = append(b, c.Type)
	b = binary.LittleEndian.AppendUint16(b, c.Flags)
	b = append(b, c.Decimals)
	return append(b, 0, 0)
}

// TextRow encodes a text-protocol row; nil is NULL.
func TextRow(vals []any) []byte {
	var b []byte
	for _, v := range vals {
		if v == nil {
			b = append(b, 0xfb)
			continue
		}
		b = AppendLenEncString(b, textValue(v))
	}
	return b
}

func textValue(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// BinaryRow encodes a binary-protocol row for the columns' types (LONGLONG, DOUBLE or a string).
func BinaryRow(cols []Column, vals []any) []byte {
	bitmap := make([]byte, (len(cols)+7+2)/8)
	b := []byte{0x00}
	var body []byte
	for i, v := range vals {
		if v == nil {
			bitmap[(i+2)/8] |= 1 << ((i + 2) % 8)
			continue
		}
		switch cols[i].Type {
		case TypeLongLong:
			n, ok := v.(int64)
			if !ok {
				n, _ = strconv.ParseInt(textValue(v), 10, 64)
			}
			body = binary.LittleEndian.AppendUint64(body, uint64(n))
		case TypeDouble:
			f, ok := v.(float64)
			if !ok {
				f, _ = strconv.ParseFloat(textValue(v), 64)
			}
			body = binary.LittleEndian.AppendUint64(body, math.Float64bits(f))
		default:
			body = AppendLenEncString(body, textValue(v))
		}
	}
	return append(append(b, bitmap...), body...)
}

// StmtPrepareOK is COM_STMT_PREPARE's first response packet.
func StmtPrepareOK(id uint32, columns, params uint16) []byte {
	b := []byte{0x00}
	b = binary.LittleEndian.AppendUint32(b, id)
	b = binary.LittleEndian.AppendUint16(b, columns)
	b = binary.LittleEndian.AppendUint16(b, params)
	b = append(b, 0)
	return binary.LittleEndian.AppendUint16(b, 0)
}

// Execute is a decoded COM_STMT_EXECUTE.
type Execute struct {
	StmtID uint32
	Flags  byte
	Args   []any
	Types  []uint16 // the parameter types in force (sent now, or kept from the last execute)
}

// StmtID reads the statement id of COM_STMT_EXECUTE, COM_STMT_CLOSE or COM_STMT_RESET (after the
// command byte), so the server can find how many parameters it has.
func StmtID(p []byte) (uint32, error) {
	r := &reader{b: p}
	id := r.uint32("statement id")
	return id, r.err
}

// ParseExecute decodes COM_STMT_EXECUTE's body (after the command byte) for a statement with
// nparams parameters; prevTypes are the types bound by a previous execute.
func ParseExecute(p []byte, nparams int, prevTypes []uint16) (*Execute, error) {
	r := &reader{b: p}
	e := &Execute{StmtID: r.uint32("statement id"), Flags: r.byte1("flags")}
	r.uint32("iteration count")
	if r.err != nil {
		return nil, r.err
	}
	if nparams == 0 {
		return e, nil
	}
	if nparams > 65535 {
		return nil, malformed("%d parameters", nparams)
	}
	bitmap := r.bytes((nparams+7)/8, "null bitmap")
	bound := r.byte1("new-params-bound flag")
	if r.err != nil {
		return nil, r.err
	}
	e.Types = prevTypes
	if bound == 1 {
		e.Types = make([]uint16, nparams)
		for i := range e.Types {
			e.Types[i] = r.uint16("parameter type")
		}
	}
	if len(e.Types) != nparams {
		return nil, malformed("no parameter types bound for %d parameters", nparams)
	}
	e.Args = make([]any, nparams)
	for i := 0; i < nparams && r.err == nil; i++ {
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		e.Args[i] = readBinaryValue(r, e.Types[i])
	}
	if r.err != nil {
		return nil, r.err
	}
	return e, nil
}

func readBinaryValue(r *reader, typ uint16) any {
	unsigned := typ&0x8000 != 0
	switch byte(typ) {
	case TypeTiny:
		v := r.byte1("TINY")
		if unsigned {
			return int64(v)
		}
		return int64(int8(v))
	case TypeShort, TypeYear:
		v := r.uint16("SHORT")
		if unsigned {
			return int64(v)
		}
		return int64(int16(v))
	case TypeLong, TypeInt24:
		v := r.uint32("LONG")
		if unsigned {
			return int64(v)
		}
		return int64(int32(v))
	case TypeLongLong:
		v := r.uint64("LONGLONG")
		if unsigned && v > math.MaxInt64 {
			return float64(v)
		}
		return int64(v)
	case TypeFloat:
		return float64(math.Float32frombits(r.uint32("FLOAT")))
	case TypeDouble:
		return math.Float64frombits(r.uint64("DOUBLE"))
	case TypeNull:
		return nil
	case TypeDate, TypeDatetime, TypeTimestamp:
		n := r.byte1("datetime length")
		b := r.bytes(int(n), "datetime")
		if b == nil {
			return nil
		}
		var y, mo, d, h, mi, s int
		if n >= 4 {
			y, mo, d = int(binary.LittleEndian.Uint16(b)), int(b[2]), int(b[3])
		}
		if n >= 7 {
			h, mi, s = int(b[4]), int(b[5]), int(b[6])
		}
		return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s)
	case TypeTime:
		n := r.byte1("time length")
		b := r.bytes(int(n), "time")
		if len(b) < 8 {
			return "00:00:00"
		}
		return fmt.Sprintf("%02d:%02d:%02d", int(b[5])+24*int(binary.LittleEndian.Uint32(b[1:5])), b[6], b[7])
	}
	// Strings, decimals, blobs: length-encoded bytes.
	return r.lenEncString("string parameter")
}
