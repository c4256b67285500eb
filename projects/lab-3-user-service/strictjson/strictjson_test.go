package strictjson

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type login struct {
	Email    string  `json:"email"`
	Password string  `json:"password"`
	Name     *string `json:"name,omitempty"`
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name, body string
		want       error // nil: decodes
		field      string
	}{
		{"plain", `{"email":"a@x","password":"p"}`, nil, ""},
		{"escaped value", `{"email":"\u0061@x","password":"\ud83d\ude00"}`, nil, ""},
		{"literal U+FFFD is text", `{"email":"a@x","password":"\ufffd�"}`, nil, ""},
		{"escaped backslash then u", `{"email":"\\udc00","password":"p"}`, nil, ""},
		{"case-variant duplicate", `{"email":"a@x","password":"p","EMAIL":"b@x"}`, ErrDuplicate, ""},
		{"exact duplicate", `{"email":"a@x","email":"b@x"}`, ErrDuplicate, ""},
		{"escaped duplicate", `{"email":"a@x","\u0065mail":"b@x"}`, ErrDuplicate, ""},
		{"case variant alone", `{"Email":"b@x"}`, ErrUnknownKey, ""},
		{"unknown", `{"role":"admin"}`, ErrUnknownKey, ""},
		{"array", `["a"]`, ErrNotObject, ""},
		{"null", `null`, ErrNotObject, ""},
		{"trailing", `{"email":"a"} {}`, ErrTrailing, ""},
		{"invalid bytes", "{\"email\":\"\xff\xfe\"}", ErrInvalidText, "email"},
		{"truncated utf8", "{\"password\":\"a\xc3\"}", ErrInvalidText, "password"},
		{"lone low surrogate", `{"email":"\udc00"}`, ErrInvalidText, "email"},
		{"lone high surrogate", `{"email":"\ud83dx"}`, ErrInvalidText, "email"},
		{"high then non-low", `{"email":"\ud83d\u0041"}`, ErrInvalidText, "email"},
		{"high at the end", `{"email":"\ud83d"}`, ErrInvalidText, "email"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v login
			err := Decode([]byte(c.body), &v)
			if c.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, c.want)
			if c.field != "" {
				var fe *FieldError
				require.ErrorAs(t, err, &fe)
				require.Equal(t, c.field, fe.Field)
			}
		})
	}
}

func TestDecodeSyntaxAndType(t *testing.T) {
	var v login
	var syn *json.SyntaxError
	require.ErrorAs(t, Decode([]byte(`{"email" 1}`), &v), &syn, "a syntax error is encoding/json's")
	require.ErrorIs(t, Decode([]byte(`{"email":`), &v), io.ErrUnexpectedEOF)
	require.ErrorIs(t, Decode(nil, &v), io.EOF)
	var typ *json.UnmarshalTypeError
	require.ErrorAs(t, Decode([]byte(`{"email":1}`), &v), &typ)
	require.Error(t, Decode([]byte(`{}`), v), "not a pointer")
}

// FuzzDecode: any bytes give an error or a value, never a panic; an accepted body has unique,
// exactly spelled keys, and decodes to what encoding/json makes of it.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@x","password":"p"}`, `{"email":"a","EMAIL":"b"}`, `{"email":"\udc00"}`, "{\"email\":\"\xff\"}",
		`{"name":null}`, `{"email":"\ud83d\ude00"}`, `[]`, `{`, strings.Repeat(`{"a":`, 50), `{"email":"a"} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got login
		err := Decode(body, &got)
		if err != nil {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			t.Fatalf("accepted %q, which is not one object", body)
		}
		for k := range m {
			if k != "email" && k != "password" && k != "name" {
				t.Fatalf("accepted key %q in %q", k, body)
			}
		}
		var want login
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("accepted %q that encoding/json refuses: %v", body, err)
		}
		require.Equal(t, want, got)
		if errors.Is(err, ErrDuplicate) {
			t.Fatal("unreachable")
		}
	})
}
