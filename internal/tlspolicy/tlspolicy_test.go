package tlspolicy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"

	"hearth/internal/tlspolicy/tlstest"
)

// selfSigned makes a throwaway ECDSA P-256 certificate for 127.0.0.1.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	c := tlstest.SelfSigned(t, "test")
	return c.TLS, c.Pool
}

// handshake runs a server with the policy and a client with clientCfg, returning the
// negotiated state or the client's error.
func handshake(t *testing.T, clientCfg *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	cert, _ := selfSigned(t)
	srvCfg, err := Server(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.(*tls.Conn).Handshake()
		c.Close()
	}()
	clientCfg.InsecureSkipVerify = true // the server under test is the policy, not the PKI
	c, err := tls.Dial("tcp", ln.Addr().String(), clientCfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.ConnectionState(), nil
}

// TS-0045 5.4.2.1: old versions and non-forward-secret or CBC suites are refused.
func TestServerRefusesWeakClients(t *testing.T) {
	cases := []struct {
		name string
		cfg  *tls.Config
	}{
		{"tls1.0", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}},
		{"tls1.1", &tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11}},
		{"cbc", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}},
		{"no-ecdhe", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}},
		{"x25519-only", &tls.Config{CurvePreferences: []tls.CurveID{tls.X25519}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := handshake(t, tc.cfg); err == nil {
				t.Fatalf("handshake with %s succeeded, want refusal", tc.name)
			}
		})
	}
}

func TestServerAcceptsPolicyClients(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		st, err := handshake(t, &tls.Config{MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Fatalf("version %x: %v", v, err)
		}
		if st.Version != v {
			t.Fatalf("negotiated %x, want %x", st.Version, v)
		}
		if v == tls.VersionTLS12 && st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 && st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
			t.Fatalf("TLS 1.2 suite %s outside policy", tls.CipherSuiteName(st.CipherSuite))
		}
	}
}

func TestClientRequiresRoots(t *testing.T) {
	if _, err := Client(nil, "x"); err == nil {
		t.Fatal("client without roots accepted")
	}
	if _, err := Server(nil); err == nil {
		t.Fatal("server without certificate accepted")
	}
}

func TestClientVerifiesAgainstGivenRoots(t *testing.T) {
	cert, pool := selfSigned(t)
	srvCfg, _ := Server(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil })
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	good, _ := Client(pool, "127.0.0.1")
	c, err := tls.Dial("tcp", ln.Addr().String(), good)
	if err != nil {
		t.Fatalf("trusted server refused: %v", err)
	}
	c.Close()
	_, otherPool := selfSigned(t)
	bad, _ := Client(otherPool, "127.0.0.1")
	_, err = tls.Dial("tcp", ln.Addr().String(), bad)
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &uerr) {
		t.Fatalf("untrusted server: got %v, want unknown authority", err)
	}
}
