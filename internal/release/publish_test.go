package release_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/release"
	"hearth/internal/release/releaseinfo"
	"hearth/internal/release/releasetest"
)

func artifact(t testing.TB, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hearthd")
	if err := os.WriteFile(p, program(t, n), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// snapshotOf lists the repository's files, to show that a refused change wrote nothing.
func snapshotOf(t *testing.T, vendorDir string) string {
	t.Helper()
	var names []string
	for _, d := range []string{release.MetadataDir, release.TargetsDir} {
		entries, err := os.ReadDir(filepath.Join(vendorDir, d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			names = append(names, e.Name())
		}
	}
	ts, _ := os.ReadFile(filepath.Join(vendorDir, release.MetadataDir, "timestamp.json"))
	return strings.Join(names, " ") + string(ts)
}

// TS-0045 5.3.1.2: versions and security versions only increase; the security version
// carries over when not given.
func TestPublishRules(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	if got := repo.Publish(t, "1.0.0", 0, program(t, 100)); got.SecurityVersion != 1 {
		t.Fatalf("first release security version %d, want 1", got.SecurityVersion)
	}
	if got := repo.Publish(t, "1.1.0", 2, program(t, 100)); got.SecurityVersion != 2 {
		t.Fatalf("security version %d, want 2", got.SecurityVersion)
	}
	if got := repo.Publish(t, "1.1.1", 0, program(t, 100)); got.SecurityVersion != 2 {
		t.Fatalf("security version not carried over: %d", got.SecurityVersion)
	}
	before := snapshotOf(t, repo.Dir)
	for _, tc := range []struct {
		name string
		rel  release.Release
	}{
		{"same version", release.Release{Version: "1.1.1"}},
		{"older version", release.Release{Version: "1.0.1", SecurityVersion: 1}},
		{"older version, same security version", release.Release{Version: "1.0.5", SecurityVersion: 2}},
		{"lower security version", release.Release{Version: "1.2.0", SecurityVersion: 1}},
		{"not semver", release.Release{Version: "1.2"}},
		{"prefixed", release.Release{Version: "v1.2.0"}},
		{"rollout over 100", release.Release{Version: "1.2.0", Rollout: release.Rollout{Percent: 101}}},
		{"notes too long", release.Release{Version: "1.2.0", Notes: strings.Repeat("x", 64<<10+1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.rel.ArtifactPath = artifact(t, 100)
			if _, err := release.Publish(repo.Dir, tc.rel, release.Options{}); !errors.Is(err, release.ErrRefused) {
				t.Fatalf("Publish: %v, want ErrRefused", err)
			}
		})
	}
	for name, path := range map[string]string{"missing": filepath.Join(t.TempDir(), "none"), "empty": artifact(t, 0), "directory": t.TempDir()} {
		if _, err := release.Publish(repo.Dir, release.Release{Version: "1.2.0", ArtifactPath: path}, release.Options{}); err == nil {
			t.Errorf("Publish of a %s artifact succeeded", name)
		}
	}
	if after := snapshotOf(t, repo.Dir); after != before {
		t.Fatal("a refused release changed the repository")
	}
	ts, err := release.Targets(repo.Dir)
	if err != nil || len(ts) != 3 || ts[0].Version != "1.0.0" || ts[2].Version != "1.1.1" {
		t.Fatalf("Targets = %+v, %v", ts, err)
	}
}

// A release that fails to sign leaves no program behind in the repository.
func TestPublishCleansUpOnFailure(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	before := snapshotOf(t, repo.Dir)
	key := filepath.Join(repo.Dir, release.OnlineKeyDir, "timestamp.key")
	if err := os.Rename(key, key+".away"); err != nil {
		t.Fatal(err)
	}
	if _, err := release.Publish(repo.Dir, release.Release{Version: "1.0.0", ArtifactPath: artifact(t, 1000)}, release.Options{}); err == nil {
		t.Fatal("Publish without the timestamp key succeeded")
	}
	if after := snapshotOf(t, repo.Dir); after != before {
		t.Fatalf("failed release left files:\n%s\n%s", before, after)
	}
}

// A key file that root does not trust for the role is refused before anything is signed.
func TestForeignKeyRefused(t *testing.T) {
	a := releasetest.New(t, release.InitOptions{})
	b := releasetest.New(t, release.InitOptions{})
	foreign, _ := os.ReadFile(filepath.Join(b.Dir, release.OfflineKeyDir, "targets.key"))
	if err := os.WriteFile(filepath.Join(a.Dir, release.OfflineKeyDir, "targets.key"), foreign, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := release.Publish(a.Dir, release.Release{Version: "1.0.0", ArtifactPath: artifact(t, 10)}, release.Options{})
	if err == nil || !strings.Contains(err.Error(), "not the one root") {
		t.Fatalf("Publish with another repository's targets key: %v", err)
	}
}

// TS-0045 5.6.1.3: the rollout of a release is widened, paused and withdrawn by signed
// metadata; percentages outside 0-100 are refused.
func TestSetRollout(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	repo.Publish(t, "1.0.0", 0, program(t, 100))
	for _, p := range []int{-1, 101} {
		if err := release.SetRollout(repo.Dir, "1.0.0", release.Rollout{Percent: p}, release.Options{}); !errors.Is(err, release.ErrRefused) {
			t.Errorf("percent %d: %v, want ErrRefused", p, err)
		}
	}
	if err := release.SetRollout(repo.Dir, "9.9.9", release.Rollout{Percent: 10}, release.Options{}); !errors.Is(err, release.ErrNotFound) {
		t.Errorf("unknown release: %v, want ErrNotFound", err)
	}
	for _, ro := range []release.Rollout{{Percent: 10}, {Percent: 50, Paused: true}, {Percent: 50, Withdrawn: true}} {
		if err := release.SetRollout(repo.Dir, "1.0.0", ro, release.Options{}); err != nil {
			t.Fatal(err)
		}
		up := client(t, repo.Serve(t), repo.TrustedRoot(t), t.TempDir())
		info, err := up.GetTargetInfo("hearthd-1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		ts, _ := release.Targets(repo.Dir)
		signed, err := releaseinfo.ParseCustom(*info.Custom)
		if err != nil || ts[0].Rollout != ro || signed.Rollout != ro {
			t.Fatalf("rollout %+v, signed %+v (%v); want %+v", ts[0].Rollout, signed.Rollout, err, ro)
		}
	}
}

// RefreshTimestamp signs a new timestamp each time, and a new snapshot only when the
// current one expires within a day.
func TestRefreshTimestamp(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	now := time.Now()
	versions := func() (ts, sn int64) {
		v := repoVersions(t, repo.Dir)
		return v[0], v[1]
	}
	if err := release.RefreshTimestamp(repo.Dir, release.Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	if ts, sn := versions(); ts != 2 || sn != 1 {
		t.Fatalf("after a refresh: timestamp %d, snapshot %d; want 2, 1", ts, sn)
	}
	if err := release.RefreshTimestamp(repo.Dir, release.Options{Now: now.Add(6*24*time.Hour + time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ts, sn := versions(); ts != 3 || sn != 2 {
		t.Fatalf("near snapshot expiry: timestamp %d, snapshot %d; want 3, 2", ts, sn)
	}
	// Only online keys are needed: serve holds no offline key.
	if err := os.RemoveAll(filepath.Join(repo.Dir, release.OfflineKeyDir)); err != nil {
		t.Fatal(err)
	}
	if err := release.RefreshTimestamp(repo.Dir, release.Options{}); err != nil {
		t.Fatalf("refresh without offline keys: %v", err)
	}
}

// A timestamp refresh (serve) running while releases are signed (the offline tools)
// leaves a valid repository with every change, and a client reading meanwhile always
// finds a consistent state.
func TestConcurrentRefreshAndPublish(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	srv := repo.Serve(t)
	root := repo.TrustedRoot(t)
	art := artifact(t, 1000)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range 5 {
			_, err := release.Publish(repo.Dir, release.Release{Version: fmt.Sprintf("1.0.%d", i), ArtifactPath: art, Rollout: release.Rollout{Percent: 100}}, release.Options{})
			errs <- err
		}
	}()
	go func() {
		defer wg.Done()
		for range 10 {
			errs <- release.RefreshTimestamp(repo.Dir, release.Options{})
		}
	}()
	stop := make(chan struct{})
	readerDone := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				readerDone <- n
				return
			default:
			}
			up, err := newClient(srv, root, t.TempDir())
			if err == nil {
				err = up.Refresh()
			}
			if err != nil {
				errs <- fmt.Errorf("client refresh during changes: %w", err)
			}
			n++
		}
	}()
	wg.Wait()
	close(stop)
	t.Logf("client refreshed %d times while the repository changed", <-readerDone)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if v := repoVersions(t, repo.Dir); v[0] != 1+5+10 || v[2] != 1+5 {
		t.Fatalf("timestamp version %d, targets %d; want 16, 6: a change was lost", v[0], v[2])
	}
	for i := range 5 {
		if _, err := fetch(t, srv, root, t.TempDir(), fmt.Sprintf("1.0.%d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// The repository never signs targets metadata larger than clients accept: a release
// that would push it over is refused, and the repository stays readable.
func TestTargetsMetadataWithinClientLimit(t *testing.T) {
	defer release.SetMaxTargetsSize(400_000)()
	repo := releasetest.New(t, release.InitOptions{})
	art := artifact(t, 10)
	long := strings.Repeat("n", releaseinfo.MaxText)
	var err error
	n := 0
	for ; n < 10 && err == nil; n++ {
		_, err = release.Publish(repo.Dir, release.Release{Version: fmt.Sprintf("1.0.%d", n), ArtifactPath: art, Notes: long, Fixes: long}, release.Options{})
	}
	if !errors.Is(err, release.ErrRefused) || !strings.Contains(err.Error(), "targets.json") {
		t.Fatalf("after %d releases with the longest notes: %v, want a refusal for size", n, err)
	}
	if _, err := fetch(t, repo.Serve(t), repo.TrustedRoot(t), t.TempDir(), "1.0.0"); err != nil {
		t.Fatalf("client after the refusal: %v", err)
	}
}
