package signup

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func valid() Form {
	return Form{Email: "ada.lovelace@example.co.uk", Username: "ada_1815", Phone: "+44 20 7946 0958",
		Postcode: "SW1A 1AA", Password: "correct-horse-battery"}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Form)
		field  string
	}{
		{"valid", func(*Form) {}, ""},
		{"bad email", func(f *Form) { f.Email = "ada@" }, "email"},
		{"bad username", func(f *Form) { f.Username = "9ada" }, "username"},
		{"bad phone", func(f *Form) { f.Phone = "call me" }, "phone"},
		{"bad postcode", func(f *Form) { f.Postcode = "12" }, "postcode"},
		{"short password", func(f *Form) { f.Password = "short" }, "password"},
		{"US zip", func(f *Form) { f.Postcode = "12345-6789" }, ""},
	}
	for _, tt := range tests {
		for _, perCall := range []bool{false, true} {
			t.Run(tt.name, func(t *testing.T) {
				f := valid()
				tt.modify(&f)
				err := New(perCall).Validate(f)
				if tt.field == "" {
					assert.NoError(t, err)
					return
				}
				assert.ErrorIs(t, err, ErrInvalid)
				assert.ErrorContains(t, err, tt.field)
			})
		}
	}
}

// BenchmarkValidate: the per-call compile is what cpu-spike turns on.
func BenchmarkValidate(b *testing.B) {
	for _, c := range []struct {
		name    string
		perCall bool
	}{{"compiled-once", false}, {"compile-per-call", true}} {
		b.Run(c.name, func(b *testing.B) {
			v := New(c.perCall)
			f := valid()
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Validate(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
