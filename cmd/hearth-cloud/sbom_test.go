package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TS-0045 5.2.1.3: releases get SBOMs, scans open reports.
// A release of a real Go program gets its SBOM, and the scan finds the fixture
// advisory's component in it, once.
func TestSBOMAndScanCommands(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "hearthd")
	if b, err := exec.Command("go", "build", "-o", prog, "../../internal/vuln/sbom/testdata/prog").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	out := mustRun(t, "sbom", "--artifact", prog, "--version", "2.0.0")
	if !strings.Contains(out, `"bomFormat": "CycloneDX"`) || !strings.Contains(out, "pkg:golang/github.com/CycloneDX/cyclonedx-go@v") {
		t.Fatalf("sbom:\n%s", out)
	}
	fake := filepath.Join(t.TempDir(), "fake")
	os.WriteFile(fake, []byte("not a program"), 0o755)
	if _, err := run(t, "sbom", "--artifact", fake); err == nil {
		t.Fatal("sbom of a file without build information")
	}
	v := t.TempDir()
	mustRun(t, "tuf-init", "--dir", v)
	out = mustRun(t, "release", "--dir", v, "--version", "2.0.0", "--artifact", prog, "--notes", "n")
	if _, err := os.Stat(filepath.Join(v, "sbom", "hearthd-2.0.0.cdx.json")); err != nil || !strings.Contains(out, "SBOM ") {
		t.Fatalf("release wrote no SBOM: %v\n%s", err, out)
	}
	adv := "../../internal/vuln/testdata/advisories"
	out = mustRun(t, "vulns", "scan", "--dir", v, "--advisories", adv)
	if !strings.Contains(out, "GO-2099-0001 affects github.com/CycloneDX/cyclonedx-go") || !strings.Contains(out, "1 new reports") {
		t.Fatalf("scan:\n%s", out)
	}
	if out = mustRun(t, "vulns", "scan", "--dir", v, "--advisories", adv); !strings.Contains(out, "0 new reports") {
		t.Fatalf("second scan:\n%s", out)
	}
	if out = mustRun(t, "vulns", "list", "--dir", v); !strings.Contains(out, "GO-2099-0001 in github.com/CycloneDX/cyclonedx-go") || !strings.Contains(out, "scan") {
		t.Fatalf("list:\n%s", out)
	}
	if _, err := run(t, "vulns", "scan", "--dir", v); err == nil {
		t.Fatal("scan without --advisories")
	}
}
