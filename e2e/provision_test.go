package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TS-0045 5.1.1.1, 5.1.1.2, 5.4.1.4: two units from the same vendor share no password,
// serial, key or certificate; the label password follows the declared generator; the
// device data holds no plaintext password and no PEM private key.
func TestTwoUnitsFromTheCLI(t *testing.T) {
	v := newVendor(t)
	a, b := provision(t, v), provision(t, v)
	gen := regexp.MustCompile(`^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$`)
	for _, d := range []*device{a, b} {
		if !gen.MatchString(d.label["default_password"]) {
			t.Fatalf("label password %q does not follow the declared generator", d.label["default_password"])
		}
	}
	if a.label["default_password"] == b.label["default_password"] || a.label["serial"] == b.label["serial"] {
		t.Fatal("two units share a password or serial")
	}
	for _, f := range []string{"factory/device.crt", "factory/https.crt", "keystore/device-identity.sealed", "keystore/host.key"} {
		x, _ := os.ReadFile(filepath.Join(a.data, f))
		y, _ := os.ReadFile(filepath.Join(b.data, f))
		if len(x) == 0 || bytes.Equal(x, y) {
			t.Errorf("%s is missing or equal on two units", f)
		}
	}
	for _, d := range []*device{a, b} {
		filepath.WalkDir(d.data, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			raw, _ := os.ReadFile(p)
			if bytes.Contains(raw, []byte(d.label["default_password"])) || bytes.Contains(raw, []byte("PRIVATE KEY")) {
				t.Errorf("%s holds the password or a PEM private key", p)
			}
			return nil
		})
	}
}
