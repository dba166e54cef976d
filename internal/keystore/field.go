package keystore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// FieldSealer seals small values kept outside the keystore (a database column) under a
// key that lives in the keystore. Each value is bound to an associated-data string (the
// row it belongs to), so a value moved to another row does not open.
type FieldSealer struct{ s *sealer }

// Field returns the sealer whose key is the record name, creating the key on first use.
func (s *Store) Field(name string) (*FieldSealer, error) {
	key, err := s.Get(name)
	if errors.Is(err, ErrNotFound) {
		key = make([]byte, keySize)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, fmt.Errorf("keystore field key: %w", err)
		}
		err = s.Put(name, key)
	}
	if err != nil {
		return nil, err
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("keystore field key %s: %w", name, ErrTampered)
	}
	sl, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	return &FieldSealer{s: sl}, nil
}

// Seal encrypts plain bound to ad.
func (f *FieldSealer) Seal(ad string, plain []byte) ([]byte, error) { return f.s.seal(ad, plain) }

// Open decrypts a value sealed with the same ad.
func (f *FieldSealer) Open(ad string, sealed []byte) ([]byte, error) { return f.s.open(ad, sealed) }
