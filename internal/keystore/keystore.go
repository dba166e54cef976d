// Package keystore keeps the device's sensitive security parameters sealed at rest.
//
// Layout of a keystore directory:
//
//	datakey.sealed   the data key, wrapped by a Wrapper (a TPM 2.0 key where the device has
//	                 a TPM, otherwise a device-unique host key)
//	host.key         the host key, 32 random bytes, mode 0600 (host-key wrapping only)
//	<name>.sealed    one record per secret, sealed under the data key
//
// Every seal is AES-256-GCM with a fresh random nonce from the FIPS 140-3 DRBG. A record
// carries a version byte and the id of the key that sealed it, and binds its own name as
// associated data, so a record renamed, swapped for another record, copied from another
// device or altered by a single bit is refused with an error, never used.
//
// Private keys are generated inside the keystore and never leave it: callers receive a
// crypto.Signer. Destroying the data key (Erase) makes every record unreadable at once
// (crypto-erase).
//
// Threat model: an attacker who reads or alters the device's persistent storage through
// an unprivileged path (backup, export, path traversal, a copied flash image). With a
// TPM the data key can only be unwrapped by this device's TPM, so a copied image is
// useless; with a host key the protection is the file's permissions (readable only by
// hearthd's user).
//
// A *Store is safe for concurrent use.
//
// TS-0045 5.4.1.1: sensitive security parameters in persistent storage are encrypted or
// kept in a secure area (the TPM).
package keystore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"hearth/internal/atomicfile"
)

// Errors callers branch on.
var (
	ErrNotFound   = errors.New("keystore: no such record")
	ErrTampered   = errors.New("keystore: record failed authentication (altered, swapped or from another device)")
	ErrWrongKey   = errors.New("keystore: record was sealed under another key")
	ErrBadName    = errors.New("keystore: invalid record name")
	ErrExists     = errors.New("keystore: already initialised")
	ErrNotCreated = errors.New("keystore: not initialised")
	ErrErased     = errors.New("keystore: data key destroyed")
	// ErrExposed means the host key file can be read by other users of the system.
	ErrExposed = errors.New("keystore: host key is readable by other users (want mode 0600)")
)

const (
	dataKeyFile = "datakey.sealed"
	suffix      = ".sealed"
	keySize     = 32
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Store is an opened keystore.
type Store struct {
	dir     string
	mu      sync.Mutex
	data    *sealer // nil after Erase
	wrapper Wrapper
}

// Wrapper protects the data key: a TPM 2.0 sealing key (keystore/tpm) or a host key file
// (HostKey). Implementations must bind the wrapped blob to this device.
type Wrapper interface {
	// Kind names the wrapping in the data key file: "hostkey", "tpm".
	Kind() string
	Wrap(dataKey []byte) ([]byte, error)
	Unwrap(blob []byte) ([]byte, error)
	// Destroy erases what the wrapper itself keeps (the host key file), as part of a
	// crypto-erase. It must succeed when there is nothing left to erase.
	Destroy() error
}

// Create initialises a new keystore in dir (created with mode 0700) with a fresh data key
// drawn from rnd (nil means crypto/rand), wrapped by w. It fails if dir holds one already.
func Create(dir string, w Wrapper, rnd io.Reader) (*Store, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create keystore: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, dataKeyFile)); err == nil {
		return nil, ErrExists
	}
	data := make([]byte, keySize)
	if _, err := io.ReadFull(rnd, data); err != nil {
		return nil, fmt.Errorf("create keystore: data key: %w", err)
	}
	blob, err := w.Wrap(data)
	if err != nil {
		return nil, fmt.Errorf("create keystore: wrap data key: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, dataKeyFile), encodeDataKey(w.Kind(), blob), 0o600); err != nil {
		return nil, fmt.Errorf("create keystore: %w", err)
	}
	ds, err := newSealer(data)
	if err != nil {
		return nil, err
	}
	return &Store{dir: dir, data: ds, wrapper: w}, nil
}

// Open unlocks the keystore in dir with w.
func Open(dir string, w Wrapper) (*Store, error) {
	raw, err := os.ReadFile(filepath.Join(dir, dataKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return nil, ErrNotCreated
		}
		return nil, ErrErased
	}
	if err != nil {
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	kind, blob, err := decodeDataKey(raw)
	if err != nil {
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	if kind != w.Kind() {
		return nil, fmt.Errorf("open keystore: the data key is wrapped by %q, not %q", kind, w.Kind())
	}
	data, err := w.Unwrap(blob)
	if err != nil {
		return nil, fmt.Errorf("open keystore: unwrap data key: %w", err)
	}
	if len(data) != keySize {
		return nil, fmt.Errorf("open keystore: %w: data key has %d bytes", ErrTampered, len(data))
	}
	ds, err := newSealer(data)
	if err != nil {
		return nil, err
	}
	return &Store{dir: dir, data: ds, wrapper: w}, nil
}

// Put seals secret under name, replacing any earlier record atomically.
func (s *Store) Put(name string, secret []byte) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		return ErrErased
	}
	rec, err := s.data.seal(name, secret)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.dir, name+suffix), rec, 0o600)
}

// Get opens the record called name.
func (s *Store) Get(name string) ([]byte, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		return nil, ErrErased
	}
	rec, err := os.ReadFile(filepath.Join(s.dir, name+suffix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("keystore get %s: %w", name, err)
	}
	plain, err := s.data.open(name, rec)
	if err != nil {
		return nil, fmt.Errorf("keystore get %s: %w", name, err)
	}
	return plain, nil
}

// Delete destroys one record: its bytes are overwritten with zeros and the file is
// removed. A record that does not exist is not an error. Deleting a field key
// (Field) crypto-erases every value sealed under it, wherever copies of them remain.
func (s *Store) Delete(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := overwriteAndRemove(filepath.Join(s.dir, name+suffix)); err != nil {
		return fmt.Errorf("keystore delete %s: %w", name, err)
	}
	return atomicfile.SyncDir(s.dir)
}

// Erase destroys the data key (crypto-erase): every record becomes unreadable at once,
// on this Store and on any later Open. What the wrapper keeps (the host key) goes too.
func (s *Store) Erase() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data = nil
	if err := overwriteAndRemove(filepath.Join(s.dir, dataKeyFile)); err != nil {
		return fmt.Errorf("erase keystore: %w", err)
	}
	if err := s.wrapper.Destroy(); err != nil {
		return fmt.Errorf("erase keystore: %w", err)
	}
	return atomicfile.SyncDir(s.dir)
}

// Kind reports how the data key is wrapped ("tpm" or "hostkey").
func (s *Store) Kind() string { return s.wrapper.Kind() }

// overwriteAndRemove replaces a key file's bytes with zeros before unlinking it, so the
// key does not linger in the file's old blocks on simple storage.
func overwriteAndRemove(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, werr := f.Write(make([]byte, st.Size()))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return err
	}
	return os.Remove(path)
}

// keyID names a key without revealing it: the first 8 bytes of a domain-separated hash.
func keyID(key []byte) [8]byte {
	h := sha256.Sum256(append([]byte("hearth-keystore-key-id\x00"), key...))
	var id [8]byte
	copy(id[:], h[:8])
	return id
}

// newAEAD returns AES-256-GCM with nonces drawn inside the FIPS module (approved mode).
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return aead, nil
}
