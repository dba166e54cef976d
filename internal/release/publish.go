package release

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"hearth/internal/atomicfile"
	"hearth/internal/release/releaseinfo"
)

// Rollout is the share of the fleet a release is offered to.
type Rollout = releaseinfo.Rollout

// Custom is a release's signed description, the custom field of its target. Devices
// parse it with releaseinfo.ParseCustom.
type Custom = releaseinfo.Custom

// Release describes a firmware release to publish.
type Release struct {
	Version string // X.Y.Z, newer than every release published before
	// SecurityVersion is the release's security version. 0 keeps the highest one
	// released so far (1 for the first release); a lower one is refused.
	SecurityVersion int
	ArtifactPath    string // the hearthd program
	Notes           string // what the release changes, for the user
	Fixes           string // which risks it mitigates (TS-0045 5.3.1.11); may be empty
	Interrupts      bool   // installing it interrupts the device (TS-0045 5.3.1.12)
	// Rollout is the share of the fleet offered the release. The zero value offers it
	// to no device: publish held back, then widen it with SetRollout.
	Rollout Rollout
}

// Target is a published release as its signed target records it.
type Target struct {
	Name            string // hearthd-X.Y.Z
	Version         string
	SecurityVersion int
	Length          int64
	SHA256          string // hex
	Notes, Fixes    string
	Interrupts      bool
	Rollout         Rollout
	Released        time.Time
}

// Publish signs a release: it copies the artifact into the repository (streaming,
// hashing as it copies), adds the target with its description, and signs the next
// targets (offline targets key), snapshot and timestamp versions.
//
// TS-0045 5.3.1.2: the version must be newer than every release and the security
// version at least the highest released; otherwise ErrRefused.
// TS-0045 5.3.1.9: the artifact is bound by its length, SHA-256 and SHA-512 under the
// targets key's signature (ECDSA P-256 or Ed25519).
func Publish(vendorDir string, rel Release, opts Options) (Target, error) {
	o := opts.withDefaults()
	r, unlock, err := openRepo(vendorDir, true)
	if err != nil {
		return Target{}, err
	}
	defer unlock()
	released, err := r.releases()
	if err != nil {
		return Target{}, err
	}
	custom, err := describe(rel, released, o.Now)
	if err != nil {
		return Target{}, err
	}
	keys, err := r.keys(RoleTargets, RoleSnapshot, RoleTimestamp)
	if err != nil {
		return Target{}, err
	}
	name := releaseinfo.TargetName(custom.Version)
	info, files, err := storeArtifact(vendorDir, rel.ArtifactPath, name)
	if err != nil {
		return Target{}, err
	}
	if err := r.addTarget(o, name, info, custom, keys); err != nil {
		for _, f := range files {
			os.Remove(f)
		}
		return Target{}, err
	}
	return targetOf(name, info, custom), nil
}

// addTarget records the target and signs and writes the new state.
func (r *repo) addTarget(o Options, name string, info *metadata.TargetFiles, c releaseinfo.Custom, keys []*roleKey) error {
	raw, err := c.Marshal()
	if err != nil {
		return err
	}
	info.Custom = &raw
	r.targets.Signed.Targets[name] = info
	if err := r.signChain(o, keys[0], keys[1], keys[2]); err != nil {
		return err
	}
	return r.commit()
}

// describe checks a release against those already published and returns its signed
// description.
func describe(rel Release, released []Target, now time.Time) (releaseinfo.Custom, error) {
	v, err := releaseinfo.ParseVersion(rel.Version)
	if err != nil {
		return releaseinfo.Custom{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	highest := 1
	for _, t := range released {
		tv, err := releaseinfo.ParseVersion(t.Version)
		if err != nil {
			return releaseinfo.Custom{}, err
		}
		if v.Compare(tv) <= 0 {
			return releaseinfo.Custom{}, fmt.Errorf("%w: version %s is not newer than released %s", ErrRefused, rel.Version, t.Version)
		}
		highest = max(highest, t.SecurityVersion)
	}
	sv := rel.SecurityVersion
	if sv == 0 {
		sv = highest
	}
	if sv < highest {
		return releaseinfo.Custom{}, fmt.Errorf("%w: security version %d is below %d, already released", ErrRefused, sv, highest)
	}
	c := releaseinfo.Custom{Version: rel.Version, SecurityVersion: sv, Notes: rel.Notes, Fixes: rel.Fixes,
		Interrupts: rel.Interrupts, Rollout: rel.Rollout, Released: now}
	if err := c.Validate(); err != nil {
		return releaseinfo.Custom{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return c, nil
}

// storeArtifact copies the artifact into the targets directory, computing its length
// and hashes on the way, and links it under each hash-prefixed name clients fetch
// (<sha256>.name and <sha512>.name). It returns the target info and the files made.
func storeArtifact(vendorDir, src, name string) (*metadata.TargetFiles, []string, error) {
	in, err := os.Open(src)
	if err != nil {
		return nil, nil, fmt.Errorf("read artifact: %w", err)
	}
	defer in.Close()
	if st, err := in.Stat(); err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return nil, nil, fmt.Errorf("%w: artifact %s is not a non-empty regular file", ErrRefused, src)
	}
	dir := filepath.Join(vendorDir, TargetsDir)
	tmp, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return nil, nil, fmt.Errorf("store artifact: %w", err)
	}
	defer os.Remove(tmp.Name())
	info, err := copyHashed(tmp, in)
	if err != nil {
		return nil, nil, err
	}
	info.Path = name
	files := []string{
		filepath.Join(dir, hex.EncodeToString(info.Hashes["sha256"])+"."+name),
		filepath.Join(dir, hex.EncodeToString(info.Hashes["sha512"])+"."+name),
	}
	if err := placeArtifact(tmp.Name(), files); err != nil {
		return nil, nil, err
	}
	return info, files, nil
}

// copyHashed streams in to out (a fresh file, synced and closed) and returns its
// length and SHA-256 and SHA-512. Memory stays constant whatever the artifact's size.
func copyHashed(out *os.File, in io.Reader) (*metadata.TargetFiles, error) {
	h256, h512 := sha256.New(), sha512.New()
	n, err := io.Copy(io.MultiWriter(out, h256, h512), in)
	if err == nil {
		err = out.Chmod(0o644)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("store artifact: %w", err)
	}
	return &metadata.TargetFiles{Length: n, Hashes: metadata.Hashes{"sha256": h256.Sum(nil), "sha512": h512.Sum(nil)}}, nil
}

// placeArtifact renames the copy to the first name and hard-links the others to it.
func placeArtifact(tmp string, names []string) error {
	for _, n := range names {
		if _, err := os.Lstat(n); err == nil {
			return fmt.Errorf("store artifact: %s already exists", filepath.Base(n))
		}
	}
	if err := os.Rename(tmp, names[0]); err != nil {
		return fmt.Errorf("store artifact: %w", err)
	}
	for _, n := range names[1:] {
		if err := os.Link(names[0], n); err != nil {
			os.Remove(names[0])
			return fmt.Errorf("store artifact: %w", err)
		}
	}
	return atomicfile.SyncDir(filepath.Dir(names[0]))
}

// releases lists the published targets, oldest version first.
func (r *repo) releases() ([]Target, error) {
	out := make([]Target, 0, len(r.targets.Signed.Targets))
	for name, info := range r.targets.Signed.Targets {
		if info.Custom == nil {
			return nil, fmt.Errorf("target %s has no release description", name)
		}
		c, err := releaseinfo.ParseTarget(name, *info.Custom)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", name, err)
		}
		out = append(out, targetOf(name, info, c))
	}
	sortTargets(out)
	return out, nil
}

func targetOf(name string, info *metadata.TargetFiles, c releaseinfo.Custom) Target {
	return Target{Name: name, Version: c.Version, SecurityVersion: c.SecurityVersion, Length: info.Length,
		SHA256: hex.EncodeToString(info.Hashes["sha256"]), Notes: c.Notes, Fixes: c.Fixes,
		Interrupts: c.Interrupts, Rollout: c.Rollout, Released: c.Released}
}
