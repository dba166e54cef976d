// Package releasetest builds vendor TUF repositories for tests, and puts them in the
// states an attacker can put in front of a device: an expired timestamp, metadata
// mixed from two repository states, an altered program, an older release offered as
// the newest, a replayed timestamp, a release signed with a security version lower than
// its predecessor's.
//
// It is test support for both sides of updates: the vendor's (internal/release,
// internal/cloud) and the device's (internal/update), whose tests check that each of
// these states is refused. It is never linked into a program.
//
// The fixtures change a vendor directory in place, through its real keys: they act as
// the attacker described in each function's comment. Call them while no other change
// to the repository runs.
package releasetest

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hearth/internal/cloud"
	"hearth/internal/release"
)

// Repo is a vendor directory holding a fresh TUF repository.
type Repo struct {
	Dir string // the vendor directory
}

// New initialises a repository in a fresh temporary vendor directory.
func New(tb testing.TB, opts release.InitOptions) *Repo {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "vendor")
	if err := os.Mkdir(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := release.Init(dir, opts); err != nil {
		tb.Fatal(err)
	}
	return &Repo{Dir: dir}
}

// Publish releases program as version with the given security version (0: keep the
// previous one), offered to the whole fleet.
func (r *Repo) Publish(tb testing.TB, version string, securityVersion int, program []byte) release.Target {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "hearthd")
	if err := os.WriteFile(path, program, 0o755); err != nil {
		tb.Fatal(err)
	}
	t, err := release.Publish(r.Dir, release.Release{
		Version: version, SecurityVersion: securityVersion, ArtifactPath: path,
		Notes: "release " + version, Rollout: release.Rollout{Percent: 100},
	}, release.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// TrustedRoot is the repository's 1.root.json, the anchor a device is provisioned with.
func (r *Repo) TrustedRoot(tb testing.TB) []byte {
	tb.Helper()
	raw, err := release.TrustedRoot(r.Dir)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// Server serves a repository over HTTP on loopback with cloud.TUFHandler.
type Server struct {
	*httptest.Server
	MetadataURL string // base URL of the metadata, for go-tuf's RemoteMetadataURL
	TargetsURL  string // base URL of the programs, for go-tuf's RemoteTargetsURL
}

// Serve starts a server for the repository, closed when the test ends.
func (r *Repo) Serve(tb testing.TB) *Server {
	tb.Helper()
	srv := httptest.NewServer(cloud.TUFHandler(r.Dir))
	tb.Cleanup(srv.Close)
	return &Server{Server: srv, MetadataURL: srv.URL + "/tuf/metadata/", TargetsURL: srv.URL + "/tuf/targets/"}
}

// past is a time well before any metadata a test signs expires.
func past() time.Time { return time.Now().Add(-48 * time.Hour) }
