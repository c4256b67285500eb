// Package signup validates sign-up forms with regular expressions. Built with PerCall, it has
// a classic CPU defect on a hot path: it compiles every pattern again on every request, so
// nearly all the CPU goes to regexp.Compile instead of matching.
package signup

import (
	"errors"
	"fmt"
	"regexp"
)

// Form is one sign-up request.
type Form struct {
	Email, Username, Phone, Postcode, Password string
}

// ErrInvalid wraps every validation failure.
var ErrInvalid = errors.New("signup: invalid form")

type rule struct {
	field   string
	pattern string
	get     func(Form) string
}

var rules = []rule{
	{"email", `^[a-zA-Z0-9._%+\-]{1,64}@(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,24}$`,
		func(f Form) string { return f.Email }},
	{"username", `^[a-z][a-z0-9_]{2,31}$`, func(f Form) string { return f.Username }},
	{"phone", `^\+?[1-9][0-9]{0,2}[ \-]?(?:\(?[0-9]{1,4}\)?[ \-]?){1,4}[0-9]{2,6}$`,
		func(f Form) string { return f.Phone }},
	{"postcode", `^(?:[0-9]{5}(?:-[0-9]{4})?|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}|[0-9]{4} ?[A-Z]{2})$`,
		func(f Form) string { return f.Postcode }},
	{"password", `^[\x21-\x7e]{12,128}$`, func(f Form) string { return f.Password }},
}

// Validator checks forms.
type Validator struct {
	compiled []*regexp.Regexp
	perCall  bool
}

// New compiles the rules once. perCall selects the defective Validate.
func New(perCall bool) *Validator {
	v := &Validator{perCall: perCall}
	for _, r := range rules {
		v.compiled = append(v.compiled, regexp.MustCompile(r.pattern))
	}
	return v
}

// Validate returns nil for a valid form, or an error naming the first bad field.
func (v *Validator) Validate(f Form) error {
	for i, r := range rules {
		// exercise:begin cpu-spike
		re := v.compiled[i] // the fix: compiled once in New, shared (a *Regexp is safe for concurrent use)
		// exercise:stub
		// re := regexp.MustCompile(rules[i].pattern)
		// exercise:end
		if v.perCall {
			re = regexp.MustCompile(r.pattern) // the defect: parse, simplify and compile on every request
		}
		if !re.MatchString(r.get(f)) {
			return fmt.Errorf("%w: field %s", ErrInvalid, r.field)
		}
	}
	return nil
}
