package release

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"hearth/internal/atomicfile"
)

// RotateKey replaces a role's key (root, targets, snapshot or timestamp) with a fresh
// one, of the same algorithm when algorithm is empty, or of the algorithm given
// (AlgorithmECDSA or AlgorithmEd25519).
//
// It signs the next root version naming the new key, with the current root key and,
// when the root key itself changes, also with the new one: a device that trusts any
// earlier root follows the chain to the new key. Then it re-signs what the new key
// signs (targets, snapshot or timestamp, and what names them). Only after the new
// metadata is written does the new key file replace the old one; a rotation cut short
// in between is completed by the next change to the repository.
//
// Rotating the targets or an online key does not need the old key, so a lost or
// stolen one is replaced this way. The root key is needed to rotate anything.
//
// TS-0045 5.4.2.3: a role's signature algorithm is changed by rotating its key.
// TS-0045 5.4.2.8: keys are replaced in-band, without re-provisioning devices.
func RotateKey(vendorDir, role, algorithm string, opts Options) error {
	if !slices.Contains(topRoles, role) {
		return fmt.Errorf("rotate key: unknown role %q (want root, targets, snapshot or timestamp)", role)
	}
	o := opts.withDefaults()
	r, unlock, err := openRepo(vendorDir, true)
	if err != nil {
		return err
	}
	defer unlock()
	if algorithm == "" {
		algorithm = r.currentAlgorithm(role)
	}
	rootKey, err := loadRoleKey(vendorDir, RoleRoot, r.root)
	if err != nil {
		return err
	}
	next, err := newKeyFile(keyPath(vendorDir, role)+".new", algorithm)
	if err != nil {
		return err
	}
	if err := r.rotate(o, role, rootKey, next); err != nil {
		return err
	}
	if err := os.Rename(keyPath(vendorDir, role)+".new", keyPath(vendorDir, role)); err != nil {
		return fmt.Errorf("rotate key: %w", err)
	}
	return atomicfile.SyncDir(filepath.Dir(keyPath(vendorDir, role)))
}

// rotate signs and writes the metadata that puts next in place for role.
func (r *repo) rotate(o Options, role string, rootKey, next *roleKey) error {
	oldRoot, err := cloneRoot(r.root)
	if err != nil {
		return err
	}
	for _, id := range slices.Clone(r.root.Signed.Roles[role].KeyIDs) {
		if err := r.root.Signed.RevokeKey(id, role); err != nil {
			return fmt.Errorf("rotate key: %w", err)
		}
	}
	if err := r.root.Signed.AddKey(next.tuf, role); err != nil {
		return fmt.Errorf("rotate key: %w", err)
	}
	signers := []*roleKey{rootKey}
	if role == RoleRoot {
		signers = append(signers, next)
	}
	if err := r.signRoot(o, signers...); err != nil {
		return err
	}
	// TUF 5.3.4: the new root must be signed by a threshold of the previous root's keys.
	if err := oldRoot.VerifyDelegate(RoleRoot, r.root); err != nil {
		return fmt.Errorf("rotate key: new root not signed by the previous root key: %w", err)
	}
	if err := r.resignFor(o, role, next); err != nil {
		return err
	}
	return r.commit()
}

// resignFor re-signs, after a rotation, what the role's new key signs and what names it.
func (r *repo) resignFor(o Options, role string, next *roleKey) error {
	switch role {
	case RoleTargets:
		keys, err := r.keys(RoleSnapshot, RoleTimestamp)
		if err != nil {
			return err
		}
		return r.signChain(o, next, keys[0], keys[1])
	case RoleSnapshot:
		keys, err := r.keys(RoleTimestamp)
		if err != nil {
			return err
		}
		return r.signOnline(o, next, keys[0])
	case RoleTimestamp:
		return r.signTimestamp(o, next)
	}
	return nil
}

// currentAlgorithm is the algorithm of the role's key in root.
func (r *repo) currentAlgorithm(role string) string {
	for _, id := range r.root.Signed.Roles[role].KeyIDs {
		if k := r.root.Signed.Keys[id]; k != nil {
			return algorithmOf(k)
		}
	}
	return AlgorithmECDSA
}

// newKeyFile generates a key and stores it at path.
func newKeyFile(path, algorithm string) (*roleKey, error) {
	priv, err := generateKey(algorithm)
	if err != nil {
		return nil, fmt.Errorf("rotate key: %w", err)
	}
	k, err := newRoleKey(priv)
	if err != nil {
		return nil, err
	}
	return k, writeKey(path, priv)
}

// cloneRoot copies root metadata, so the previous version can check the next.
func cloneRoot(m *metadata.Metadata[metadata.RootType]) (*metadata.Metadata[metadata.RootType], error) {
	raw, err := m.ToBytes(false)
	if err != nil {
		return nil, fmt.Errorf("rotate key: %w", err)
	}
	c, err := new(metadata.Metadata[metadata.RootType]).FromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("rotate key: %w", err)
	}
	return c, nil
}
