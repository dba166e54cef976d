package keystore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
)

// GenerateSigner creates an ECDSA P-256 key inside the keystore, seals it under name and
// returns an operation handle. The private key is never returned to the caller.
//
// TS-0045 5.4.1.4: each device's key is generated for that device alone.
func (s *Store) GenerateSigner(name string) (crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keystore generate %s: %w", name, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keystore generate %s: %w", name, err)
	}
	if err := s.Put(name, der); err != nil {
		return nil, err
	}
	return &signer{key: key}, nil
}

// Signer opens the private key sealed under name.
func (s *Store) Signer(name string) (crypto.Signer, error) {
	der, err := s.Get(name)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keystore signer %s: %w", name, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("keystore signer %s: unsupported key type %T", name, k)
	}
	return &signer{key: key}, nil
}

// signer exposes signing and the public key, nothing else: no method returns the private
// scalar, and it prints as REDACTED.
type signer struct{ key *ecdsa.PrivateKey }

func (s *signer) Public() crypto.PublicKey { return &s.key.PublicKey }

func (s *signer) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.key.Sign(rnd, digest, opts)
}

func (s *signer) String() string   { return "REDACTED" }
func (s *signer) GoString() string { return "REDACTED" }
