package main

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden are packages that must never be linked into the device: vendor signing and
// provisioning, the assessor and its catalogue, repository tooling, and debug endpoints.
var forbidden = []string{
	"hearth/internal/provision",
	"hearth/internal/identity/vendorca",
	"hearth/internal/release",
	"hearth/internal/standard",
	"hearth/internal/compliance",
	"hearth/cmd/",
	"net/http/pprof",
	"expvar",
	"github.com/spf13/cobra",
}

func deps(t *testing.T, tags string) []string {
	t.Helper()
	args := []string{"list", "-deps"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	out, err := exec.Command("go", append(args, ".")...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return strings.Fields(string(out))
}

// TS-0045 5.2.2.6, 5.2.2.4: the device binary carries only what the device needs; no
// vendor-side or assessor code, no debug endpoint.
func TestDeviceBinaryDependencies(t *testing.T) {
	for _, tags := range []string{"", "release"} {
		for _, p := range deps(t, tags) {
			for _, f := range forbidden {
				if p != "hearth/cmd/hearthd" && (p == f || strings.HasPrefix(p, f) && strings.HasSuffix(f, "/")) {
					t.Errorf("hearthd (tags %q) links %s", tags, p)
				}
			}
		}
	}
}

// The debug build does include pprof: proof the test above can fail.
func TestDebugBuildIsTheOnlyOneWithPprof(t *testing.T) {
	found := false
	for _, p := range deps(t, "hearthdebug") {
		found = found || p == "net/http/pprof"
	}
	if !found {
		t.Fatal("the hearthdebug build lacks pprof; the dependency test is not checking what it claims")
	}
}
