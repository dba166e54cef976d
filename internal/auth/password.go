package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Password hashing: PBKDF2-HMAC-SHA256 (NIST SP 800-132), a 128-bit random salt and a
// 256-bit derived key, encoded in the PHC string format:
//
//	$pbkdf2-sha256$i=600000$<salt, base64>$<key, base64>
//
// The cost follows current guidance for PBKDF2-HMAC-SHA256 (600,000 iterations); it is
// about 100-130 ms on a small gateway, which is why logins are throttled before hashing.
//
// TS-0045 5.4.1.1: passwords are never stored, only their salted PBKDF2 hash.
const (
	DefaultIterations = 600_000
	// MinIterations is the lowest cost a stored hash may have; weaker hashes are refused.
	MinIterations = 100_000
	saltLen       = 16
	keyLen        = 32
	hashPrefix    = "$pbkdf2-sha256$i="
	maxHashLen    = 256
)

// ErrBadHash reports a stored hash that does not parse or is weaker than policy.
var ErrBadHash = errors.New("auth: malformed or too weak password hash")

var b64 = base64.RawStdEncoding

// Hasher derives and checks password hashes. The zero value uses DefaultIterations and
// crypto/rand.
type Hasher struct {
	// Iterations is the PBKDF2 cost of new hashes; 0 means DefaultIterations. Values below
	// MinIterations are raised to it.
	Iterations int
	// Rand supplies salts; nil means crypto/rand.
	Rand io.Reader
}

func (h Hasher) iterations() int {
	switch {
	case h.Iterations == 0:
		return DefaultIterations
	case h.Iterations < MinIterations:
		return MinIterations
	}
	return h.Iterations
}

// Hash returns the PHC-encoded hash of password.
func (h Hasher) Hash(password string) (string, error) {
	r := h.Rand
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	iter := h.iterations()
	dk, err := pbkdf2.Key(sha256.New, normalize(password), salt, iter, keyLen)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return hashPrefix + strconv.Itoa(iter) + "$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(dk), nil
}

// Verify reports whether password matches the encoded hash, in constant time with
// respect to the password.
func (h Hasher) Verify(encoded, password string) (bool, error) {
	p, err := ParseHash(encoded)
	if err != nil {
		return false, err
	}
	dk, err := pbkdf2.Key(sha256.New, normalize(password), p.Salt, p.Iterations, len(p.Key))
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return subtle.ConstantTimeCompare(dk, p.Key) == 1, nil
}

// ParsedHash is a decoded password hash.
type ParsedHash struct {
	Iterations int
	Salt, Key  []byte
}

// ParseHash decodes a PHC pbkdf2-sha256 string, refusing hashes weaker than policy.
func ParseHash(encoded string) (ParsedHash, error) {
	if len(encoded) > maxHashLen || !strings.HasPrefix(encoded, hashPrefix) {
		return ParsedHash{}, ErrBadHash
	}
	parts := strings.Split(encoded[len(hashPrefix):], "$")
	if len(parts) != 3 {
		return ParsedHash{}, ErrBadHash
	}
	iter, err := strconv.Atoi(parts[0])
	if err != nil || iter < MinIterations || iter > 100_000_000 || parts[0] != strconv.Itoa(iter) {
		return ParsedHash{}, ErrBadHash
	}
	salt, err := b64.DecodeString(parts[1])
	if err != nil || len(salt) < saltLen {
		return ParsedHash{}, ErrBadHash
	}
	key, err := b64.DecodeString(parts[2])
	if err != nil || len(key) != keyLen {
		return ParsedHash{}, ErrBadHash
	}
	return ParsedHash{Iterations: iter, Salt: salt, Key: key}, nil
}

// normalize applies Unicode NFKC so the same password typed on different keyboards
// hashes the same (NIST SP 800-63B 5.1.1.2).
func normalize(password string) string { return norm.NFKC.String(password) }
