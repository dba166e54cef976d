package release_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hearth/internal/release"
	"hearth/internal/release/releasetest"
)

// untar extracts a bundle into dir and returns its entry names in order.
func untar(t *testing.T, b []byte, dir string) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || h.Mode != 0o644 {
			t.Fatalf("%s: type %c mode %o", h.Name, h.Typeflag, h.Mode)
		}
		names = append(names, h.Name)
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// An offline bundle holds exactly the documented files, and a TUF client reading only
// the bundle verifies the release with the device's trust anchor, across a root rotation.
func TestBundle(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	repo.Publish(t, "1.0.0", 0, program(t, 1000))
	if err := release.RotateKey(repo.Dir, release.RoleRoot, "", release.Options{}); err != nil {
		t.Fatal(err)
	}
	body := program(t, 50_000)
	pub := repo.Publish(t, "1.1.0", 0, body)
	var buf bytes.Buffer
	if err := release.Bundle(repo.Dir, "1.1.0", &buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	names := untar(t, buf.Bytes(), dir)
	v := repoVersions(t, repo.Dir)
	want := []string{"metadata/1.root.json", "metadata/2.root.json", "metadata/timestamp.json",
		fmt.Sprintf("metadata/%d.snapshot.json", v[1]), fmt.Sprintf("metadata/%d.targets.json", v[2]),
		"targets/" + pub.SHA256 + ".hearthd-1.1.0"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("bundle holds\n%v\nwant\n%v", names, want)
	}
	srv := &releasetest.Server{Server: httptest.NewServer(http.FileServer(http.Dir(dir)))}
	t.Cleanup(srv.Close)
	srv.MetadataURL, srv.TargetsURL = srv.URL+"/metadata/", srv.URL+"/targets/"
	up := client(t, srv, repo.TrustedRoot(t), t.TempDir())
	info, err := up.GetTargetInfo("hearthd-1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	delete(info.Hashes, "sha512") // the bundle carries the sha256-prefixed copy only
	if _, data, err := up.DownloadTarget(info, filepath.Join(t.TempDir(), "p"), ""); err != nil || !bytes.Equal(data, body) {
		t.Fatalf("program from the bundle: %v", err)
	}
}

func TestBundleRefuses(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	repo.Publish(t, "1.0.0", 0, program(t, 1000))
	if err := release.Bundle(repo.Dir, "2.0.0", io.Discard); !errors.Is(err, release.ErrNotFound) {
		t.Errorf("bundle of an unknown release: %v", err)
	}
	if err := releasetest.TamperTarget(repo.Dir, "1.0.0", releasetest.FlipByte); err != nil {
		t.Fatal(err)
	}
	if err := release.Bundle(repo.Dir, "1.0.0", io.Discard); err == nil || !strings.Contains(err.Error(), "signed hash") {
		t.Errorf("bundle of an altered program: %v", err)
	}
	if err := release.SetRollout(repo.Dir, "1.0.0", release.Rollout{Withdrawn: true}, release.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := release.Bundle(repo.Dir, "1.0.0", io.Discard); !errors.Is(err, release.ErrRefused) {
		t.Errorf("bundle of a withdrawn release: %v", err)
	}
}

// BenchmarkPublish64MiB publishes a 64 MiB program; B/op shows that the copy streams
// (memory does not grow with the artifact).
func BenchmarkPublish64MiB(b *testing.B) {
	repo := releasetest.New(b, release.InitOptions{})
	path := filepath.Join(b.TempDir(), "hearthd")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	// Mostly sparse: a header, a hole, a tail.
	f.Write(bytes.Repeat([]byte("hearthd"), 1<<12))
	f.WriteAt([]byte("end"), 64<<20-3)
	f.Close()
	b.SetBytes(64 << 20)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := release.Publish(repo.Dir, release.Release{Version: fmt.Sprintf("1.0.%d", i), ArtifactPath: path}, release.Options{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		old, _ := filepath.Glob(filepath.Join(repo.Dir, release.TargetsDir, "*"))
		for _, o := range old {
			os.Remove(o)
		}
		b.StartTimer()
	}
}
