package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TS-0045 5.8.1.1: the owner exports the security event log of a running gateway and
// verifies it offline with the vendor root alone; editing, deleting or reordering any
// entry of the file makes the check fail.
func TestEventLogExportVerifiesOffline(t *testing.T) {
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	c := d.client()
	for range 3 {
		d.login(c, "owner", "not the password at all")
	}
	c = d.ownerClient()
	r := d.call(c, "GET", "/api/v1/events/export", nil)
	if r.status != 200 {
		t.Fatalf("export: %v", r)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "events.json")
	os.WriteFile(file, r.body, 0o600)
	verify := func(path string) (bool, string) {
		out, err := exec.Command(bin.ts0045, "verify-events", "--root", d.root, path).CombinedOutput()
		return err == nil, string(out)
	}
	if ok, out := verify(file); !ok || !strings.HasPrefix(out, "OK: ") {
		t.Fatalf("untouched export: %s", out)
	}
	// Edit: a failed sign-in turned into another user's.
	edited := bytes.Replace(r.body, []byte(`"kind":"login.failed"`), []byte(`"kind":"login.succeeded"`), 1)
	// Delete: the first entry's object removed from the list (as a text edit would).
	start := bytes.Index(r.body, []byte(`"entries":[`)) + len(`"entries":[`)
	end := bytes.Index(r.body[start:], []byte(`},{"id"`)) + start + 2
	deleted := append(append([]byte{}, r.body[:start]...), r.body[end:]...)
	for name, body := range map[string][]byte{"edited": edited, "deleted": deleted} {
		if bytes.Equal(body, r.body) {
			t.Fatalf("%s: the test did not change the file", name)
		}
		p := filepath.Join(dir, name+".json")
		os.WriteFile(p, body, 0o600)
		if ok, out := verify(p); ok || !strings.Contains(out, "FAILED") {
			t.Errorf("%s export verified: %s", name, out)
		}
	}
	// Another vendor's root does not vouch for this device.
	if out, err := exec.Command(bin.ts0045, "verify-events", "--root", filepath.Join(newVendor(t), "pki", "root-ca.crt"), file).CombinedOutput(); err == nil {
		t.Errorf("verified against another vendor's root: %s", out)
	}
}
