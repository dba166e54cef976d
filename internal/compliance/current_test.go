package compliance

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"hearth/internal/atomicfile"
)

var update = flag.Bool("update", false, "rewrite docs/COMPLIANCE.md from the repository")

// matrixPath is docs/COMPLIANCE.md seen from this package's directory.
const matrixPath = "../../docs/COMPLIANCE.md"

// TestComplianceMatrixCurrent fails when docs/COMPLIANCE.md no longer matches
// the catalogue, the declaration and the tags; with -update it rewrites it.
func TestComplianceMatrixCurrent(t *testing.T) {
	got, err := Generate("../..")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		writeMatrix(t, got)
		return
	}
	want, err := os.ReadFile(matrixPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("docs/COMPLIANCE.md is missing; generate it with:\n\t%s", Command)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/COMPLIANCE.md is stale: %s\nregenerate it with:\n\t%s", firstDiff(want, got), Command)
	}
}

func writeMatrix(t *testing.T, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(matrixPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(matrixPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// firstDiff describes the first line where have and want differ.
func firstDiff(have, want []byte) string {
	h := bytes.Split(have, []byte("\n"))
	w := bytes.Split(want, []byte("\n"))
	for i := 0; i < max(len(h), len(w)); i++ {
		var hl, wl []byte
		if i < len(h) {
			hl = h[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if !bytes.Equal(hl, wl) {
			return fmt.Sprintf("line %d is\n\t%s\nbut should be\n\t%s", i+1, hl, wl)
		}
	}
	return "the files differ"
}

func TestFirstDiff(t *testing.T) {
	tests := []struct {
		have, want, diff string
	}{
		{"a\nb\n", "a\nc\n", "line 2 is\n\tb\nbut should be\n\tc"},
		{"a\n", "a\nb\n", "line 2 is\n\t\nbut should be\n\tb"},
	}
	for _, tt := range tests {
		got := firstDiff([]byte(tt.have), []byte(tt.want))
		if got != tt.diff {
			t.Errorf("firstDiff(%q, %q) = %q, want %q", tt.have, tt.want, got, tt.diff)
		}
	}
}
