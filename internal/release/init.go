package release

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// InitOptions configure Init.
type InitOptions struct {
	// Algorithm of the four role keys: AlgorithmECDSA (the default when empty) or
	// AlgorithmEd25519.
	Algorithm string
	Expiry    Expiry
	Now       time.Time // zero: time.Now()
}

var topRoles = []string{RoleRoot, RoleTargets, RoleSnapshot, RoleTimestamp}

// Init creates the repository in an existing vendor directory: a fresh key for each
// role, root version 1, an empty targets version 1, snapshot and timestamp.
//
// It is safe to call on any vendor directory: it returns ErrExists, touching nothing,
// once 1.root.json exists. 1.root.json is written last, so a run interrupted before it
// left nothing any device can trust, and the next run starts over.
func Init(vendorDir string, opts InitOptions) error {
	if st, err := os.Stat(vendorDir); err != nil {
		return fmt.Errorf("init tuf repository: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("init tuf repository: %s is not a directory", vendorDir)
	}
	if err := checkAlgorithm(opts.Algorithm); err != nil {
		return fmt.Errorf("init tuf repository: %w", err)
	}
	// Keys are private; the repository is public data, served to any device.
	for _, d := range []struct {
		path string
		perm os.FileMode
	}{{"tuf", 0o755}, {MetadataDir, 0o755}, {TargetsDir, 0o755}, {OnlineKeyDir, 0o700}, {OfflineKeyDir, 0o700}} {
		if err := os.MkdirAll(filepath.Join(vendorDir, d.path), d.perm); err != nil {
			return fmt.Errorf("init tuf repository: %w", err)
		}
	}
	unlock, err := lock(vendorDir, true)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(metaPath(vendorDir, "1.root.json")); err == nil {
		return ErrExists
	}
	o := Options{Expiry: opts.Expiry, Now: opts.Now}.withDefaults()
	keys, err := initKeys(vendorDir, opts.Algorithm)
	if err != nil {
		return err
	}
	r, err := initialRepo(vendorDir, o, keys)
	if err != nil {
		return err
	}
	return r.commit()
}

// initKeys makes and stores one key per role.
func initKeys(vendorDir, algorithm string) (map[string]*roleKey, error) {
	keys := map[string]*roleKey{}
	for _, role := range topRoles {
		priv, err := generateKey(algorithm)
		if err != nil {
			return nil, fmt.Errorf("init tuf repository: %w", err)
		}
		if keys[role], err = newRoleKey(priv); err != nil {
			return nil, err
		}
		if err := writeKey(keyPath(vendorDir, role), priv); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// initialRepo signs version 1 of every role. Files are staged so that root comes last.
func initialRepo(vendorDir string, o Options, keys map[string]*roleKey) (*repo, error) {
	root := metadata.Root(o.expires(RoleRoot))
	root.Signed.ConsistentSnapshot = true
	for _, role := range topRoles {
		if err := root.Signed.AddKey(keys[role].tuf, role); err != nil {
			return nil, fmt.Errorf("init tuf repository: %w", err)
		}
	}
	r := &repo{dir: vendorDir, root: root, targets: metadata.Targets(), snapshot: metadata.Snapshot(), timestamp: metadata.Timestamp()}
	// Version 0 in memory: the sign functions bump each to version 1.
	r.targets.Signed.Version, r.snapshot.Signed.Version, r.timestamp.Signed.Version = 0, 0, 0
	if err := r.signChain(o, keys[RoleTargets], keys[RoleSnapshot], keys[RoleTimestamp]); err != nil {
		return nil, err
	}
	raw, err := sign(r.root, keys[RoleRoot])
	if err != nil {
		return nil, err
	}
	r.stage("root.json", raw)
	r.stage("1.root.json", raw)
	return r, nil
}
