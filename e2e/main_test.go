// Package e2e tests Hearth the way a test lab attacks a device (shared LAB-TESTS.md):
// real binaries built as documented, real TLS, real clients (curl, openssl s_client),
// compared with the declaration in declaration/hearthd.json.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Binaries built once for the whole package.
var bin struct {
	dir string
	// hearthd is the release build (docs/BUILD.md); hearthdDev a development build that
	// accepts --insecure-... flags, for the short lock period test.
	hearthd, hearthdDev, cloud, demo string
	// hearthd110 is the release build stamped 1.1.0, the update the update tests install;
	// launcher is hearth-launcher.
	hearthd110, launcher string
	// sensor is hearth-sensor; ts0045 the assessor.
	sensor, ts0045 string
}

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "hearth-e2e-bin-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bin.dir = dir
	bin.hearthd = filepath.Join(dir, "hearthd")
	bin.hearthdDev = filepath.Join(dir, "hearthd-dev")
	bin.cloud = filepath.Join(dir, "hearth-cloud")
	bin.demo = filepath.Join(dir, "hearth-demo")
	bin.hearthd110 = filepath.Join(dir, "hearthd-1.1.0")
	bin.launcher = filepath.Join(dir, "hearth-launcher")
	bin.sensor = filepath.Join(dir, "hearth-sensor")
	bin.ts0045 = filepath.Join(dir, "ts0045")
	builds := []struct {
		out, pkg string
		env      []string
		args     []string
	}{
		// The release build command of docs/BUILD.md.
		{bin.hearthd, "./cmd/hearthd", []string{"CGO_ENABLED=0", "GOFIPS140=v1.0.0"}, []string{"-tags", "release", "-trimpath", "-ldflags", "-s -w -X hearth/internal/buildinfo.version=1.0.0"}},
		{bin.hearthd110, "./cmd/hearthd", []string{"CGO_ENABLED=0", "GOFIPS140=v1.0.0"}, []string{"-tags", "release", "-trimpath", "-ldflags", "-s -w -X hearth/internal/buildinfo.version=1.1.0"}},
		{bin.launcher, "./cmd/hearth-launcher", []string{"CGO_ENABLED=0", "GOFIPS140=v1.0.0"}, []string{"-tags", "release", "-trimpath", "-ldflags", "-s -w"}},
		{bin.hearthdDev, "./cmd/hearthd", nil, nil},
		{bin.cloud, "./cmd/hearth-cloud", nil, nil},
		{bin.demo, "./cmd/hearth-demo", nil, nil},
		{bin.sensor, "./cmd/hearth-sensor", nil, nil},
		{bin.ts0045, "./cmd/ts0045", nil, nil},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(builds))
	sem := make(chan struct{}, runtime.NumCPU())
	for i, b := range builds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			args := append([]string{"build", "-o", b.out}, b.args...)
			cmd := exec.Command("go", append(args, b.pkg)...)
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), b.env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return m.Run(), nil
}

// need skips nothing: it fails the test when a required tool is missing, so a machine
// without curl or openssl cannot pass silently.
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is required for this test (.ci/run installs it): %v", tool, err)
	}
	return p
}
