// Package vendorca is the vendor's device certificate authority: an offline root and an
// issuing intermediate, both ECDSA P-256, that certify each device's identity key.
//
// This is vendor-side code, used by the offline hearth-cloud tools; it is never linked
// into the device (a test on hearthd's dependencies enforces that).
//
// Layout of the vendor directory:
//
//	offline/root-ca.key   root key: needed only to create or renew the intermediate; keep
//	                      this folder on offline media (TS-0045 5.4.2.8, docs/KEY-MANAGEMENT.md)
//	pki/root-ca.crt       root certificate: the trust anchor given to devices and clients
//	pki/issuing-ca.crt    intermediate certificate
//	pki/issuing-ca.key    intermediate key
//
// Keys are PKCS#8 PEM files with mode 0600 in directories with mode 0700.
package vendorca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/identity"
)

// File names inside the vendor directory.
const (
	RootKeyFile   = "offline/root-ca.key"
	RootCertFile  = "pki/root-ca.crt"
	IssueCertFile = "pki/issuing-ca.crt"
	IssueKeyFile  = "pki/issuing-ca.key"
)

// Validity periods.
const (
	RootValidity    = 25 * 365 * 24 * time.Hour
	IssuingValidity = 10 * 365 * 24 * time.Hour
)

// ErrExists means the vendor directory already holds a CA.
var ErrExists = errors.New("vendor CA already initialised")

// CA is a loaded issuing CA.
type CA struct {
	Root    *x509.Certificate
	Issuing *x509.Certificate
	key     crypto.Signer
}

// LocalDomains and LocalRanges are the names the vendor CAs may certify besides the
// vendor's own service domains: the names and addresses a home device is reached by.
// The constraint is written into both CA certificates, so a user who trusts the vendor
// root in a browser (to reach the device without warnings) trusts it for nothing else.
var (
	LocalDomains = []string{"localhost", "local", "home.arpa"}
	LocalRanges  = []string{"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "::1/128", "fc00::/7", "fe80::/10"}
)

// constrain limits a CA certificate to the local names and the given service domains.
func constrain(tmpl *x509.Certificate, serviceDomains []string) error {
	tmpl.PermittedDNSDomainsCritical = true
	tmpl.PermittedDNSDomains = append(append([]string(nil), LocalDomains...), serviceDomains...)
	for _, r := range LocalRanges {
		_, n, err := net.ParseCIDR(r)
		if err != nil {
			return err
		}
		tmpl.PermittedIPRanges = append(tmpl.PermittedIPRanges, n)
	}
	return nil
}

// Init creates the root and issuing CA in dir for vendor. serviceDomains are the DNS
// domains of the vendor's online services (besides local names).
func Init(dir, vendor string, serviceDomains []string, now time.Time) error {
	if _, err := os.Stat(filepath.Join(dir, RootCertFile)); err == nil {
		return ErrExists
	}
	for _, d := range []string{"offline", "pki"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return fmt.Errorf("init vendor CA: %w", err)
		}
	}
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("init vendor CA: %w", err)
	}
	rootTmpl := &x509.Certificate{
		Subject:   pkix.Name{Organization: []string{vendor}, CommonName: vendor + " Root CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(RootValidity),
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 1,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	if err := constrain(rootTmpl, serviceDomains); err != nil {
		return err
	}
	root, err := sign(rootTmpl, nil, &rootKey.PublicKey, rootKey)
	if err != nil {
		return err
	}
	issKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("init vendor CA: %w", err)
	}
	issTmpl := &x509.Certificate{
		Subject:   pkix.Name{Organization: []string{vendor}, CommonName: vendor + " Device Issuing CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(IssuingValidity),
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 0, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	if err := constrain(issTmpl, serviceDomains); err != nil {
		return err
	}
	iss, err := sign(issTmpl, root, &issKey.PublicKey, rootKey)
	if err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, RootKeyFile), rootKey); err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, IssueKeyFile), issKey); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, RootCertFile), identity.EncodeCertificates(root), 0o644); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, IssueCertFile), identity.EncodeCertificates(iss), 0o644)
}

// Load opens the issuing CA in dir. The offline root key is not read.
func Load(dir string) (*CA, error) {
	root, err := readCert(filepath.Join(dir, RootCertFile))
	if err != nil {
		return nil, err
	}
	iss, err := readCert(filepath.Join(dir, IssueCertFile))
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, IssueKeyFile))
	if err != nil {
		return nil, fmt.Errorf("load vendor CA: %w", err)
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("load vendor CA: issuing key is not a PKCS#8 PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load vendor CA: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(iss.PublicKey) {
		return nil, errors.New("load vendor CA: issuing key does not match its certificate")
	}
	return &CA{Root: root, Issuing: iss, key: key}, nil
}

// DeviceRequest describes the certificates of one device.
type DeviceRequest struct {
	Info     identity.Info
	Public   crypto.PublicKey
	DNSNames []string
	IPs      []string
	NotAfter time.Time
}

// IssueDevice certifies a device's identity key, binding serial, model and name. The
// identity certificate authenticates the device to the vendor's services (TLS client).
//
// TS-0045 5.4.1.4: each device has its own key and certificate for the vendor's services.
func (ca *CA) IssueDevice(req DeviceRequest, now time.Time) (*x509.Certificate, error) {
	if err := req.Info.Validate(); err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject: pkix.Name{
			Organization: []string{req.Info.Vendor}, OrganizationalUnit: []string{req.Info.Model},
			CommonName: req.Info.Name, SerialNumber: req.Info.Serial,
		},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ca.issueLeaf(tmpl, req, now)
}

// IssueServer certifies the same key for the device's HTTPS listener. Its subject is
// empty and it names only the host names and addresses: a client that has not signed in
// learns no model, name or serial from the handshake.
//
// TS-0045 5.2.2.2: nothing beyond what is needed is disclosed to unauthenticated parties.
func (ca *CA) IssueServer(req DeviceRequest, now time.Time) (*x509.Certificate, error) {
	if len(req.DNSNames) == 0 && len(req.IPs) == 0 {
		return nil, errors.New("issue server certificate: no host name or address")
	}
	tmpl := &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: req.DNSNames}
	for _, s := range req.IPs {
		ip, err := parseIP(s)
		if err != nil {
			return nil, err
		}
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	}
	cert, err := ca.issueLeaf(tmpl, req, now)
	if err != nil {
		return nil, err
	}
	return cert, ca.verify(cert, x509.ExtKeyUsageServerAuth, now)
}

// verify checks an issued certificate against the CA chain, name constraints included,
// so the CA never hands out a certificate that devices or browsers would refuse.
func (ca *CA) verify(c *x509.Certificate, usage x509.ExtKeyUsage, now time.Time) error {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(ca.Root)
	inter.AddCert(ca.Issuing)
	_, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		return fmt.Errorf("issued certificate fails its own chain (names outside the CA's constraints?): %w", err)
	}
	return nil
}

func (ca *CA) issueLeaf(tmpl *x509.Certificate, req DeviceRequest, now time.Time) (*x509.Certificate, error) {
	if _, ok := req.Public.(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("issue device certificate: unsupported key type %T", req.Public)
	}
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), req.NotAfter
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if tmpl.NotAfter.After(ca.Issuing.NotAfter) {
		tmpl.NotAfter = ca.Issuing.NotAfter
	}
	return sign(tmpl, ca.Issuing, req.Public, ca.key)
}

// sign fills in serial number and key ids and signs tmpl with key (self-signed when
// parent is nil).
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	tmpl.SerialNumber = serial
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	skid := sha256.Sum256(pubDER)
	tmpl.SubjectKeyId = skid[:20]
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	return atomicfile.Write(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func readCert(path string) (*x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load vendor CA: %w", err)
	}
	certs, err := identity.ParseCertificates(raw)
	if err != nil {
		return nil, fmt.Errorf("load vendor CA: %s: %w", filepath.Base(path), err)
	}
	return certs[0], nil
}
