package release

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"hearth/internal/release/releaseinfo"
)

// Bundle writes an offline update bundle for a release to w: a tar archive of the
// metadata a device needs to verify it and the release's program (format in the
// package doc). A withdrawn release is refused. The program is hashed as it is copied;
// if it no longer matches its signed hash, Bundle fails and what it wrote must be
// discarded.
func Bundle(vendorDir, version string, w io.Writer) error {
	r, unlock, err := openRepo(vendorDir, false)
	if err != nil {
		return err
	}
	defer unlock()
	name, info, err := r.target(version)
	if err != nil {
		return err
	}
	if info.Custom == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, version)
	}
	if c, err := releaseinfo.ParseTarget(name, *info.Custom); err != nil {
		return err
	} else if c.Rollout.Withdrawn {
		return fmt.Errorf("%w: %s is withdrawn", ErrRefused, version)
	}
	tw := tar.NewWriter(w)
	for _, m := range r.bundleMetadata() {
		if err := addFile(tw, "metadata/"+m, metaPath(vendorDir, m), nil); err != nil {
			return err
		}
	}
	sum := hex.EncodeToString(info.Hashes["sha256"])
	file := sum + "." + name
	if err := addFile(tw, "targets/"+file, filepath.Join(vendorDir, TargetsDir, file), info.Hashes["sha256"]); err != nil {
		return err
	}
	return tw.Close()
}

// bundleMetadata names the metadata files of a bundle, in order.
func (r *repo) bundleMetadata() []string {
	var names []string
	for v := int64(1); v <= r.root.Signed.Version; v++ {
		names = append(names, strconv.FormatInt(v, 10)+".root.json")
	}
	return append(names, "timestamp.json",
		strconv.FormatInt(r.snapshot.Signed.Version, 10)+".snapshot.json",
		strconv.FormatInt(r.targets.Signed.Version, 10)+".targets.json")
}

// addFile streams the file at path into the archive as name. With wantSHA256, the
// content must hash to it.
func addFile(tw *tar.Writer, name, path string, wantSHA256 []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: st.Size(), ModTime: st.ModTime().UTC().Truncate(time.Second)}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tw, h), f); err != nil {
		return fmt.Errorf("bundle: %s: %w", name, err)
	}
	if wantSHA256 != nil && !bytes.Equal(h.Sum(nil), wantSHA256) {
		return fmt.Errorf("bundle: %s no longer matches its signed hash", name)
	}
	return nil
}
