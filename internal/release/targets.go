package release

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"hearth/internal/release/releaseinfo"
)

// Targets lists the published releases, oldest version first.
func Targets(vendorDir string) ([]Target, error) {
	r, unlock, err := openRepo(vendorDir, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return r.releases()
}

// TrustedRoot returns 1.root.json: the trust anchor provisioning installs in each
// device. Devices follow later root versions from it through the signed chain.
func TrustedRoot(vendorDir string) ([]byte, error) {
	raw, err := os.ReadFile(metaPath(vendorDir, "1.root.json"))
	if os.IsNotExist(err) {
		return nil, ErrNotInitialised
	}
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	root, err := new(metadata.Metadata[metadata.RootType]).FromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	if err := root.VerifyDelegate(RoleRoot, root); err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	return raw, nil
}

// SetRollout changes a release's rollout: widen or narrow the share of the fleet it is
// offered to (Percent 0-100), pause it, or withdraw it. It signs the next targets,
// snapshot and timestamp versions.
//
// TS-0045 5.6.1.3: releases reach the fleet in stages.
func SetRollout(vendorDir, version string, ro Rollout, opts Options) error {
	if ro.Percent < 0 || ro.Percent > 100 {
		return fmt.Errorf("%w: rollout percent %d is not within 0-100", ErrRefused, ro.Percent)
	}
	o := opts.withDefaults()
	r, unlock, err := openRepo(vendorDir, true)
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
	c, err := releaseinfo.ParseTarget(name, *info.Custom)
	if err != nil {
		return err
	}
	c.Rollout = ro
	keys, err := r.keys(RoleTargets, RoleSnapshot, RoleTimestamp)
	if err != nil {
		return err
	}
	return r.addTarget(o, name, info, c, keys)
}

// RefreshTimestamp signs the next timestamp version with the online timestamp key, and
// first the next snapshot version with the online snapshot key when the snapshot
// expires within a day. The online services call it periodically, well within the
// timestamp's lifetime, so devices see fresh metadata and a frozen mirror is noticed.
func RefreshTimestamp(vendorDir string, opts Options) error {
	o := opts.withDefaults()
	r, unlock, err := openRepo(vendorDir, true)
	if err != nil {
		return err
	}
	defer unlock()
	keys, err := r.keys(RoleSnapshot, RoleTimestamp)
	if err != nil {
		return err
	}
	if r.snapshot.Signed.Expires.Before(o.Now.Add(snapshotMargin)) {
		if err := r.signSnapshot(o, keys[0]); err != nil {
			return err
		}
	}
	if err := r.signTimestamp(o, keys[1]); err != nil {
		return err
	}
	return r.commit()
}

// snapshotMargin: RefreshTimestamp renews a snapshot expiring sooner than this.
const snapshotMargin = 24 * time.Hour

func sortTargets(ts []Target) {
	slices.SortFunc(ts, func(a, b Target) int {
		va, _ := releaseinfo.ParseVersion(a.Version)
		vb, _ := releaseinfo.ParseVersion(b.Version)
		return va.Compare(vb)
	})
}
