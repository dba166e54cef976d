package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"hearth/bench/internal/rig"
)

// server is one program measured: how to start it and how to reach it.
type server struct {
	name  string
	bin   string
	args  []string
	roots string // CA certificate (PEM) that its certificate chains to
	// device is the provisioned device (hearthd only); nil for the peer.
	device *rig.Device
}

// target is how clients reach p, a running s.
func (s server) target(p *rig.Process) (rig.Target, error) {
	roots, err := rig.LoadRoots(s.roots)
	if err != nil {
		return rig.Target{}, err
	}
	return rig.Target{Addr: p.Addr, ServerName: "localhost", Roots: roots}, nil
}

// prepare provisions a device for hearthd and makes a certificate for the peer.
func prepare(ctx context.Context, b binaries, dir string) ([]server, error) {
	dev, err := rig.Provision(ctx, b.cloud.Out, dir)
	if err != nil {
		return nil, err
	}
	cert, key, err := peerCertificate(filepath.Join(dir, "peer-tls"))
	if err != nil {
		return nil, err
	}
	return []server{
		{name: "hearthd", bin: b.hearthd.Out, args: []string{"--data", dev.Data}, roots: dev.RootCA, device: &dev},
		{name: "peer", bin: b.peer.Out, args: []string{"--cert", cert, "--key", key}, roots: cert},
	}, nil
}

// peerCertificate writes a self-signed ECDSA P-256 certificate for localhost and
// 127.0.0.1 (the key type of hearthd's certificate) and its key into dir.
func peerCertificate(dir string) (certFile, keyFile string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("peer certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("peer certificate: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IP(netip.MustParseAddr("127.0.0.1").AsSlice())},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("peer certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("peer certificate: %w", err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return "", "", err
	}
	return certFile, keyFile, writePEM(keyFile, "PRIVATE KEY", keyDER)
}

func writePEM(path, typ string, der []byte) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
