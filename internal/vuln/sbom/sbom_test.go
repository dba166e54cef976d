package sbom

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TS-0045 5.2.1.3, 5.2.2.9: a release lists its third-party components.
// A real Go program's build information becomes its SBOM.
func TestGenerateFromGoProgram(t *testing.T) {
	exe := buildTestProgram(t)
	bom, err := Generate(exe, "1.2.3", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, bom); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"bomFormat": "CycloneDX"`, `"specVersion"`, `"pkg:golang/stdlib@v1.`,
		`"pkg:golang/github.com/CycloneDX/cyclonedx-go@v`, `"go:module:sum"`, `"alg": "SHA-256"`, `"version": "1.2.3"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("SBOM lacks %s", want)
		}
	}
	program, comps, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range comps {
		found = found || c.Name == "github.com/CycloneDX/cyclonedx-go"
	}
	if !found || !strings.HasSuffix(program, " 1.2.3") {
		t.Fatalf("read back %q %+v", program, comps)
	}
}

func TestGenerateRefusesNonGo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fake")
	os.WriteFile(p, []byte("not a program"), 0o755)
	if _, err := Generate(p, "1.0.0", time.Now()); err == nil {
		t.Fatal("SBOM of a file without build information")
	}
}

func TestParsePURL(t *testing.T) {
	for in, want := range map[string][2]string{
		"pkg:golang/golang.org/x/mod@v0.42.0":        {"golang.org/x/mod", "v0.42.0"},
		"pkg:golang/stdlib@v1.26.8?type=module#frag": {"stdlib", "v1.26.8"},
		"pkg:npm/left-pad@1.0.0":                     {"", ""},
		"pkg:golang/x":                               {"", ""},
	} {
		n, v, _ := ParsePURL(in)
		if n != want[0] || v != want[1] {
			t.Errorf("ParsePURL(%q) = %q %q", in, n, v)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"m","purl":"pkg:golang/m@v1.0.0"}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX"`))
	f.Add([]byte(`{"components":[{"purl":"pkg:golang/@"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, comps, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, c := range comps {
			if c.Name == "" || c.Version == "" {
				t.Fatalf("component %+v", c)
			}
		}
	})
}
