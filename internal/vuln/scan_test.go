package vuln

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/vuln/osv"
	"hearth/internal/vuln/sbom"
)

// writeSBOM builds the sbom package's test program and stores its SBOM as release
// version in the vendor directory.
func writeSBOM(t *testing.T, vendor, version string) {
	t.Helper()
	prog := filepath.Join(t.TempDir(), "prog")
	if b, err := exec.Command("go", "build", "-o", prog, "./sbom/testdata/prog").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	bom, err := sbom.Generate(prog, version, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sbom.Write(&buf, bom)
	os.MkdirAll(filepath.Join(vendor, SBOMDir), 0o755)
	if err := os.WriteFile(filepath.Join(vendor, SBOMDir, "hearthd-"+version+".cdx.json"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TS-0045 5.2.1.3: a known vulnerable component in a release opens one internal report,
// handled like an outside one.
func TestScan(t *testing.T) {
	s, _ := newStore(t)
	as, err := osv.LoadDir("testdata/advisories")
	if err != nil {
		t.Fatal(err)
	}
	if opened, hits, err := s.Scan(as); err != nil || len(opened) != 0 || len(hits) != 0 {
		t.Fatalf("scan without SBOMs: %v %v %v", opened, hits, err)
	}
	writeSBOM(t, s.cfg.VendorDir, "1.0.0")
	writeSBOM(t, s.cfg.VendorDir, "1.1.0")
	opened, hits, err := s.Scan(as)
	if err != nil || len(hits) != 1 || len(opened) != 1 || len(hits[0].Releases) != 2 {
		t.Fatalf("scan: opened %+v hits %+v err %v", opened, hits, err)
	}
	r := opened[0]
	if r.Advisory != "GO-2099-0001" || r.Component != "github.com/CycloneDX/cyclonedx-go" || r.Source != "scan" ||
		r.Severity() != High || r.TokenSHA256 != "" || !strings.Contains(r.Version, "1.1.0") {
		t.Fatalf("internal report: %+v", r)
	}
	if opened, _, err := s.Scan(as); err != nil || len(opened) != 0 {
		t.Fatalf("second scan opened %d reports: %v", len(opened), err)
	}
	if _, err := s.SetState(r.ID, Triaged, "Upgrade planned."); err != nil {
		t.Fatal(err)
	}
}
