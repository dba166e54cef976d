package release

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"hearth/internal/atomicfile"
	"hearth/internal/release/releaseinfo"
)

// repo is the current state of the repository's top-level metadata, loaded from disk,
// changed in memory and written back by commit.
type repo struct {
	dir       string
	root      *metadata.Metadata[metadata.RootType]
	targets   *metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]

	// Signed bytes of targets and snapshot: what the next snapshot and timestamp
	// record the length and hashes of.
	targetsRaw, snapshotRaw []byte

	staged []stagedFile // written by commit, in this order
}

type stagedFile struct {
	name string
	data []byte
}

// openRepo takes the repository lock (exclusive for a change, shared for a read) and
// loads the repository; the caller runs the returned unlock when done.
func openRepo(vendorDir string, exclusive bool) (*repo, func(), error) {
	unlock, err := lock(vendorDir, exclusive)
	if err != nil {
		return nil, nil, err
	}
	r, err := loadRepo(vendorDir)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return r, unlock, nil
}

// target returns the signed target of a release version, or ErrNotFound.
func (r *repo) target(version string) (string, *metadata.TargetFiles, error) {
	name := releaseinfo.TargetName(version)
	info := r.targets.Signed.Targets[name]
	if info == nil {
		return "", nil, fmt.Errorf("%w: %s", ErrNotFound, version)
	}
	return name, info, nil
}

// loadRepo reads the current metadata: root.json, timestamp.json, the snapshot the
// timestamp names and the targets the snapshot names, each checked against the length,
// hashes and version its parent records. Signatures are checked by commit, on the
// state about to be written.
func loadRepo(vendorDir string) (*repo, error) {
	r := &repo{dir: vendorDir}
	var err error
	if r.root, _, err = readMeta[metadata.RootType](vendorDir, "root.json", nil); err != nil {
		return nil, err
	}
	if r.timestamp, _, err = readMeta[metadata.TimestampType](vendorDir, "timestamp.json", nil); err != nil {
		return nil, err
	}
	if r.snapshot, r.snapshotRaw, err = readMeta[metadata.SnapshotType](vendorDir, RoleSnapshot, r.timestamp.Signed.Meta); err != nil {
		return nil, err
	}
	if r.targets, r.targetsRaw, err = readMeta[metadata.TargetsType](vendorDir, RoleTargets, r.snapshot.Signed.Meta); err != nil {
		return nil, err
	}
	return r, nil
}

// readMeta reads a metadata file. With parentMeta (the meta map of the timestamp or
// snapshot), name is a role whose file is the consistent snapshot the parent names.
func readMeta[T metadata.Roles](vendorDir, name string, parentMeta map[string]*metadata.MetaFiles) (*metadata.Metadata[T], []byte, error) {
	var info *metadata.MetaFiles
	if parentMeta != nil {
		if info = parentMeta[name+".json"]; info == nil {
			return nil, nil, fmt.Errorf("load tuf repository: no %s.json in its parent's meta", name)
		}
		name = strconv.FormatInt(info.Version, 10) + "." + name + ".json"
	}
	raw, err := os.ReadFile(metaPath(vendorDir, name))
	if os.IsNotExist(err) && name == "root.json" {
		return nil, nil, ErrNotInitialised
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load tuf repository: %w", err)
	}
	if info != nil {
		if err := info.VerifyLengthHashes(raw); err != nil {
			return nil, nil, fmt.Errorf("load tuf repository: %s: %w", name, err)
		}
	}
	m, err := new(metadata.Metadata[T]).FromBytes(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("load tuf repository: %s: %w", name, err)
	}
	if info != nil && version(m) != info.Version {
		return nil, nil, fmt.Errorf("load tuf repository: %s holds version %d", name, version(m))
	}
	return m, raw, nil
}

func version[T metadata.Roles](m *metadata.Metadata[T]) int64 {
	switch s := any(&m.Signed).(type) {
	case *metadata.RootType:
		return s.Version
	case *metadata.TargetsType:
		return s.Version
	case *metadata.SnapshotType:
		return s.Version
	case *metadata.TimestampType:
		return s.Version
	}
	return 0
}

// sign replaces m's signatures by those of keys and returns the signed bytes.
func sign[T metadata.Roles](m *metadata.Metadata[T], keys ...*roleKey) ([]byte, error) {
	m.ClearSignatures()
	for _, k := range keys {
		if _, err := m.Sign(k.signer); err != nil {
			return nil, fmt.Errorf("sign metadata: %w", err)
		}
	}
	return m.ToBytes(false)
}

// metaFile records a metadata file's version, length and SHA-256 for its parent.
func metaFile(version int64, raw []byte) *metadata.MetaFiles {
	sum := sha256.Sum256(raw)
	return &metadata.MetaFiles{Version: version, Length: int64(len(raw)), Hashes: metadata.Hashes{"sha256": sum[:]}}
}

func (r *repo) stage(name string, data []byte) {
	r.staged = append(r.staged, stagedFile{name, data})
}

// signRoot makes the next root version, signed by keys (the old and the new root keys
// when the root key changes).
func (r *repo) signRoot(o Options, keys ...*roleKey) error {
	r.root.Signed.Version++
	r.root.Signed.Expires = o.expires(RoleRoot)
	raw, err := sign(r.root, keys...)
	if err != nil {
		return err
	}
	r.stage(fmt.Sprintf("%d.root.json", r.root.Signed.Version), raw)
	r.stage("root.json", raw)
	return nil
}

// signTargets makes the next targets version with the targets key.
func (r *repo) signTargets(o Options, k *roleKey) error {
	r.targets.Signed.Version++
	r.targets.Signed.Expires = o.expires(RoleTargets)
	raw, err := sign(r.targets, k)
	if err != nil {
		return err
	}
	r.targetsRaw = raw
	r.stage(fmt.Sprintf("%d.targets.json", r.targets.Signed.Version), raw)
	return nil
}

// signSnapshot makes the next snapshot version, naming the current targets.
func (r *repo) signSnapshot(o Options, k *roleKey) error {
	r.snapshot.Signed.Version++
	r.snapshot.Signed.Expires = o.expires(RoleSnapshot)
	r.snapshot.Signed.Meta = map[string]*metadata.MetaFiles{"targets.json": metaFile(r.targets.Signed.Version, r.targetsRaw)}
	raw, err := sign(r.snapshot, k)
	if err != nil {
		return err
	}
	r.snapshotRaw = raw
	r.stage(fmt.Sprintf("%d.snapshot.json", r.snapshot.Signed.Version), raw)
	return nil
}

// signTimestamp makes the next timestamp version, naming the current snapshot.
func (r *repo) signTimestamp(o Options, k *roleKey) error {
	r.timestamp.Signed.Version++
	r.timestamp.Signed.Expires = o.expires(RoleTimestamp)
	r.timestamp.Signed.Meta = map[string]*metadata.MetaFiles{"snapshot.json": metaFile(r.snapshot.Signed.Version, r.snapshotRaw)}
	raw, err := sign(r.timestamp, k)
	if err != nil {
		return err
	}
	r.stage("timestamp.json", raw)
	return nil
}

// signChain re-signs targets, snapshot and timestamp: after any change to targets.
func (r *repo) signChain(o Options, targets, snapshot, timestamp *roleKey) error {
	if err := r.signTargets(o, targets); err != nil {
		return err
	}
	return r.signOnline(o, snapshot, timestamp)
}

// signOnline re-signs snapshot and timestamp.
func (r *repo) signOnline(o Options, snapshot, timestamp *roleKey) error {
	if err := r.signSnapshot(o, snapshot); err != nil {
		return err
	}
	return r.signTimestamp(o, timestamp)
}

// verify checks, as a client would, that root signs itself and authorises the
// signatures of targets, snapshot and timestamp: nothing is written that devices would
// refuse.
func (r *repo) verify() error {
	if err := r.root.VerifyDelegate(RoleRoot, r.root); err != nil {
		return fmt.Errorf("verify root: %w", err)
	}
	if err := r.root.VerifyDelegate(RoleTargets, r.targets); err != nil {
		return fmt.Errorf("verify targets: %w", err)
	}
	if err := r.root.VerifyDelegate(RoleSnapshot, r.snapshot); err != nil {
		return fmt.Errorf("verify snapshot: %w", err)
	}
	if err := r.root.VerifyDelegate(RoleTimestamp, r.timestamp); err != nil {
		return fmt.Errorf("verify timestamp: %w", err)
	}
	return nil
}

// commit verifies the new state and writes the staged files in order: root, targets,
// snapshot, timestamp. Each file is replaced atomically, and a file is written only
// after every file it names, so a client reading at any moment finds either the old
// or the new consistent state.
func (r *repo) commit() error {
	if err := r.verify(); err != nil {
		return err
	}
	for _, f := range r.staged {
		if err := checkSize(f); err != nil {
			return err
		}
	}
	for _, f := range r.staged {
		if err := atomicfile.Write(metaPath(r.dir, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	r.staged = nil
	return nil
}

// maxSize are the lengths go-tuf's updater accepts by default (config.New): the
// repository never writes metadata a device would refuse to download.
var maxSize = map[string]int{
	"root.json": 512000, "timestamp.json": 16384, "snapshot.json": 2000000, "targets.json": 5000000,
}

func checkSize(f stagedFile) error {
	kind := f.name
	if i := strings.IndexByte(kind, '.'); i >= 0 && kind != "root.json" && kind != "timestamp.json" {
		kind = kind[i+1:]
	}
	if limit, ok := maxSize[kind]; ok && len(f.data) > limit {
		return fmt.Errorf("%w: %s would be %d bytes, more than the %d clients accept", ErrRefused, f.name, len(f.data), limit)
	}
	return nil
}

// keys loads the given roles' keys, checked against root.
func (r *repo) keys(roles ...string) ([]*roleKey, error) {
	out := make([]*roleKey, len(roles))
	for i, role := range roles {
		k, err := loadRoleKey(r.dir, role, r.root)
		if err != nil {
			return nil, err
		}
		out[i] = k
	}
	return out, nil
}
