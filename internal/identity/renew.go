package identity

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"hearth/internal/atomicfile"
)

// RenewedDir holds certificates renewed after provisioning; they take precedence over
// the factory ones, which stay untouched for a factory reset.
const RenewedDir = "identity"

// RenewalRequest returns a certificate request (DER) for the device's key, naming the
// HTTPS host names and addresses of the current server certificate.
func (id *Identity) RenewalRequest() ([]byte, error) {
	srv := id.ServerChain[0]
	tmpl := &x509.CertificateRequest{Subject: id.Leaf.Subject, DNSNames: srv.DNSNames, IPAddresses: srv.IPAddresses}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, id.Signer)
	if err != nil {
		return nil, fmt.Errorf("renewal request: %w", err)
	}
	return der, nil
}

// Adopt checks renewed certificate chains (PEM) against this identity: they must chain
// to the vendor root, certify this device's key and carry its serial, model and name.
// It stores them atomically in dataDir and returns the updated identity.
func (id *Identity) Adopt(dataDir string, identPEM, serverPEM []byte) (*Identity, error) {
	ident, err := ParseCertificates(identPEM)
	if err != nil {
		return nil, fmt.Errorf("adopt renewed identity: %w", err)
	}
	server, err := ParseCertificates(serverPEM)
	if err != nil {
		return nil, fmt.Errorf("adopt renewed server certificate: %w", err)
	}
	next := *id
	next.Leaf, next.Chain, next.ServerChain = ident[0], ident, server
	if err := next.check(); err != nil {
		return nil, err
	}
	dir := filepath.Join(dataDir, RenewedDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("adopt renewed certificates: %w", err)
	}
	// The server chain first: a crash between the two writes leaves a valid pair either way.
	if err := atomicfile.Write(filepath.Join(dir, ServerCertFile), EncodeCertificates(server...), 0o644); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(dir, CertFile), EncodeCertificates(ident...), 0o644); err != nil {
		return nil, err
	}
	return &next, nil
}

// RenewAt is when a certificate should be renewed: once two thirds of its validity have
// passed.
func RenewAt(c *x509.Certificate) time.Time {
	return c.NotBefore.Add(c.NotAfter.Sub(c.NotBefore) * 2 / 3)
}

// loadRenewed replaces the factory chains with renewed ones when both files exist.
func loadRenewed(dataDir string) (ident, server []*x509.Certificate, err error) {
	dir := filepath.Join(dataDir, RenewedDir)
	if _, err := os.Stat(filepath.Join(dir, CertFile)); errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if ident, err = readCerts(filepath.Join(dir, CertFile)); err != nil {
		return nil, nil, err
	}
	if server, err = readCerts(filepath.Join(dir, ServerCertFile)); err != nil {
		return nil, nil, err
	}
	return ident, server, nil
}
