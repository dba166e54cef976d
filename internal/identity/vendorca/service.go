package vendorca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/identity"
)

// The vendor services' own TLS certificate, issued by the issuing CA: devices reach the
// services trusting only the vendor root.
const (
	ServiceCertFile = "pki/service.crt"
	ServiceKeyFile  = "pki/service.key"
	ServiceValidity = 2 * 365 * 24 * time.Hour
)

// IssueServiceCert creates (or replaces) the services' key and certificate for the
// given host names and addresses.
func (ca *CA) IssueServiceCert(dir string, dnsNames, ips []string, now time.Time) error {
	if len(dnsNames) == 0 && len(ips) == 0 {
		return errors.New("service certificate: no host name or address")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("service certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{Organization: ca.Issuing.Subject.Organization, CommonName: "vendor services"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(ServiceValidity),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: dnsNames,
	}
	for _, s := range ips {
		ip, err := parseIP(s)
		if err != nil {
			return err
		}
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	}
	if tmpl.NotAfter.After(ca.Issuing.NotAfter) {
		tmpl.NotAfter = ca.Issuing.NotAfter
	}
	cert, err := sign(tmpl, ca.Issuing, &key.PublicKey, ca.key)
	if err != nil {
		return err
	}
	if err := ca.verify(cert, x509.ExtKeyUsageServerAuth, now); err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, ServiceKeyFile), key); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, ServiceCertFile), identity.EncodeCertificates(cert, ca.Issuing), 0o644)
}

// ServiceCertificate loads the services' TLS certificate chain and key.
func ServiceCertificate(dir string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, ServiceCertFile))
	if err != nil {
		return nil, fmt.Errorf("service certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, ServiceKeyFile))
	if err != nil {
		return nil, fmt.Errorf("service certificate: %w", err)
	}
	if b, _ := pem.Decode(keyPEM); b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("service certificate: key is not a PKCS#8 PEM key")
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("service certificate: %w", err)
	}
	return &c, nil
}

// Renewal is a device's request for fresh certificates for the key it already holds.
type Renewal struct {
	// Current is the identity certificate the device authenticated with (TLS client).
	Current *x509.Certificate
	// CSR proves possession of the key and names the HTTPS host names and addresses.
	CSR *x509.CertificateRequest
}

// Renew issues a new identity certificate (same subject, same key) and a new HTTPS
// certificate for the names in the request, each valid as long as the one it replaces.
func (ca *CA) Renew(r Renewal, now time.Time) (ident, server *x509.Certificate, err error) {
	if err := r.CSR.CheckSignature(); err != nil {
		return nil, nil, fmt.Errorf("renew: request signature: %w", err)
	}
	if !publicKeysEqual(r.CSR.PublicKey, r.Current.PublicKey) {
		return nil, nil, errors.New("renew: the request's key is not the certified key")
	}
	if len(r.CSR.DNSNames)+len(r.CSR.IPAddresses) == 0 || len(r.CSR.DNSNames)+len(r.CSR.IPAddresses) > 16 {
		return nil, nil, errors.New("renew: the request must name 1 to 16 host names or addresses")
	}
	validity := r.Current.NotAfter.Sub(r.Current.NotBefore)
	req := DeviceRequest{Public: r.CSR.PublicKey, DNSNames: r.CSR.DNSNames, NotAfter: now.Add(validity)}
	for _, ip := range r.CSR.IPAddresses {
		req.IPs = append(req.IPs, ip.String())
	}
	ident, err = ca.issueLeaf(&x509.Certificate{Subject: r.Current.Subject, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, req, now)
	if err != nil {
		return nil, nil, err
	}
	server, err = ca.IssueServer(req, now)
	return ident, server, err
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}
