package privacy

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"hearth/internal/atomicfile"
)

var update = flag.Bool("update", false, "rewrite docs/PRIVACY.md from the inventory")

const docPath = "../../docs/PRIVACY.md"

// TS-0045 5.7.1.6: the manual's deletion instructions and data description are
// generated, so they cannot drift. TestPrivacyDocCurrent fails when docs/PRIVACY.md no
// longer matches the inventory.
func TestPrivacyDocCurrent(t *testing.T) {
	got := RenderDoc()
	if *update {
		if err := atomicfile.Write(docPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(docPath)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("docs/PRIVACY.md is stale or missing (%v); regenerate it with:\n\t%s", err, DocCommand)
	}
}
