package cloud_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"hearth/internal/cloud"
	"hearth/internal/release"
	"hearth/internal/release/releasetest"
)

func get(t *testing.T, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// TS-0045 5.3.1.10: a TUF client (go-tuf's updater) that trusts only the provisioned
// root refreshes from the handler and verifies a release it downloads.
func TestTUFHandlerServesClient(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	body := bytes.Repeat([]byte("hearthd"), 10_000)
	repo.Publish(t, "1.1.0", 0, body)
	srv := repo.Serve(t)
	cfg, err := config.New(srv.MetadataURL, repo.TrustedRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RemoteTargetsURL = srv.TargetsURL
	cfg.DisableLocalCache = true
	up, err := updater.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Refresh(); err != nil {
		t.Fatal(err)
	}
	info, err := up.GetTargetInfo("hearthd-1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, data, err := up.DownloadTarget(info, "", ""); err != nil || !bytes.Equal(data, body) {
		t.Fatalf("download: %v", err)
	}
}

func TestTUFHandlerHeaders(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	body := bytes.Repeat([]byte{1, 2, 3, 4}, 5000)
	pub := repo.Publish(t, "1.0.0", 0, body)
	srv := repo.Serve(t)

	resp, meta := get(t, "GET", srv.MetadataURL+"timestamp.json")
	disk, _ := os.ReadFile(filepath.Join(repo.Dir, release.MetadataDir, "timestamp.json"))
	if resp.StatusCode != 200 || !bytes.Equal(meta, disk) || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get("Content-Type") != "application/json" || resp.ContentLength != int64(len(disk)) {
		t.Fatalf("timestamp.json: %d %v, %d bytes", resp.StatusCode, resp.Header, len(meta))
	}
	url := srv.TargetsURL + pub.SHA256 + ".hearthd-1.0.0"
	resp, got := get(t, "GET", url)
	if sum := sha256.Sum256(got); resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != pub.SHA256 ||
		resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("program: %d %v", resp.StatusCode, resp.Header)
	}
	resp, part := get(t, "GET", url, "Range", "bytes=4-7")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, body[4:8]) {
		t.Fatalf("range: %d %v", resp.StatusCode, part)
	}
	resp, head := get(t, "HEAD", url)
	if resp.StatusCode != 200 || len(head) != 0 || resp.ContentLength != int64(len(body)) {
		t.Fatalf("HEAD: %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	if resp, _ := get(t, "POST", srv.MetadataURL+"timestamp.json"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
}

// Only the repository's regular files are served: no listings, no temporary files, no
// path out of the directory, no symbolic link leaving it; all of them 404, which a TUF
// client reads as "no such version".
func TestTUFHandlerServesOnlyRepositoryFiles(t *testing.T) {
	repo := releasetest.New(t, release.InitOptions{})
	meta := filepath.Join(repo.Dir, release.MetadataDir)
	os.WriteFile(filepath.Join(meta, ".timestamp.json.tmp-1"), []byte("partial"), 0o644)
	os.Mkdir(filepath.Join(meta, "sub"), 0o755)
	os.Symlink(filepath.Join(repo.Dir, release.OnlineKeyDir, "timestamp.key"), filepath.Join(meta, "link.json"))
	srv := httptest.NewServer(cloud.TUFHandler(repo.Dir))
	t.Cleanup(srv.Close)
	for _, p := range []string{
		"/tuf/metadata/", "/tuf/targets/", "/tuf/", "/tuf/metadata/2.root.json",
		"/tuf/metadata/.timestamp.json.tmp-1", "/tuf/metadata/sub", "/tuf/metadata/link.json",
		"/tuf/metadata/..%2F..%2Fkeys%2Ftimestamp.key", "/tuf/metadata/%2E%2E", "/tuf/metadata/a%2Fb",
		"/tuf/targets/..%2Fmetadata%2Froot.json", "/tuf/keys/timestamp.key",
	} {
		resp, body := get(t, "GET", srv.URL+p)
		if resp.StatusCode != http.StatusNotFound || bytes.Contains(body, []byte("PRIVATE")) {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	// The control: the same handler does serve a real file.
	if resp, _ := get(t, "GET", srv.URL+"/tuf/metadata/1.root.json"); resp.StatusCode != 200 {
		t.Fatalf("1.root.json: %d", resp.StatusCode)
	}
}
