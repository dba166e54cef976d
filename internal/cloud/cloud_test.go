package cloud

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/identity"
	"hearth/internal/keystore"
	"hearth/internal/provision"
	"hearth/internal/tlspolicy"
)

type rig struct {
	vendor     string
	id         *identity.Identity
	srv        *httptest.Server
	svc        *Server
	consentSeq int64 // last seq sent on consentStream
}

func newRig(t testing.TB) *rig {
	t.Helper()
	v := filepath.Join(t.TempDir(), "vendor")
	if err := provision.InitVendor(v, "Hearth Labs", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	id := provisionDevice(t, v)
	svc, err := New(Config{VendorDir: v})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(svc.Handler())
	if srv.TLS, err = svc.TLSConfig(); err != nil {
		t.Fatal(err)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &rig{vendor: v, id: id, srv: srv, svc: svc}
}

// provisionDevice makes and registers one more unit of the vendor.
func provisionDevice(t testing.TB, vendor string) *identity.Identity {
	t.Helper()
	d := filepath.Join(t.TempDir(), "device")
	if _, err := provision.Device(provision.Request{VendorDir: vendor, OutDir: d, Model: "HG-100", Name: "Hearth Gateway", Hasher: auth.Hasher{Iterations: auth.MinIterations}}); err != nil {
		t.Fatal(err)
	}
	ksDir := filepath.Join(d, identity.KeystoreDir)
	ks, err := keystore.Open(ksDir, keystore.NewHostKey(ksDir))
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.Load(d, ks)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// post sends a certificate request, presenting cert (nil: none).
func (g *rig) post(t *testing.T, cert *tls.Certificate, body []byte, ctype string) (*http.Response, error) {
	t.Helper()
	cfg, _ := tlspolicy.Client(g.id.Roots, "localhost")
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	url := "https://localhost:" + g.srv.URL[strings.LastIndex(g.srv.URL, ":")+1:] + "/v1/device/certificate"
	return c.Post(url, ctype, bytes.NewReader(body))
}

func (g *rig) csr(t *testing.T) []byte {
	der, err := g.id.RenewalRequest()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TS-0045 5.4.1.4: a registered device renews over mutual TLS; nothing else does.
func TestRenewalAccessControl(t *testing.T) {
	g := newRig(t)
	res, err := g.post(t, nil, g.csr(t), "application/pkcs10")
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a client certificate: %v %v", res.StatusCode, err)
	}
	if res, _ := g.post(t, g.id.ClientCertificate(), g.csr(t), "text/plain"); res.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("wrong media type: %d", res.StatusCode)
	}
	if res, _ := g.post(t, g.id.ClientCertificate(), []byte("junk"), "application/pkcs10"); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("junk request: %d", res.StatusCode)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	foreignCSR, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{"localhost"}}, other)
	if res, _ := g.post(t, g.id.ClientCertificate(), foreignCSR, "application/pkcs10"); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("request for another key: %d", res.StatusCode)
	}
	res, err = g.post(t, g.id.ClientCertificate(), g.csr(t), "application/pkcs10")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("genuine renewal: %v %v", res.StatusCode, err)
	}
	// The certificate just superseded no longer renews.
	if res, _ := g.post(t, g.id.ClientCertificate(), g.csr(t), "application/pkcs10"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("superseded certificate: %d", res.StatusCode)
	}
}

func TestRevokedUnitRefused(t *testing.T) {
	g := newRig(t)
	reg, err := provision.LookupDevice(g.vendor, g.id.Info.Serial)
	if err != nil {
		t.Fatal(err)
	}
	reg.Revoked = true
	raw, _ := os.ReadFile(filepath.Join(g.vendor, "devices", reg.Serial+".json"))
	os.WriteFile(filepath.Join(g.vendor, "devices", reg.Serial+".json"), bytes.Replace(raw, []byte(`"provisioned_at"`), []byte(`"revoked": true, "provisioned_at"`), 1), 0o644)
	if res, _ := g.post(t, g.id.ClientCertificate(), g.csr(t), "application/pkcs10"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("revoked unit: %d", res.StatusCode)
	}
}

func TestOtherVendorsDeviceRefusedAtHandshake(t *testing.T) {
	g := newRig(t)
	other := newRig(t)
	if _, err := g.post(t, other.id.ClientCertificate(), other.csr(t), "application/pkcs10"); err == nil {
		t.Fatal("a device of another vendor completed the handshake")
	}
}

// FuzzRenew sends arbitrary request bodies from an authenticated device: never a 5xx.
func FuzzRenew(f *testing.F) {
	g := newRig(f)
	good, _ := g.id.RenewalRequest()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "https://cloud/v1/device/certificate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/pkcs10")
		req.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{g.id.Leaf}}}
		rec := httptest.NewRecorder()
		g.svc.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("body %x -> %d %s", body, rec.Code, rec.Body)
		}
	})
}
