package auth

import (
	"errors"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
)

// Password policy per NIST SP 800-63B 5.1.1.2: at least 12 characters, at most 128,
// not one of the 10,000 most common passwords, not the device's label password and not
// built from the account or device names. No composition rules.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
	commonListSize = 10_000
)

// Policy violations; the API maps each to its own stable error code.
var (
	ErrPasswordTooShort = errors.New("password must have at least 12 characters")
	ErrPasswordTooLong  = errors.New("password must have at most 128 characters")
	ErrPasswordCommon   = errors.New("password is one of the most common passwords")
	ErrPasswordReused   = errors.New("password is the device's default password or the current one")
	ErrPasswordContext  = errors.New("password contains the user name or the device's name")
)

var (
	commonOnce sync.Once
	common     map[string]struct{}
)

// commonPasswords is the ranked list of frequently used passwords shipped with zxcvbn,
// cut at commonListSize entries, compared case-insensitively.
func commonPasswords() map[string]struct{} {
	commonOnce.Do(func() {
		list := frequency.FrequencyLists["passwords"]
		if len(list) > commonListSize {
			list = list[:commonListSize]
		}
		common = make(map[string]struct{}, len(list))
		for _, p := range list {
			common[strings.ToLower(p)] = struct{}{}
		}
	})
	return common
}

// IsCommonPassword reports whether p is among the 10,000 most common passwords.
func IsCommonPassword(p string) bool {
	_, ok := commonPasswords()[strings.ToLower(normalize(p))]
	return ok
}

// PolicyContext is what a new password is checked against besides the lists.
type PolicyContext struct {
	// Username and DeviceWords (model, name, serial) must not appear in the password.
	Username    string
	DeviceWords []string
}

// CheckPassword validates a new password. Reuse of the label or current password is
// checked by the caller against the stored hashes.
//
// TS-0045 5.1.2.1: users choose their own authentication factor, and it must be a good one.
func CheckPassword(p string, pc PolicyContext) error {
	p = normalize(p)
	n := utf8.RuneCountInString(p)
	switch {
	case !utf8.ValidString(p):
		return ErrPasswordTooShort
	case n < MinPasswordLen:
		return ErrPasswordTooShort
	case n > MaxPasswordLen:
		return ErrPasswordTooLong
	case IsCommonPassword(p):
		return ErrPasswordCommon
	}
	lower := strings.ToLower(p)
	for _, w := range append([]string{pc.Username}, pc.DeviceWords...) {
		if w = strings.ToLower(strings.TrimSpace(w)); len(w) >= 4 && strings.Contains(lower, w) {
			return ErrPasswordContext
		}
	}
	return nil
}
