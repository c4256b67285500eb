package password

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHashVerify(t *testing.T) {
	h := New(TestParams())
	hash, err := h.Hash("correct horse")
	require.NoError(t, err)
	require.NoError(t, h.Verify(hash, "correct horse"))
	require.ErrorIs(t, h.Verify(hash, "wrong"), ErrMismatch)
	require.False(t, h.NeedsRehash(hash))
	require.True(t, New(DefaultParams()).NeedsRehash(hash))

	bc, err := Bcrypt("legacy", 4)
	require.NoError(t, err)
	require.NoError(t, h.Verify(bc, "legacy"))
	require.ErrorIs(t, h.Verify(bc, "nope"), ErrMismatch)
}

func TestVerifyMalformed(t *testing.T) {
	h := New(TestParams())
	for _, bad := range []string{"", "plain", "$argon2id$", "$argon2id$v=19$m=1,t=1$x$y", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$argon2id$v=18$m=1024,t=1,p=1$AAAA$AAAA", "$2a$bad"} {
		require.Error(t, h.Verify(bad, "x"), bad)
	}
}

func FuzzVerify(f *testing.F) {
	h := New(TestParams())
	good, _ := h.Hash("pw")
	for _, s := range []string{good, "", "$argon2id$v=19$m=1024,t=1,p=1$$", "$2b$04$abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, hash string) {
		_ = h.Verify(hash, "pw") // must not panic or hang
	})
}

func BenchmarkHash(b *testing.B) {
	for _, bc := range []struct {
		name string
		fn   func() error
	}{
		{"argon2id-owasp", func() error { _, err := New(DefaultParams()).Hash("pw"); return err }},
		{"bcrypt-10", func() error { _, err := Bcrypt("pw", 10); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
