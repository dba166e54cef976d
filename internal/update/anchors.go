package update

import (
	"encoding/binary"
	"errors"
	"fmt"

	"hearth/internal/keystore"
)

// Keystore records of the update trust state. The TUF root verifies every update; the
// security version refuses rollbacks. Both are sensitive security parameters (TS-0045
// 3.8: the public key that verifies updates is one), so they live sealed in the
// keystore, where an alteration is detected rather than obeyed.
const (
	RootRecord            = "tuf-root"
	SecurityVersionRecord = "update-security-version"
)

// Vault is what the update trust state needs of the keystore.
type Vault interface {
	Get(name string) ([]byte, error)
	Put(name string, secret []byte) error
}

var _ Vault = (*keystore.Store)(nil)

// TrustedRoot returns the TUF root metadata the device trusts now.
func TrustedRoot(v Vault) ([]byte, error) {
	b, err := v.Get(RootRecord)
	if err != nil {
		return nil, fmt.Errorf("update: trusted root: %w", err)
	}
	return b, nil
}

// SecurityVersion returns the lowest security version the device accepts (0 before the
// first update).
func SecurityVersion(v Vault) (int, error) {
	b, err := v.Get(SecurityVersionRecord)
	if errors.Is(err, keystore.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("update: security version: %w", err)
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("update: security version record has %d bytes", len(b))
	}
	return int(binary.BigEndian.Uint64(b)), nil
}

// RaiseSecurityVersion records n as the lowest accepted security version; it never
// lowers it.
//
// TS-0045 5.3.1.2: an older version cannot be installed, even when validly signed.
func RaiseSecurityVersion(v Vault, n int) error {
	cur, err := SecurityVersion(v)
	if err != nil {
		return err
	}
	if n <= cur {
		return nil
	}
	return v.Put(SecurityVersionRecord, binary.BigEndian.AppendUint64(nil, uint64(n)))
}
