package main

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hearth/internal/release"
)

// run executes hearth-cloud with args and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRoot()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("hearth-cloud %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// The release workflow through the command line: initialise, release, roll out,
// list, bundle, rotate.
func TestReleaseCommands(t *testing.T) {
	v := t.TempDir()
	art := filepath.Join(t.TempDir(), "hearthd")
	if err := os.WriteFile(art, bytes.Repeat([]byte("program"), 1000), 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "tuf-init", "--dir", v)
	if _, err := run(t, "tuf-init", "--dir", v); err == nil {
		t.Fatal("second tuf-init succeeded")
	}
	out := mustRun(t, "release", "--dir", v, "--version", "1.1.0", "--artifact", art, "--notes", "Faster start",
		"--fixes", "CVE-2026-0001", "--interrupts=true", "--rollout", "10", "--security-version", "3")
	if !strings.Contains(out, "hearthd-1.1.0") || !strings.Contains(out, "security version 3") {
		t.Fatalf("release output: %s", out)
	}
	if _, err := run(t, "release", "--dir", v, "--version", "1.0.0", "--artifact", art, "--notes", "old"); err == nil {
		t.Fatal("releasing an older version succeeded")
	}
	if _, err := run(t, "release", "--dir", v, "--version", "1.2.0", "--artifact", art); err == nil {
		t.Fatal("release without notes succeeded")
	}
	mustRun(t, "rollout", "--dir", v, "--version", "1.1.0", "--percent", "50")
	mustRun(t, "rollout", "--dir", v, "--version", "1.1.0", "--pause")
	for _, bad := range [][]string{
		{"--percent", "20", "--pause"}, {}, {"--percent", "101"},
	} {
		if _, err := run(t, append([]string{"rollout", "--dir", v, "--version", "1.1.0"}, bad...)...); err == nil {
			t.Errorf("rollout %v succeeded", bad)
		}
	}
	ts, err := release.Targets(v)
	if err != nil || len(ts) != 1 {
		t.Fatal(ts, err)
	}
	if got := ts[0]; got.Rollout != (release.Rollout{Percent: 50, Paused: true}) || !got.Interrupts || got.Fixes != "CVE-2026-0001" || got.Notes != "Faster start" {
		t.Fatalf("release after rollout changes: %+v", got)
	}
	mustRun(t, "rollout", "--dir", v, "--version", "1.1.0", "--resume")
	list := mustRun(t, "releases", "--dir", v)
	if !strings.Contains(list, "1.1.0") || !strings.Contains(list, "50% of devices") || strings.Contains(list, "paused") {
		t.Fatalf("releases:\n%s", list)
	}
	bundle := filepath.Join(t.TempDir(), "hearthd-1.1.0.tar")
	mustRun(t, "bundle", "--dir", v, "--version", "1.1.0", "--out", bundle)
	raw, _ := os.ReadFile(bundle)
	if h, err := tar.NewReader(bytes.NewReader(raw)).Next(); err != nil || h.Name != "metadata/1.root.json" {
		t.Fatalf("bundle starts with %v, %v", h, err)
	}
	mustRun(t, "rotate-key", "--dir", v, "--role", "timestamp", "--algorithm", "ed25519")
	if _, err := os.Stat(filepath.Join(v, release.MetadataDir, "2.root.json")); err != nil {
		t.Fatal("rotate-key wrote no new root")
	}
	mustRun(t, "rollout", "--dir", v, "--version", "1.1.0", "--withdraw")
	if _, err := run(t, "bundle", "--dir", v, "--version", "1.1.0", "--out", bundle+"2"); err == nil {
		t.Fatal("bundle of a withdrawn release succeeded")
	}
	if entries, _ := os.ReadDir(filepath.Dir(bundle)); len(entries) != 1 {
		t.Fatalf("a refused bundle left files: %v", entries)
	}
}
