// Package strictjson decodes one JSON object into a struct the way a security boundary needs,
// not the way encoding/json does by default. encoding/json matches keys case-insensitively,
// keeps the last of duplicate keys and turns invalid UTF-8 into U+FFFD, so
// {"email":"a@x","EMAIL":"b@x"} is a's to a proxy or a log and b's to the service. Here a key
// must be spelled exactly as a field's json tag and appear once, and every string must be valid
// UTF-8 (no invalid bytes, no unpaired surrogate escapes).
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Errors Decode returns, wrapped with the key or field concerned.
var (
	ErrNotObject   = errors.New("expected one JSON object")
	ErrDuplicate   = errors.New("duplicate key")
	ErrUnknownKey  = errors.New("unknown field")
	ErrInvalidText = errors.New("not valid UTF-8")
	ErrTrailing    = errors.New("data after the JSON object")
)

// FieldError names the field whose value is not valid text.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %v", e.Field, e.Err) }

// Unwrap returns the reason.
func (e *FieldError) Unwrap() error { return e.Err }

// Decode decodes data, which must be exactly one JSON object, into v, a pointer to a struct.
// Syntax and type errors are encoding/json's own (*json.SyntaxError, *json.UnmarshalTypeError);
// a body that ends inside the object is io.ErrUnexpectedEOF, an empty one io.EOF.
func Decode(data []byte, v any) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("strictjson: Decode needs a pointer to a struct, got %T", v)
	}
	known := fieldNames(t.Elem())
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return ErrNotObject
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return truncated(err)
		}
		key, ok := tok.(string)
		if !ok {
			return ErrNotObject
		}
		folded := strings.ToLower(key)
		if seen[folded] {
			return fmt.Errorf("%w %q", ErrDuplicate, key)
		}
		seen[folded] = true
		if !known[key] {
			return fmt.Errorf("%w %q", ErrUnknownKey, key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return truncated(err)
		}
		if !validText(raw) {
			return &FieldError{Field: key, Err: ErrInvalidText}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return truncated(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrTrailing
	}
	// The keys are now known to be exact and unique, so encoding/json's folding cannot matter.
	full := json.NewDecoder(bytes.NewReader(data))
	full.DisallowUnknownFields()
	return full.Decode(v)
}

// truncated turns an end of input inside the object into io.ErrUnexpectedEOF.
func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// validText reports whether a raw JSON value holds only valid UTF-8: its bytes, and what its
// \u escapes decode to (an unpaired surrogate decodes to U+FFFD).
func validText(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	if !bytes.Contains(raw, []byte(`\u`)) && !bytes.Contains(raw, []byte(`\U`)) {
		return true
	}
	return !hasLoneSurrogate(raw)
}

// hasLoneSurrogate finds a \uD800-\uDFFF escape that is not a high surrogate followed by a low one.
func hasLoneSurrogate(raw []byte) bool {
	for i := 0; i+5 < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // skip the escaped character, so `\\u` is a backslash then "u"
			continue
		}
		r, ok := hex4(raw[i+2 : i+6])
		if !ok {
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+12 > len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
				return true
			}
			lo, ok := hex4(raw[i+8 : i+12])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}

// fieldNames are the keys a struct accepts: each exported field's json name.
func fieldNames(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out[name] = true
	}
	return out
}
