package releasetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/release"
	"hearth/internal/release/releaseinfo"
)

// ExpireTimestamp signs, with the real timestamp key, a new timestamp version that has
// already expired: what a frozen mirror holds once the last timestamp it saw runs out.
// A device must refuse to go on (TUF 5.4.4: timestamp expired).
func ExpireTimestamp(vendorDir string) error {
	return release.RefreshTimestamp(vendorDir, release.Options{Expiry: release.Expiry{Timestamp: -time.Hour}})
}

// CaptureTimestamp returns the current timestamp.json, for ReplayTimestamp later.
func CaptureTimestamp(vendorDir string) ([]byte, error) {
	return os.ReadFile(filepath.Join(vendorDir, release.MetadataDir, "timestamp.json"))
}

// ReplayTimestamp serves a timestamp captured earlier again: a mirror replaying an old,
// validly signed and possibly unexpired state of the repository, to keep a device on
// an older release. A device that has seen a newer timestamp must refuse it (TUF 5.4.3:
// version rollback) and must not install what it names.
func ReplayTimestamp(vendorDir string, captured []byte) error {
	return atomicfile.Write(filepath.Join(vendorDir, release.MetadataDir, "timestamp.json"), captured, 0o644)
}

// MixAndMatch serves a fresh, validly signed timestamp (or snapshot) together with the
// previous version of the file it names: the current N.snapshot.json (role "snapshot")
// or N.targets.json (role "targets") is overwritten with the signed bytes of version
// N-1. Each file is genuine; only their combination is forged. A device must refuse the
// combination (TUF 5.5.2 and 5.6.2: hashes and version as the parent records them).
// The repository needs at least two versions of the role (two releases).
func MixAndMatch(vendorDir, role string) error {
	if role != release.RoleSnapshot && role != release.RoleTargets {
		return fmt.Errorf("mix and match: role %q is neither snapshot nor targets", role)
	}
	if err := release.RefreshTimestamp(vendorDir, release.Options{}); err != nil {
		return err
	}
	n, err := latestVersion(filepath.Join(vendorDir, release.MetadataDir), role)
	if err != nil {
		return err
	}
	if n < 2 {
		return fmt.Errorf("mix and match: only one version of %s", role)
	}
	dir := filepath.Join(vendorDir, release.MetadataDir)
	older, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%d.%s.json", n-1, role)))
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, fmt.Sprintf("%d.%s.json", n, role)), older, 0o644)
}

// latestVersion is the highest N of the N.role.json files in dir.
func latestVersion(dir, role string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	latest := 0
	for _, e := range entries {
		v, ok := strings.CutSuffix(e.Name(), "."+role+".json")
		if n, err := strconv.Atoi(v); ok && err == nil && n > latest {
			latest = n
		}
	}
	if latest == 0 {
		return 0, fmt.Errorf("no %s metadata in %s", role, dir)
	}
	return latest, nil
}

// Tamper is a way of altering a stored program after it was signed.
type Tamper int

// Ways of altering a program.
const (
	FlipByte Tamper = iota // one bit of one byte in the middle changes: same length
	Append                 // 1 MiB more than the signed length: an endless-data attack
	Truncate               // the last byte is cut off
)

// TamperTarget alters the stored program of a release behind the signature's back: a
// compromised mirror or a corrupted disk. Every hash-prefixed copy is replaced (hard
// links are broken, not written through). A device must refuse to install it (TUF
// 5.7: length and hashes), and with Append stop reading at the signed length.
func TamperTarget(vendorDir, version string, how Tamper) error {
	dir := filepath.Join(vendorDir, release.TargetsDir)
	matches, err := filepath.Glob(filepath.Join(dir, "*."+releaseinfo.TargetName(version)))
	if err != nil || len(matches) == 0 {
		return errors.Join(fmt.Errorf("tamper: no stored program for %s", version), err)
	}
	data, err := os.ReadFile(matches[0])
	if err != nil {
		return err
	}
	switch how {
	case FlipByte:
		data[len(data)/2] ^= 0x01
	case Append:
		data = append(data, make([]byte, 1<<20)...)
	case Truncate:
		data = data[:len(data)-1]
	}
	for _, m := range matches {
		if err := atomicfile.Write(m, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// OfferOlder makes an older release the newest one offered: every release newer than
// version is withdrawn and version is offered to the whole fleet, all validly signed
// with the real targets key. This is what the vendor does to stop a broken release,
// and what an attacker who holds a validly signed old release (and can at most replay
// or withhold metadata) hopes a device falls for. A device running a newer release, or
// whose sealed security version is higher than the older release's, must not install
// it (TS-0045 5.3.1.2).
//
// An attacker never needs this repository to hold an old release: every release stays
// listed, signed, in the current targets metadata, and release.Bundle makes a fully
// valid offline bundle of any release not withdrawn. The fixture for that attack is
// simply release.Bundle(vendorDir, "1.0.0", w) handed to a device that runs 1.1.0.
func OfferOlder(vendorDir, version string) error {
	ts, err := release.Targets(vendorDir)
	if err != nil {
		return err
	}
	v, err := releaseinfo.ParseVersion(version)
	if err != nil {
		return err
	}
	for _, t := range ts {
		tv, _ := releaseinfo.ParseVersion(t.Version)
		if tv.Compare(v) > 0 && !t.Rollout.Withdrawn {
			if err := release.SetRollout(vendorDir, t.Version, release.Rollout{Percent: t.Rollout.Percent, Withdrawn: true}, release.Options{}); err != nil {
				return err
			}
		}
	}
	return release.SetRollout(vendorDir, version, release.Rollout{Percent: 100}, release.Options{})
}
