package password

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The policy follows NIST SP 800-63B §5.1.1.2: no composition rules (they push people to
// "Password1!"), a length floor, and a refusal of passwords an attacker tries first: repetitive,
// sequential, commonly used, or made of the account's own details.

// MinLength and MaxLength bound a password, in characters.
const (
	MinLength = 12
	MaxLength = 128
)

// ErrWeak wraps every reason CheckPolicy refuses a password.
var ErrWeak = errors.New("password refused")

// commonText is a short curated list of passwords and base words that top the public breach
// corpora, one a line, lower case. It is not exhaustive; the rules below catch the shapes.
//
//go:embed common.txt
var commonText string

// keyboard and alphabet runs: a password that is a stretch of one of these (forwards or
// backwards, wrapping around) is sequential.
var sequences = []string{
	"abcdefghijklmnopqrstuvwxyz",
	"0123456789",
	"qwertyuiopasdfghjklzxcvbnm",
	"1234567890qwertyuiopasdfghjklzxcvbnm",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
	"qazwsxedcrfvtgbyhnujmikolp",
	"azertyuiopqsdfghjklmwxcvbn",
	"qwertzuiopasdfghjklyxcvbnm",
}

// CheckPolicy reports why pw is too weak for an account with this email and name, or nil.
func CheckPolicy(pw, email, name string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinLength || n > MaxLength {
		return fmt.Errorf("%w: must be %d to %d characters", ErrWeak, MinLength, MaxLength)
	}
	if strings.TrimFunc(pw, unicode.IsSpace) == "" {
		return fmt.Errorf("%w: must not be only spaces", ErrWeak)
	}
	low := strings.ToLower(pw)
	if repetitive(low) {
		return fmt.Errorf("%w: is a repeated pattern", ErrWeak)
	}
	if sequential(low) {
		return fmt.Errorf("%w: is a keyboard or alphabet sequence", ErrWeak)
	}
	if common(low) {
		return fmt.Errorf("%w: is a commonly used password", ErrWeak)
	}
	for _, word := range contextWords(email, name) {
		if strings.Contains(low, word) {
			return fmt.Errorf("%w: must not contain your email or name", ErrWeak)
		}
	}
	return nil
}

// repetitive: at most three distinct characters, or a shorter unit repeated ("abcabcabcabc",
// "passwordpassword", "ab-ab-ab-ab-a").
func repetitive(s string) bool {
	r := []rune(s)
	distinct := map[rune]bool{}
	for _, c := range r {
		distinct[c] = true
	}
	if len(distinct) <= 3 {
		return true
	}
	for p := 1; p <= len(r)/2; p++ {
		periodic := true
		for i := p; i < len(r); i++ {
			if r[i] != r[i-p] {
				periodic = false
				break
			}
		}
		if periodic {
			return true
		}
	}
	return false
}

func sequential(s string) bool {
	rev := reverse(s)
	for _, seq := range sequences {
		cyc := seq + seq + seq // long enough for a 128-character run over a short alphabet
		for len(cyc) < 2*MaxLength {
			cyc += seq
		}
		if strings.Contains(cyc, s) || strings.Contains(cyc, rev) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// common: the password, or what is left of it without digits and symbols at either end
// ("password1234", "!!monkey2024"), is on the list.
func common(s string) bool {
	if commonSet[s] {
		return true
	}
	core := strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	return core != "" && commonSet[core]
}

var commonSet = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonText, "\n") {
		if w := strings.TrimSpace(line); w != "" && !strings.HasPrefix(w, "#") {
			m[w] = true
		}
	}
	return m
}()

// contextWords are the account's own details worth refusing: the email, its local part and
// the name, lower-cased, when they are long enough to matter.
func contextWords(email, name string) []string {
	var out []string
	email = strings.ToLower(strings.TrimSpace(email))
	local, _, _ := strings.Cut(email, "@")
	for _, w := range []string{email, local, strings.ToLower(strings.TrimSpace(name))} {
		if utf8.RuneCountInString(w) >= 4 {
			out = append(out, w)
		}
	}
	return out
}
