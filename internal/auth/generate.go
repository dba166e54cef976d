package auth

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
)

// LabelSymbols are the symbols of generated passwords: digits and upper-case letters
// without the look-alikes 0/O, 1/I (32 symbols, 5 bits each), so a password read off a
// printed label is typed right the first time.
const LabelSymbols = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// Generated passwords have 16 symbols from LabelSymbols (80 bits of entropy), printed
// in four groups of four: "K7QF-9XMT-3HRW-BZ2P".
const (
	generatedSymbols = 16
	groupLen         = 4
	// GeneratedBits is the entropy of a generated password.
	GeneratedBits = generatedSymbols * 5
)

// GeneratePassword returns a fresh random password for a device label or a reset.
//
// TS-0045 5.1.1.1, 5.1.1.2: every device gets its own default password, drawn from the
// cryptographic DRBG (crypto/rand, FIPS 140-3 approved in FIPS mode). Nothing about the
// device (serial, MAC, model, a counter) enters it.
func GeneratePassword(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	buf := make([]byte, generatedSymbols)
	if _, err := io.ReadFull(rnd, buf); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	var b strings.Builder
	for i, c := range buf {
		if i > 0 && i%groupLen == 0 {
			b.WriteByte('-')
		}
		// 256 is a multiple of 32, so the low five bits are uniform: no modulo bias.
		b.WriteByte(LabelSymbols[c&31])
	}
	return b.String(), nil
}
