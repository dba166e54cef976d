package identity

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"hearth/internal/keystore"
)

// ErrMismatch reports factory data, certificate and key that do not belong together.
var ErrMismatch = errors.New("device identity mismatch")

// Identity is a loaded, cross-checked device identity.
type Identity struct {
	Info  Info
	Leaf  *x509.Certificate
	Chain []*x509.Certificate // leaf first, then intermediates
	// ServerChain is the HTTPS certificate chain, leaf first.
	ServerChain []*x509.Certificate
	Roots       *x509.CertPool
	Root        *x509.Certificate
	// Signer is the identity key; it lives in the keystore.
	Signer crypto.Signer
	// DefaultPasswordHash is the label password's PBKDF2 hash, for first start and for
	// refusing it as a new password.
	DefaultPasswordHash string
}

// ServerCertificate returns the HTTPS certificate chain and key.
func (id *Identity) ServerCertificate() *tls.Certificate { return tlsCert(id.ServerChain, id.Signer) }

// ClientCertificate returns the identity certificate chain and key, for mutual TLS with
// the vendor's services.
func (id *Identity) ClientCertificate() *tls.Certificate { return tlsCert(id.Chain, id.Signer) }

func tlsCert(chain []*x509.Certificate, key crypto.Signer) *tls.Certificate {
	c := &tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, x := range chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}

// Load reads the identity in dataDir with keys from ks and cross-checks it.
//
// TS-0045 5.4.1.2: the unique identity is protected against tampering: serial, model and
// name are bound to a vendor-signed certificate whose key is sealed in this device.
func Load(dataDir string, ks *keystore.Store) (*Identity, error) {
	fdir := filepath.Join(dataDir, FactoryDir)
	raw, err := os.ReadFile(filepath.Join(fdir, InfoFile))
	if err != nil {
		return nil, fmt.Errorf("load identity: %w", err)
	}
	info, err := ParseInfo(raw)
	if err != nil {
		return nil, fmt.Errorf("load identity: %w", err)
	}
	chain, err := readCerts(filepath.Join(fdir, CertFile))
	if err != nil {
		return nil, err
	}
	server, err := readCerts(filepath.Join(fdir, ServerCertFile))
	if err != nil {
		return nil, err
	}
	roots, err := readCerts(filepath.Join(fdir, RootFile))
	if err != nil {
		return nil, err
	}
	renewedIdent, renewedServer, err := loadRenewed(dataDir)
	if err != nil {
		return nil, err
	}
	if renewedIdent != nil {
		chain, server = renewedIdent, renewedServer
	}
	signer, err := ks.Signer(KeyRecord)
	if err != nil {
		return nil, fmt.Errorf("load identity: %w", err)
	}
	hash, err := ks.Get(DefaultHashRecord)
	if err != nil {
		return nil, fmt.Errorf("load identity: %w", err)
	}
	id := &Identity{Info: info, Leaf: chain[0], Chain: chain, ServerChain: server, Root: roots[0], Roots: x509.NewCertPool(), Signer: signer, DefaultPasswordHash: string(hash)}
	id.Roots.AddCert(roots[0])
	if err := id.check(); err != nil {
		return nil, err
	}
	return id, nil
}

// check verifies that the chain leads to the vendor root and that certificate, key and
// factory data describe the same device.
func (id *Identity) check() error {
	if err := id.verifyChain(id.Chain, x509.ExtKeyUsageClientAuth); err != nil {
		return err
	}
	if err := id.verifyChain(id.ServerChain, x509.ExtKeyUsageServerAuth); err != nil {
		return err
	}
	subj := id.Leaf.Subject
	switch {
	case subj.SerialNumber != id.Info.Serial:
		return fmt.Errorf("%w: serial %q in factory data, %q in certificate", ErrMismatch, id.Info.Serial, subj.SerialNumber)
	case len(subj.OrganizationalUnit) != 1 || subj.OrganizationalUnit[0] != id.Info.Model:
		return fmt.Errorf("%w: model differs from the certificate", ErrMismatch)
	case subj.CommonName != id.Info.Name:
		return fmt.Errorf("%w: name differs from the certificate", ErrMismatch)
	}
	return nil
}

// verifyChain checks that chain leads to the vendor root for usage and certifies this
// device's key.
func (id *Identity) verifyChain(chain []*x509.Certificate, usage x509.ExtKeyUsage) error {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	// Verify the signatures at a moment inside the leaf's validity, so a device whose
	// clock is wrong still proves its identity; expiry is reported by Expired.
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots: id.Roots, Intermediates: inter, CurrentTime: chain[0].NotBefore.Add(time.Minute),
		KeyUsages: []x509.ExtKeyUsage{usage},
	})
	if err != nil {
		return fmt.Errorf("%w: certificate does not chain to the vendor root: %v", ErrMismatch, err)
	}
	if !publicKeysEqual(chain[0].PublicKey, id.Signer.Public()) {
		return fmt.Errorf("%w: certificate does not certify this device's key", ErrMismatch)
	}
	return nil
}

// Expired reports whether the device certificate is outside its validity at now.
func (id *Identity) Expired(now time.Time) bool {
	return now.Before(id.Leaf.NotBefore) || now.After(id.Leaf.NotAfter)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

// readCerts reads a PEM file holding one or more certificates.
func readCerts(path string) ([]*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load identity: %w", err)
	}
	certs, err := ParseCertificates(raw)
	if err != nil {
		return nil, fmt.Errorf("load identity: %s: %w", filepath.Base(path), err)
	}
	return certs, nil
}

// ParseCertificates decodes a PEM bundle of CERTIFICATE blocks; anything else is refused.
func ParseCertificates(raw []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for len(bytes.TrimSpace(raw)) > 0 {
		var b *pem.Block
		b, raw = pem.Decode(raw)
		if b == nil || b.Type != "CERTIFICATE" {
			return nil, errors.New("not a PEM certificate bundle")
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate")
	}
	return out, nil
}

// EncodeCertificates returns certs as a PEM bundle.
func EncodeCertificates(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}
