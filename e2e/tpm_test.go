package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hearth/internal/keystore/tpm/swtpm"
)

// TS-0045 5.4.1.1: a device with a TPM keeps its keystore's data key sealed by it: the
// gateway starts only with that TPM, and its data does not open without it.
func TestGatewayWithTPM(t *testing.T) {
	sw, err := swtpm.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Stop()
	v := newVendor(t)
	dir := t.TempDir()
	d := &device{t: t, vendor: v, data: filepath.Join(dir, "device"), root: filepath.Join(v, "pki", "root-ca.crt")}
	run(t, bin.cloud, "provision", "--dir", v, "--out", d.data, "--label", filepath.Join(dir, "label.json"), "--tpm", sw.Socket)
	if _, err := exec.Command("test", "-e", filepath.Join(d.data, "keystore", "host.key")).CombinedOutput(); err == nil {
		t.Fatal("a TPM-sealed keystore also has a host key")
	}
	out, err := exec.Command(bin.hearthd, "--data", d.data, "--https-addr", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `wrapped by "tpm"`) {
		t.Fatalf("hearthd without the TPM: %v\n%s", err, out)
	}
	d.start(bin.hearthd, "--tpm", sw.Socket)
	if r := d.call(d.client(), "GET", "/api/v1/device", nil); r.status != 401 {
		t.Fatalf("gateway with TPM: %v", r)
	}
	other, err := swtpm.Start(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Stop()
	d.stop()
	out, err = exec.Command(bin.hearthd, "--data", d.data, "--https-addr", "127.0.0.1:0", "--tpm", other.Socket).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unwrap data key") {
		t.Fatalf("hearthd with another device's TPM: %v\n%s", err, out)
	}
}
