package sbom

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildTestProgram builds testdata/prog, a real Go program linking cyclonedx-go.
func buildTestProgram(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "prog")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/prog")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}
