package update

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Offline updates: a bundle made by `hearth-cloud bundle` (a tar of the repository's
// metadata and one program, see internal/release) carried on a USB stick or uploaded in
// the web UI. It is verified exactly like an online update: go-tuf refreshes from the
// bundle's metadata (root chain, expiry, versions against the device's cached metadata,
// consistency), then the program streams into the inactive slot through its signed hash.
//
// TS-0045 5.3.1.9: an update file from any source is checked for authenticity and
// integrity before it can run.

// Limits of a bundle.
const (
	maxBundleMetadata = 5 << 20
	maxBundleProgram  = 512 << 20
	maxBundleFiles    = 512
)

// ErrBadBundle reports a bundle that is not what hearth-cloud bundle makes.
var ErrBadBundle = errors.New("update: not a valid update bundle")

var (
	bundleMetaRE   = regexp.MustCompile(`^metadata/([0-9]+\.(root|snapshot|targets)|timestamp)\.json$`)
	bundleTargetRE = regexp.MustCompile(`^targets/[0-9a-f]{64}\.(hearthd-[0-9]+\.[0-9]+\.[0-9]+)$`)
)

// OfferBundle unpacks and verifies a bundle and returns its release as an offer, subject
// to the same rules as an online one except the staged rollout (the owner chose it).
func (a *Agent) OfferBundle(ctx context.Context, r io.Reader) (Offer, error) {
	dir := filepath.Join(a.cfg.DataDir, "update", "bundle")
	if err := os.RemoveAll(dir); err != nil {
		return Offer{}, fmt.Errorf("update: %w", err)
	}
	program, target, err := unpack(r, dir)
	if err != nil {
		return Offer{}, err
	}
	up, err := a.refreshFrom(&bundleFetcher{dir: dir}, "bundle://local/metadata")
	if err != nil {
		return Offer{}, err
	}
	targets := up.GetTrustedMetadataSet().Targets[metadata.TARGETS]
	raw, err := targets.ToBytes(false)
	if err != nil {
		return Offer{}, fmt.Errorf("update: %w", err)
	}
	tf, ok := targets.Signed.Targets[target]
	if !ok {
		return Offer{}, fmt.Errorf("%w: %s is not in its signed metadata", ErrBadBundle, target)
	}
	o, err := a.choose(map[string]*metadata.TargetFiles{target: tf}, raw, false)
	if err != nil {
		return Offer{}, err
	}
	o.local = program
	return o, nil
}

// unpack extracts the bundle's files with their sizes and names checked, and returns the
// program's path and target name.
func unpack(r io.Reader, dir string) (program, target string, err error) {
	if err := os.MkdirAll(filepath.Join(dir, "metadata"), 0o700); err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "targets"), 0o700); err != nil {
		return "", "", err
	}
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil || n >= maxBundleFiles || h.Typeflag != tar.TypeReg {
			return "", "", fmt.Errorf("%w: %v", ErrBadBundle, err)
		}
		limit := int64(maxBundleMetadata)
		if m := bundleTargetRE.FindStringSubmatch(h.Name); m != nil {
			if target != "" {
				return "", "", fmt.Errorf("%w: more than one program", ErrBadBundle)
			}
			target, program, limit = m[1], filepath.Join(dir, h.Name), maxBundleProgram
		} else if !bundleMetaRE.MatchString(h.Name) {
			return "", "", fmt.Errorf("%w: unexpected file %q", ErrBadBundle, h.Name)
		}
		if h.Size > limit {
			return "", "", fmt.Errorf("%w: %s is too large", ErrBadBundle, h.Name)
		}
		if err := writeLimited(filepath.Join(dir, h.Name), tr, limit); err != nil {
			return "", "", err
		}
	}
	if target == "" {
		return "", "", fmt.Errorf("%w: no program", ErrBadBundle)
	}
	return program, target, nil
}

func writeLimited(path string, r io.Reader, limit int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadBundle, err)
	}
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if err != nil || n > limit {
		return fmt.Errorf("%w: %s", ErrBadBundle, filepath.Base(path))
	}
	return f.Close()
}

// bundleFetcher serves go-tuf's metadata requests from an unpacked bundle; a file the
// bundle lacks is "not found", which ends the root chain like a 404 does online.
type bundleFetcher struct{ dir string }

func (b *bundleFetcher) DownloadFile(u string, maxLength int64, _ time.Duration) ([]byte, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(parsed.Path)
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, &metadata.ErrDownloadHTTP{StatusCode: 404, URL: u}
	}
	f, err := os.Open(filepath.Join(b.dir, "metadata", name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, &metadata.ErrDownloadHTTP{StatusCode: 404, URL: u}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLength+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxLength {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: name + " is too large"}
	}
	return data, nil
}
