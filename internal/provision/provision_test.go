package provision

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/identity"
	"hearth/internal/keystore"
)

var now = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

func vendor(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vendor")
	if err := InitVendor(dir, "Hearth Labs", nil, now); err != nil {
		t.Fatal(err)
	}
	return dir
}

func provision(t *testing.T, v string, serial string) (string, Label) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "device")
	lbl, err := Device(Request{VendorDir: v, OutDir: out, Model: "HG-100", Name: "Hearth Gateway", Serial: serial, Now: now, Hasher: auth.Hasher{Iterations: auth.MinIterations}})
	if err != nil {
		t.Fatal(err)
	}
	return out, lbl
}

func loadID(t *testing.T, dir string) (*identity.Identity, error) {
	t.Helper()
	ksDir := filepath.Join(dir, identity.KeystoreDir)
	ks, err := keystore.Open(ksDir, keystore.NewHostKey(ksDir))
	if err != nil {
		t.Fatal(err)
	}
	return identity.Load(dir, ks)
}

// TS-0045 5.1.1.1, 5.4.1.4: two units never share a password, key or certificate.
func TestTwoDevicesShareNothing(t *testing.T) {
	v := vendor(t)
	d1, l1 := provision(t, v, "")
	d2, l2 := provision(t, v, "")
	if l1.DefaultPassword == l2.DefaultPassword || l1.Serial == l2.Serial {
		t.Fatalf("labels share password or serial: %q %q", l1.Serial, l2.Serial)
	}
	id1, err := loadID(t, d1)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := loadID(t, d2)
	if err != nil {
		t.Fatal(err)
	}
	if id1.Signer.Public().(*ecdsa.PublicKey).Equal(id2.Signer.Public()) {
		t.Fatal("two devices share an identity key")
	}
	if bytes.Equal(id1.Leaf.Raw, id2.Leaf.Raw) || id1.Leaf.SerialNumber.Cmp(id2.Leaf.SerialNumber) == 0 {
		t.Fatal("two devices share a certificate")
	}
	if id1.DefaultPasswordHash == id2.DefaultPasswordHash {
		t.Fatal("two devices share a password hash")
	}
	ok, err := auth.Hasher{}.Verify(id1.DefaultPasswordHash, l1.DefaultPassword)
	if err != nil || !ok {
		t.Fatalf("device 1's hash does not match its label: %v", err)
	}
	if l1.Username != "owner" || id1.Info.Username != "owner" {
		t.Fatal("owner account name missing")
	}
}

// TS-0045 5.1.1.2: the password is not derived from serial, model or a counter.
func TestPasswordNotDerivedFromDevice(t *testing.T) {
	v := vendor(t)
	_, l := provision(t, v, "HRT-0001")
	pw := strings.ReplaceAll(l.DefaultPassword, "-", "")
	for _, w := range []string{"0001", "HRT", "HG100", "HEARTH"} {
		if strings.Contains(pw, w) {
			t.Fatalf("password %q contains device data %q", l.DefaultPassword, w)
		}
	}
	if !regexp.MustCompile(`^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$`).MatchString(l.DefaultPassword) {
		t.Fatalf("password %q is not from the generator", l.DefaultPassword)
	}
}

// TS-0045 5.4.1.1: the device data holds no plaintext password and no PEM private key.
func TestDeviceDataHoldsNoSecretsInClear(t *testing.T) {
	v := vendor(t)
	d, l := provision(t, v, "")
	err := filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(l.DefaultPassword)) || bytes.Contains(b, []byte(strings.ReplaceAll(l.DefaultPassword, "-", ""))) {
			t.Errorf("%s holds the default password", path)
		}
		if bytes.Contains(b, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a PEM private key", path)
		}
		if bytes.Contains(b, []byte("pbkdf2")) {
			t.Errorf("%s holds a password hash in clear", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TS-0045 5.4.1.2: a changed serial or a certificate from another unit is detected.
func TestTamperedIdentityDetected(t *testing.T) {
	v := vendor(t)
	d1, _ := provision(t, v, "HRT-AAAA-0001")
	d2, _ := provision(t, v, "HRT-AAAA-0002")
	info := filepath.Join(d1, identity.FactoryDir, identity.InfoFile)
	orig, _ := os.ReadFile(info)
	os.WriteFile(info, bytes.Replace(orig, []byte("HRT-AAAA-0001"), []byte("HRT-AAAA-0009"), 1), 0o644)
	if _, err := loadID(t, d1); !errors.Is(err, identity.ErrMismatch) {
		t.Fatalf("changed serial: %v, want ErrMismatch", err)
	}
	os.WriteFile(info, orig, 0o644)
	other, _ := os.ReadFile(filepath.Join(d2, identity.FactoryDir, identity.CertFile))
	os.WriteFile(filepath.Join(d1, identity.FactoryDir, identity.CertFile), other, 0o644)
	if _, err := loadID(t, d1); !errors.Is(err, identity.ErrMismatch) {
		t.Fatalf("certificate from another unit: %v, want ErrMismatch", err)
	}
}

func TestForeignVendorCertificateDetected(t *testing.T) {
	d1, _ := provision(t, vendor(t), "HRT-BBBB-0001")
	d2, _ := provision(t, vendor(t), "HRT-BBBB-0001")
	root2, _ := os.ReadFile(filepath.Join(d2, identity.FactoryDir, identity.RootFile))
	os.WriteFile(filepath.Join(d1, identity.FactoryDir, identity.RootFile), root2, 0o644)
	if _, err := loadID(t, d1); !errors.Is(err, identity.ErrMismatch) {
		t.Fatalf("root of another vendor: %v, want ErrMismatch", err)
	}
}

func TestDuplicateSerialAndNonEmptyOutRefused(t *testing.T) {
	v := vendor(t)
	provision(t, v, "HRT-CCCC-0001")
	out := filepath.Join(t.TempDir(), "dup")
	if _, err := Device(Request{VendorDir: v, OutDir: out, Model: "HG-100", Name: "Hearth Gateway", Serial: "HRT-CCCC-0001", Now: now}); err == nil {
		t.Fatal("a serial was provisioned twice")
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a failed provisioning left partial device data")
	}
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "x"), []byte("x"), 0o600)
	if _, err := Device(Request{VendorDir: v, OutDir: busy, Model: "HG-100", Name: "Hearth Gateway", Now: now}); err == nil {
		t.Fatal("provisioning overwrote a non-empty directory")
	}
}

func TestBadRequestsRefused(t *testing.T) {
	v := vendor(t)
	for _, r := range []Request{
		{Model: "", Name: "x"},
		{Model: "HG-100", Name: ""},
		{Model: "HG-100", Name: "x", Serial: "lower-case"},
		{Model: "HG-100", Name: "x", Username: "Bad User"},
	} {
		r.VendorDir, r.OutDir, r.Now = v, filepath.Join(t.TempDir(), "d"), now
		if _, err := Device(r); !errors.Is(err, identity.ErrInvalidInfo) {
			t.Errorf("request %+v: %v, want ErrInvalidInfo", r, err)
		}
	}
}

func TestLabelFile(t *testing.T) {
	v := vendor(t)
	_, l := provision(t, v, "")
	p := filepath.Join(t.TempDir(), "label.json")
	if err := WriteLabel(p, l); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("label mode %v, want 0600", st.Mode().Perm())
	}
	var m map[string]string
	raw, _ := os.ReadFile(p)
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"model", "name", "serial", "username", "default_password", "support_end", "vendor"} {
		if m[k] == "" {
			t.Errorf("label lacks %s", k)
		}
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "label", l)
	if strings.Contains(l.String()+logged.String(), l.DefaultPassword) {
		t.Fatal("label's String or log value shows the password")
	}
}

// TS-0045 5.2.2.2: the HTTPS certificate names no model, name or serial.
func TestServerCertificateDisclosesNoIdentity(t *testing.T) {
	d, l := provision(t, vendor(t), "")
	id, err := loadID(t, d)
	if err != nil {
		t.Fatal(err)
	}
	leaf := id.ServerChain[0]
	all := string(leaf.RawSubject) + leaf.Subject.String()
	for _, w := range []string{l.Serial, l.Model, l.Name} {
		if strings.Contains(all, w) {
			t.Fatalf("HTTPS certificate subject %q discloses %q", leaf.Subject, w)
		}
	}
	if len(leaf.DNSNames) == 0 || len(leaf.IPAddresses) != 2 {
		t.Fatalf("HTTPS certificate names %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
	other, _ := provision(t, vendor(t), "")
	foreign, _ := os.ReadFile(filepath.Join(other, identity.FactoryDir, identity.ServerCertFile))
	os.WriteFile(filepath.Join(d, identity.FactoryDir, identity.ServerCertFile), foreign, 0o644)
	if _, err := loadID(t, d); !errors.Is(err, identity.ErrMismatch) {
		t.Fatalf("HTTPS certificate of another unit: %v", err)
	}
}

// The vendor CAs certify only local names and addresses (and the vendor's service
// domains): trusting the vendor root to reach a device trusts it for nothing else.
func TestCAsAreNameConstrained(t *testing.T) {
	v := vendor(t)
	out := filepath.Join(t.TempDir(), "d")
	_, err := Device(Request{VendorDir: v, OutDir: out, Model: "HG-100", Name: "Hearth Gateway", Now: now,
		DNSNames: []string{"www.bank.example"}, Hasher: auth.Hasher{Iterations: auth.MinIterations}})
	if err == nil {
		t.Fatal("a device certificate for a public name was provisioned")
	}
	d, err := Device(Request{VendorDir: v, OutDir: filepath.Join(t.TempDir(), "ok"), Model: "HG-100", Name: "Hearth Gateway", Now: now,
		DNSNames: []string{"hearth-1234.local"}, IPs: []string{"192.168.1.20"}, Hasher: auth.Hasher{Iterations: auth.MinIterations}})
	if err != nil || d.Serial == "" {
		t.Fatalf("a local name was refused: %v", err)
	}
}
