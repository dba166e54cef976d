package release_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"hearth/internal/release"
	"hearth/internal/release/releaseinfo"
	"hearth/internal/release/releasetest"
)

// program returns n random bytes standing in for a hearthd build.
func program(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// newClient is a device's TUF client: go-tuf's updater, trusting root, caching in dir.
func newClient(srv *releasetest.Server, root []byte, dir string) (*updater.Updater, error) {
	cfg, err := config.New(srv.MetadataURL, root)
	if err != nil {
		return nil, err
	}
	cfg.RemoteTargetsURL = srv.TargetsURL
	cfg.LocalMetadataDir = filepath.Join(dir, "metadata")
	cfg.LocalTargetsDir = filepath.Join(dir, "targets")
	return updater.New(cfg)
}

func client(t *testing.T, srv *releasetest.Server, root []byte, dir string) *updater.Updater {
	t.Helper()
	up, err := newClient(srv, root, dir)
	if err != nil {
		t.Fatal(err)
	}
	return up
}

// repoVersions returns the versions of timestamp, snapshot and targets on disk.
func repoVersions(t *testing.T, vendorDir string) [3]int64 {
	t.Helper()
	dir := filepath.Join(vendorDir, release.MetadataDir)
	ts, err := new(metadata.Metadata[metadata.TimestampType]).FromFile(filepath.Join(dir, "timestamp.json"))
	if err != nil {
		t.Fatal(err)
	}
	sn := ts.Signed.Meta["snapshot.json"].Version
	snap, err := new(metadata.Metadata[metadata.SnapshotType]).FromFile(filepath.Join(dir, fmt.Sprintf("%d.snapshot.json", sn)))
	if err != nil {
		t.Fatal(err)
	}
	return [3]int64{ts.Signed.Version, sn, snap.Signed.Meta["targets.json"].Version}
}

// fetch refreshes a fresh client and downloads the release, verified.
func fetch(t *testing.T, srv *releasetest.Server, root []byte, dir, version string) ([]byte, error) {
	t.Helper()
	up := client(t, srv, root, dir)
	if err := up.Refresh(); err != nil {
		return nil, err
	}
	info, err := up.GetTargetInfo(releaseinfo.TargetName(version))
	if err != nil {
		return nil, err
	}
	_, data, err := up.DownloadTarget(info, filepath.Join(t.TempDir(), "download"), "")
	return data, err
}

// TS-0045 5.3.1.9, 5.3.1.10: a conforming TUF client (go-tuf's updater) trusting only
// 1.root.json verifies the repository and the release, through the HTTP handler the
// vendor services mount.
func TestClientVerifiesRelease(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	old := program(t, 10_000)
	repo.Publish(t, "1.0.0", 0, old)
	body := program(t, 100_000)
	pub := repo.Publish(t, "1.1.0", 3, body)
	srv := repo.Serve(t)

	up := client(t, srv, repo.TrustedRoot(t), t.TempDir())
	if err := up.Refresh(); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	info, err := up.GetTargetInfo("hearthd-1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	s256, s512 := sha256.Sum256(body), sha512.Sum512(body)
	if info.Length != int64(len(body)) || !bytes.Equal(info.Hashes["sha256"], s256[:]) || !bytes.Equal(info.Hashes["sha512"], s512[:]) {
		t.Fatalf("target info: length %d, hashes %x", info.Length, info.Hashes)
	}
	if pub.SHA256 != hex.EncodeToString(s256[:]) || pub.Length != int64(len(body)) || pub.SecurityVersion != 3 {
		t.Fatalf("Publish returned %+v", pub)
	}
	c, err := releaseinfo.ParseTarget("hearthd-1.1.0", *info.Custom)
	if err != nil || c.SecurityVersion != 3 || c.Rollout.Percent != 100 || c.Notes != "release 1.1.0" {
		t.Fatalf("signed description %+v, %v", c, err)
	}
	_, data, err := up.DownloadTarget(info, filepath.Join(t.TempDir(), "hearthd"), "")
	if err != nil || !bytes.Equal(data, body) {
		t.Fatalf("download: %v", err)
	}
	// go-tuf fetches the program under the prefix of whichever hash its map yields
	// first: both must be served.
	for _, sum := range []string{hex.EncodeToString(s256[:]), hex.EncodeToString(s512[:])} {
		resp, err := http.Get(srv.TargetsURL + sum + ".hearthd-1.1.0")
		if err != nil || resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(body)) {
			t.Fatalf("GET %s...: %v %v", sum[:12], resp, err)
		}
		resp.Body.Close()
	}
}

// The repository has the layout and permissions the device side and the operators rely on.
func TestInitLayout(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	v := repo.Dir
	for path, mode := range map[string]fs.FileMode{
		"offline/tuf/root.key": 0o600, "offline/tuf/targets.key": 0o600,
		"tuf/keys/snapshot.key": 0o600, "tuf/keys/timestamp.key": 0o600,
		"offline/tuf": 0o700 | fs.ModeDir, "tuf/keys": 0o700 | fs.ModeDir,
		"tuf/repo/metadata/1.root.json": 0o644, "tuf/repo/metadata/root.json": 0o644,
		"tuf/repo/metadata/1.targets.json": 0o644, "tuf/repo/metadata/1.snapshot.json": 0o644,
		"tuf/repo/metadata/timestamp.json": 0o644,
	} {
		st, err := os.Stat(filepath.Join(v, path))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), mode)
		}
	}
	root, err := new(metadata.Metadata[metadata.RootType]).FromBytes(repo.TrustedRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if !root.Signed.ConsistentSnapshot || root.Signed.Version != 1 {
		t.Fatalf("root: consistent_snapshot %v, version %d", root.Signed.ConsistentSnapshot, root.Signed.Version)
	}
	for _, k := range root.Signed.Keys {
		if k.Scheme != metadata.KeySchemeECDSA_SHA2_P256 {
			t.Errorf("default key scheme %s, want ecdsa-sha2-nistp256", k.Scheme)
		}
	}
	if len(root.Signed.Keys) != 4 {
		t.Errorf("root lists %d keys, want one per role", len(root.Signed.Keys))
	}
	if ts, err := release.Targets(v); err != nil || len(ts) != 0 {
		t.Fatalf("fresh repository lists %v, %v", ts, err)
	}
}

// Init never overwrites an initialised repository, so hearth-cloud init can always call it.
func TestInitRefusesTwice(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	key, _ := os.ReadFile(filepath.Join(repo.Dir, "offline/tuf/root.key"))
	root := repo.TrustedRoot(t)
	if err := release.Init(repo.Dir, release.InitOptions{}); !errors.Is(err, release.ErrExists) {
		t.Fatalf("second Init: %v, want ErrExists", err)
	}
	again, _ := os.ReadFile(filepath.Join(repo.Dir, "offline/tuf/root.key"))
	if !bytes.Equal(key, again) || !bytes.Equal(root, repo.TrustedRoot(t)) {
		t.Fatal("second Init changed the root key or root metadata")
	}
	if err := release.Init(filepath.Join(t.TempDir(), "missing"), release.InitOptions{}); err == nil {
		t.Fatal("Init into a missing vendor directory succeeded")
	}
	if err := release.Init(t.TempDir(), release.InitOptions{Algorithm: "rsa"}); err == nil {
		t.Fatal("Init with an unknown algorithm succeeded")
	}
	if _, err := release.Targets(t.TempDir()); !errors.Is(err, release.ErrNotInitialised) {
		t.Fatalf("Targets of an empty directory: %v, want ErrNotInitialised", err)
	}
}

// An interrupted Init (no 1.root.json yet) is started over.
func TestInitRecoversFromInterruption(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	if err := os.Remove(filepath.Join(repo.Dir, release.MetadataDir, "1.root.json")); err != nil {
		t.Fatal(err)
	}
	if err := release.Init(repo.Dir, release.InitOptions{}); err != nil {
		t.Fatalf("Init after an interrupted one: %v", err)
	}
	repo.Publish(t, "1.0.0", 0, program(t, 100))
	if _, err := fetch(t, repo.Serve(t), repo.TrustedRoot(t), t.TempDir(), "1.0.0"); err != nil {
		t.Fatal(err)
	}
}

func TestEd25519Repository(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{Algorithm: release.AlgorithmEd25519})
	body := program(t, 5000)
	repo.Publish(t, "1.0.0", 0, body)
	root, _ := new(metadata.Metadata[metadata.RootType]).FromBytes(repo.TrustedRoot(t))
	for _, k := range root.Signed.Keys {
		if k.Type != metadata.KeyTypeEd25519 {
			t.Fatalf("key type %s, want ed25519", k.Type)
		}
	}
	data, err := fetch(t, repo.Serve(t), repo.TrustedRoot(t), t.TempDir(), "1.0.0")
	if err != nil || !bytes.Equal(data, body) {
		t.Fatal(err)
	}
}
