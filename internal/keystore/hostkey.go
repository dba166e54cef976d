package keystore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"hearth/internal/atomicfile"
)

// HostKeyFile is the host key's file name inside a keystore directory.
const HostKeyFile = "host.key"

// HostKey wraps the data key under a 256-bit key kept in a file readable only by
// hearthd's user: the fallback where the device has no TPM.
type HostKey struct {
	// Path is the key file, normally <keystore>/host.key.
	Path string
	// Rand supplies a new key; nil means crypto/rand.
	Rand io.Reader
}

// NewHostKey returns the host-key wrapper of the keystore in dir.
func NewHostKey(dir string) *HostKey { return &HostKey{Path: filepath.Join(dir, HostKeyFile)} }

// Kind implements Wrapper.
func (h *HostKey) Kind() string { return "hostkey" }

// Wrap implements Wrapper, creating the host key on first use.
func (h *HostKey) Wrap(dataKey []byte) ([]byte, error) {
	key, err := h.key(true)
	if err != nil {
		return nil, err
	}
	s, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	return s.seal(dataKeyFile, dataKey)
}

// Unwrap implements Wrapper.
func (h *HostKey) Unwrap(blob []byte) ([]byte, error) {
	key, err := h.key(false)
	if err != nil {
		return nil, err
	}
	s, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	return s.open(dataKeyFile, blob)
}

// Destroy implements Wrapper: the key file is overwritten and removed.
func (h *HostKey) Destroy() error { return overwriteAndRemove(h.Path) }

// key reads the host key, creating it when create is set and it does not exist.
func (h *HostKey) key(create bool) ([]byte, error) {
	st, err := os.Stat(h.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		return h.generate()
	case errors.Is(err, fs.ErrNotExist):
		return nil, ErrErased
	case err != nil:
		return nil, fmt.Errorf("host key: %w", err)
	case st.Mode().Perm()&0o077 != 0:
		return nil, ErrExposed
	}
	key, err := os.ReadFile(h.Path)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("host key has %d bytes, want %d", len(key), keySize)
	}
	return key, nil
}

func (h *HostKey) generate() ([]byte, error) {
	r := h.Rand
	if r == nil {
		r = rand.Reader
	}
	key := make([]byte, keySize)
	if _, err := io.ReadFull(r, key); err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if err := atomicfile.Write(h.Path, key, 0o600); err != nil {
		return nil, err
	}
	return key, nil
}
