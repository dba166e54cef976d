// Package tlspolicy is the only place in Hearth that builds a *tls.Config.
//
// Policy (docs/SECURITY-MODEL.md, DESIGN section 3): TLS 1.2 and 1.3 only; in TLS 1.2 only
// ECDHE key exchange with AES-GCM (forward secrecy and AEAD, no CBC, no RSA key transport);
// key exchange on NIST curves or their ML-KEM hybrids; certificates on P-256 or P-384.
// Together with the FIPS 140-3 mode of Go's cryptographic module this restricts every
// channel to algorithms approved under NIST SP 800-140C.
//
// Threat model: a network attacker who can observe, replay and alter traffic and who
// tries to negotiate an old protocol version or a weak cipher suite. Every Hearth
// listener and client uses these configurations, so a downgrade attempt fails the
// handshake instead of weakening it.
//
// The returned configurations are fresh values; callers may add certificates but must not
// loosen versions, suites or curves.
package tlspolicy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// MinVersion is the lowest protocol version any Hearth endpoint accepts.
//
// TS-0045 5.4.2.1: secure channels use TLS v1.2 or later (Annex A).
// TS-0045 5.7.1.1, 5.7.1.2: every channel that carries personal data (the web UI and
// API, the sensors' MQTTS, everything sent to the vendor) is one of these, with
// algorithms approved under FIPS 140-3 (SP 800-140C).
const MinVersion = tls.VersionTLS12

// CipherSuites are the TLS 1.2 suites Hearth offers and accepts: ECDHE for forward
// secrecy, AES-GCM for authenticated encryption. TLS 1.3 suites are not configurable in
// Go; in FIPS mode only its AES-GCM suites are used.
//
// TS-0045 5.1.2.3, 5.4.2.6: credentials and critical parameters travel only under
// SP 800-140C approved algorithms.
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
}

// Curves are the key-exchange groups, strongest first: the post-quantum hybrids built on
// NIST curves, then P-256 and P-384.
var Curves = []tls.CurveID{
	tls.SecP256r1MLKEM768,
	tls.SecP384r1MLKEM1024,
	tls.CurveP256,
	tls.CurveP384,
}

// base returns the settings shared by servers and clients.
func base() *tls.Config {
	return &tls.Config{
		MinVersion:       MinVersion,
		CipherSuites:     append([]uint16(nil), CipherSuites...),
		CurvePreferences: append([]tls.CurveID(nil), Curves...),
	}
}

// Server returns the configuration of an HTTPS or MQTTS listener that presents the
// certificate returned by getCert (so a renewed certificate is served without restart).
//
// TS-0045 5.4.2.1, 5.1.2.3: the gateway's listeners speak only TLS 1.2+ with forward secrecy.
func Server(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) (*tls.Config, error) {
	if getCert == nil {
		return nil, errors.New("tlspolicy: server needs a certificate source")
	}
	c := base()
	c.GetCertificate = getCert
	c.NextProtos = []string{"h2", "http/1.1"}
	return c, nil
}

// Client returns the configuration of a client that trusts only roots (never the system
// pool) and verifies the server's name. A nil or empty pool is an error: Hearth never
// falls back to the host's trust store for vendor connections.
func Client(roots *x509.CertPool, serverName string) (*tls.Config, error) {
	if roots == nil {
		return nil, errors.New("tlspolicy: client needs explicit trust anchors")
	}
	c := base()
	c.RootCAs = roots
	c.ServerName = serverName
	return c, nil
}

// MutualServer returns the configuration of a vendor service that requires every client
// to present a certificate chaining to clientRoots (the device CA): devices authenticate
// with their identity certificate.
//
// TS-0045 5.4.1.4: each device authenticates to the vendor's services with its own key.
func MutualServer(cert *tls.Certificate, clientRoots *x509.CertPool) (*tls.Config, error) {
	if cert == nil || clientRoots == nil {
		return nil, errors.New("tlspolicy: mutual TLS needs a certificate and client roots")
	}
	c := base()
	c.Certificates = []tls.Certificate{*cert}
	c.ClientAuth = tls.RequireAndVerifyClientCert
	c.ClientCAs = clientRoots
	return c, nil
}

// MutualClient returns a client configuration that trusts only roots and presents the
// certificate returned by getCert (read at each handshake, so a renewed certificate is
// used at once).
func MutualClient(roots *x509.CertPool, serverName string, getCert func(*tls.CertificateRequestInfo) (*tls.Certificate, error)) (*tls.Config, error) {
	c, err := Client(roots, serverName)
	if err != nil {
		return nil, err
	}
	if getCert == nil {
		return nil, errors.New("tlspolicy: mutual TLS client needs a certificate source")
	}
	c.GetClientCertificate = getCert
	return c, nil
}
