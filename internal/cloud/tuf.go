package cloud

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hearth/internal/release"
)

// TUFHandler serves the vendor's TUF repository (internal/release) read-only to devices:
// V/tuf/repo/metadata/<file> at /tuf/metadata/<file> and V/tuf/repo/targets/<file> at
// /tuf/targets/<file>. Mount it at "/tuf/".
//
// Only regular files with plain names are served (letters, digits, ".", "_", "-", not
// starting with "."), opened within their directory (os.Root: no "..", no symbolic
// link out of it); there are no directory listings; anything else is 404, which a TUF
// client takes as "no newer root". Metadata is never cached (Cache-Control: no-store),
// so a device sees a new timestamp at once; programs are streamed from disk with their
// length and support ranges (http.ServeContent).
//
// The handler needs no key and no lock: the repository replaces its files atomically.
// Authenticity comes from the TUF signatures the device checks, not from this server.
//
// TS-0045 5.3.1.10: devices fetch updates from the vendor's server over TLS and verify
// every file against signed metadata.
func TUFHandler(vendorDir string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /tuf/metadata/{name}", repoFiles{
		dir: filepath.Join(vendorDir, release.MetadataDir), contentType: "application/json", cache: "no-store",
	})
	mux.Handle("GET /tuf/targets/{name}", repoFiles{
		dir: filepath.Join(vendorDir, release.TargetsDir), contentType: "application/octet-stream", cache: "no-cache", large: true,
	})
	mux.HandleFunc("GET /tuf/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such file")
	})
	return mux
}

// repoFiles serves the regular files of one directory.
type repoFiles struct {
	dir         string
	contentType string
	cache       string
	large       bool // programs: allow slow links time to fetch them
}

// minTransferRate is the slowest link a program download is given time for.
const minTransferRate = 32 << 10 // bytes per second

func (f repoFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !safeRepoName(name) {
		writeError(w, http.StatusNotFound, "not_found", "no such file")
		return
	}
	file, err := os.OpenInRoot(f.dir, name)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", "no such file")
		return
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil || !st.Mode().IsRegular() {
		writeError(w, http.StatusNotFound, "not_found", "no such file")
		return
	}
	if f.large {
		d := max(30*time.Second, time.Duration(st.Size()/minTransferRate)*time.Second)
		// Not every ResponseWriter supports deadlines (httptest's recorder); then
		// the server's own timeouts apply.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", f.cache)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", st.ModTime(), file)
}

// safeRepoName accepts the names the repository writes: N.root.json, timestamp.json,
// <hash>.hearthd-X.Y.Z. Temporary files (leading ".") and any path are refused.
func safeRepoName(name string) bool {
	if name == "" || len(name) > 255 || name[0] == '.' || strings.Contains(name, "..") {
		return false
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
