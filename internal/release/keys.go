package release

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"hearth/internal/atomicfile"
)

// Signature algorithms for role keys. Both are approved by FIPS 186-5 and run in Go's
// FIPS 140-3 module.
const (
	AlgorithmECDSA   = "ecdsa"   // ECDSA P-256 with SHA-256, TUF scheme ecdsa-sha2-nistp256
	AlgorithmEd25519 = "ed25519" // Ed25519, TUF scheme ed25519
)

// roleKey is a loaded role key.
type roleKey struct {
	signer signature.Signer
	tuf    *metadata.Key
	id     string
}

// generateKey makes a fresh key for algorithm ("" means ECDSA).
//
// TS-0045 5.4.2.3: the algorithm of every role can be changed by rotating its key.
func generateKey(algorithm string) (crypto.Signer, error) {
	if err := checkAlgorithm(algorithm); err != nil {
		return nil, err
	}
	if algorithm == AlgorithmEd25519 {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func checkAlgorithm(algorithm string) error {
	switch algorithm {
	case "", AlgorithmECDSA, AlgorithmEd25519:
		return nil
	}
	return fmt.Errorf("unknown key algorithm %q (want %s or %s)", algorithm, AlgorithmECDSA, AlgorithmEd25519)
}

// newRoleKey wraps a private key for signing TUF metadata.
func newRoleKey(k crypto.Signer) (*roleKey, error) {
	hash := crypto.SHA256
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("role key: ecdsa key is not on P-256")
		}
	case ed25519.PrivateKey:
		hash = crypto.Hash(0) // Ed25519 signs the message itself
	default:
		return nil, fmt.Errorf("role key: unsupported key type %T", k)
	}
	s, err := signature.LoadSigner(k, hash)
	if err != nil {
		return nil, fmt.Errorf("role key: %w", err)
	}
	tk, err := metadata.KeyFromPublicKey(k.Public())
	if err != nil {
		return nil, fmt.Errorf("role key: %w", err)
	}
	id, err := tk.ID()
	if err != nil {
		return nil, fmt.Errorf("role key: %w", err)
	}
	return &roleKey{signer: s, tuf: tk, id: id}, nil
}

// writeKey stores a private key as PKCS#8 PEM, mode 0600, in a directory with mode 0700.
func writeKey(path string, k crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	return atomicfile.Write(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func readKey(path string) (crypto.Signer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("read key %s: not a PKCS#8 PEM key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("read key %s: unsupported key type %T", path, k)
	}
	return s, nil
}

// loadRoleKey reads a role's key and checks that root authorises it for the role. When
// a rotation was interrupted after the new root was written but before the new key
// replaced the old one, the new key (role.key.new) matches root: the rotation is
// completed here.
func loadRoleKey(vendorDir, role string, root *metadata.Metadata[metadata.RootType]) (*roleKey, error) {
	path := keyPath(vendorDir, role)
	k, err := readRoleKey(path, role, root)
	if err == nil {
		return k, nil
	}
	if next, err2 := readRoleKey(path+".new", role, root); err2 == nil {
		if err := os.Rename(path+".new", path); err != nil {
			return nil, fmt.Errorf("complete %s key rotation: %w", role, err)
		}
		return next, nil
	}
	return nil, err
}

func readRoleKey(path, role string, root *metadata.Metadata[metadata.RootType]) (*roleKey, error) {
	priv, err := readKey(path)
	if err != nil {
		return nil, err
	}
	k, err := newRoleKey(priv)
	if err != nil {
		return nil, err
	}
	if r := root.Signed.Roles[role]; r == nil || !slices.Contains(r.KeyIDs, k.id) {
		return nil, fmt.Errorf("%s key %s is not the one root version %d trusts for the role", role, path, root.Signed.Version)
	}
	return k, nil
}

// algorithmOf names the algorithm of a key in root.
func algorithmOf(k *metadata.Key) string {
	if k.Type == metadata.KeyTypeEd25519 {
		return AlgorithmEd25519
	}
	return AlgorithmECDSA
}
