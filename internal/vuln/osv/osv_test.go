package osv

import (
	"os"
	"testing"
)

// TS-0045 5.2.1.3: advisories match the affected module versions only.
func TestAffects(t *testing.T) {
	as, err := LoadDir("../testdata/advisories")
	if err != nil || len(as) != 4 {
		t.Fatalf("LoadDir: %d %v", len(as), err)
	}
	byID := map[string]Advisory{}
	for _, a := range as {
		byID[a.ID] = a
	}
	const cdx = "github.com/CycloneDX/cyclonedx-go"
	for _, tc := range []struct {
		id, name, version string
		want              bool
	}{
		{"GO-2099-0001", cdx, "v0.10.0", true},
		{"GO-2099-0001", cdx, "v0.99.0", false},
		{"GO-2099-0001", cdx, "v1.0.0", false},
		{"GO-2099-0001", cdx, "v0.0.0-20200101000000-abcdefabcdef", true},
		{"GO-2099-0001", "github.com/other/mod", "v0.1.0", false},
		{"GO-2099-0001", cdx, "not-a-version", false},
		{"GO-2099-0002", cdx, "v0.1.5", true},
		{"GO-2099-0002", cdx, "v0.2.0", false},
		{"GO-2099-0002", cdx, "v0.0.9", false},
		{"GHSA-xxxx-yyyy-zzzz", cdx, "v0.10.0", false},
		{"GO-2099-0003", "stdlib", "v1.21.4", true},
		{"GO-2099-0003", "stdlib", "v1.21.5", false},
		{"GO-2099-0003", "stdlib", "v1.19.2", true},
		{"GO-2099-0003", "stdlib", "v1.19.3", false},
	} {
		if got := byID[tc.id].Affects(tc.name, tc.version); got != tc.want {
			t.Errorf("%s affects %s %s = %v, want %v", tc.id, tc.name, tc.version, got, tc.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, bad := range []string{`{}`, `{"id":"x"}`, `{"id":"../x","affected":[{}]}`, `{"id":"x","affected":"all"}`, `[`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("../testdata/advisories/GO-2099-0001.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, "v0.10.0")
	f.Add(b[:len(b)/2], "v1.0.0")
	flipped := append([]byte(nil), b...)
	flipped[len(flipped)/3] ^= 0x01
	f.Add(flipped, "0.1")
	f.Add([]byte(`{"id":"x","affected":[{"package":{"ecosystem":"Go","name":"m"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"},{"introduced":"0"}]}]}]}`), "v0.5.0")
	f.Fuzz(func(t *testing.T, b []byte, version string) {
		a, err := Parse(b)
		if err != nil {
			return
		}
		if a.ID == "" || len(a.Affected) == 0 {
			t.Fatalf("accepted %+v", a)
		}
		for _, af := range a.Affected {
			a.Affects(af.Package.Name, version)
		}
		if a.Affects("", "") {
			t.Fatal("an empty version is affected")
		}
	})
}
