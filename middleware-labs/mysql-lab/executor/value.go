package executor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Value is one SQL value: nil (NULL), int64, float64 or string. DATETIME travels as its
// 'YYYY-MM-DD HH:MM:SS' text, which sorts like the time it names.
type Value = any

// kind is how a column stores and compares its values.
type kind int

const (
	kindInt kind = iota
	kindFloat
	kindString
)

func kindOf(sqlType string) kind {
	switch sqlType {
	case "INT", "BIGINT":
		return kindInt
	case "DOUBLE":
		return kindFloat
	}
	return kindString
}

// toFloat is MySQL's string-to-number conversion: the longest numeric prefix, 0 when there is none
// ('abc' = 0 is true in MySQL, which is why comparing a VARCHAR column with a number must convert
// every row and cannot use the index).
func toFloat(v Value) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case string:
		s := strings.TrimSpace(x)
		end := 0
		for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || s[end] == 'e' || s[end] == 'E' || ((s[end] == '-' || s[end] == '+') && (end == 0 || s[end-1] == 'e' || s[end-1] == 'E'))) {
			end++
		}
		for end > 0 {
			if f, err := strconv.ParseFloat(s[:end], 64); err == nil {
				return f
			}
			end--
		}
	}
	return 0
}

// compare orders a and b the way MySQL compares mixed operands: two strings as strings, two
// integers as integers, anything else as numbers. ok is false when either side is NULL.
func compare(a, b Value) (c int, ok bool) {
	if a == nil || b == nil {
		return 0, false
	}
	if as, isStr := a.(string); isStr {
		if bs, isStr := b.(string); isStr {
			return strings.Compare(as, bs), true
		}
	}
	if ai, isInt := a.(int64); isInt {
		if bi, isInt := b.(int64); isInt {
			switch {
			case ai < bi:
				return -1, true
			case ai > bi:
				return 1, true
			}
			return 0, true
		}
	}
	af, bf := toFloat(a), toFloat(b)
	switch {
	case af < bf:
		return -1, true
	case af > bf:
		return 1, true
	}
	return 0, true
}

// coerce converts v to the column's storage kind for INSERT and UPDATE.
func coerce(v Value, k kind) (Value, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case kindInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			return int64(math.Round(x)), nil
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, nil
			}
			return int64(toFloat(x)), nil
		}
	case kindFloat:
		return toFloat(v), nil
	case kindString:
		return formatValue(v), nil
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}

// formatValue is the text protocol's rendering of a value.
func formatValue(v Value) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// Key encoding: order-preserving, so the B+tree's bytewise order is SQL order and a composite
// index (a, b) sorts by a, then b. Each value starts with a marker (0x00 NULL, 0x01 present);
// integers are big-endian with the sign bit flipped; strings escape 0x00 as 0x00 0xFF and end with
// 0x00 0x01, so "ab" < "abc" and a prefix never sorts after its extensions.
func appendKey(dst []byte, v Value, k kind) []byte {
	if v == nil {
		return append(dst, 0x00)
	}
	dst = append(dst, 0x01)
	switch k {
	case kindInt:
		n, _ := coerce(v, kindInt)
		return binary.BigEndian.AppendUint64(dst, uint64(n.(int64))^(1<<63))
	case kindFloat:
		bits := math.Float64bits(toFloat(v))
		if bits&(1<<63) != 0 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(dst, bits)
	}
	s := formatValue(v)
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0x00, 0xFF)
		} else {
			dst = append(dst, s[i])
		}
	}
	return append(dst, 0x00, 0x01)
}

// afterPrefix is the first key greater than every key that starts with the encoded values in
// prefix: the byte after an encoded value is a marker (0x00 or 0x01), never 0x02.
func afterPrefix(prefix []byte) []byte { return append(append([]byte{}, prefix...), 0x02) }

// successor is the smallest byte string greater than every string with prefix p (nil: none).
func successor(p []byte) []byte {
	out := append([]byte{}, p...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] < 0xFF {
			out[i]++
			return out[:i+1]
		}
	}
	return nil
}

// Row codec: a row is its values in column order, each a tag byte then the payload
// (varint for integers, 8 bytes for floats, uvarint length + bytes for strings).
func encodeRow(row []Value) []byte {
	buf := make([]byte, 0, 16*len(row))
	for _, v := range row {
		switch x := v.(type) {
		case nil:
			buf = append(buf, 0)
		case int64:
			buf = append(buf, 1)
			buf = binary.AppendVarint(buf, x)
		case float64:
			buf = append(buf, 2)
			buf = binary.BigEndian.AppendUint64(buf, math.Float64bits(x))
		case string:
			buf = append(buf, 3)
			buf = binary.AppendUvarint(buf, uint64(len(x)))
			buf = append(buf, x...)
		}
	}
	return buf
}

var errCorruptRow = errors.New("corrupt row")

func decodeRow(b []byte, n int) ([]Value, error) {
	row := make([]Value, 0, n)
	for len(b) > 0 {
		tag := b[0]
		b = b[1:]
		switch tag {
		case 0:
			row = append(row, nil)
		case 1:
			v, k := binary.Varint(b)
			if k <= 0 {
				return nil, errCorruptRow
			}
			row = append(row, v)
			b = b[k:]
		case 2:
			if len(b) < 8 {
				return nil, errCorruptRow
			}
			row = append(row, math.Float64frombits(binary.BigEndian.Uint64(b)))
			b = b[8:]
		case 3:
			l, k := binary.Uvarint(b)
			if k <= 0 || uint64(len(b)-k) < l {
				return nil, errCorruptRow
			}
			row = append(row, string(b[k:k+int(l)]))
			b = b[k+int(l):]
		default:
			return nil, errCorruptRow
		}
	}
	for len(row) < n { // columns added after the row was written read as NULL
		row = append(row, nil)
	}
	return row, nil
}

func float64FromBits(u uint64) float64 { return math.Float64frombits(u) }
