package release

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// Paths inside the vendor directory.
const (
	OfflineKeyDir = "offline/tuf"
	OnlineKeyDir  = "tuf/keys"
	MetadataDir   = "tuf/repo/metadata"
	TargetsDir    = "tuf/repo/targets"
	lockFile      = "tuf/.lock"
)

// Role names.
const (
	RoleRoot      = metadata.ROOT
	RoleTargets   = metadata.TARGETS
	RoleSnapshot  = metadata.SNAPSHOT
	RoleTimestamp = metadata.TIMESTAMP
)

// Errors callers branch on.
var (
	ErrExists         = errors.New("tuf repository already initialised")
	ErrNotInitialised = errors.New("tuf repository not initialised (hearth-cloud tuf-init)")
	ErrNotFound       = errors.New("no such release")
	ErrRefused        = errors.New("release refused")
)

// Expiry is how long freshly signed metadata of each role stays valid. A zero field
// means its default. Tests set negative durations to craft expired metadata.
type Expiry struct {
	Root      time.Duration // default 365 days
	Targets   time.Duration // default 365 days
	Snapshot  time.Duration // default 7 days
	Timestamp time.Duration // default 1 day
}

// Default lifetimes. The timestamp's is the longest a frozen mirror can hold a device
// back; serve re-signs it well before (RefreshTimestamp).
const (
	DefaultRootExpiry      = 365 * 24 * time.Hour
	DefaultTargetsExpiry   = 365 * 24 * time.Hour
	DefaultSnapshotExpiry  = 7 * 24 * time.Hour
	DefaultTimestampExpiry = 24 * time.Hour
)

func (e Expiry) withDefaults() Expiry {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&e.Root, DefaultRootExpiry)
	def(&e.Targets, DefaultTargetsExpiry)
	def(&e.Snapshot, DefaultSnapshotExpiry)
	def(&e.Timestamp, DefaultTimestampExpiry)
	return e
}

// Options are common to the functions that sign.
type Options struct {
	Expiry Expiry
	Now    time.Time // zero: time.Now()
}

func (o Options) withDefaults() Options {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC().Truncate(time.Second)
	o.Expiry = o.Expiry.withDefaults()
	return o
}

func (o Options) expires(role string) time.Time {
	d := map[string]time.Duration{
		RoleRoot: o.Expiry.Root, RoleTargets: o.Expiry.Targets,
		RoleSnapshot: o.Expiry.Snapshot, RoleTimestamp: o.Expiry.Timestamp,
	}[role]
	return o.Now.Add(d)
}

// keyPath is where a role's private key lives: root and targets offline, snapshot and
// timestamp with the online services.
//
// TS-0045 5.4.2.8: the keys that authorise releases are kept apart from the services.
func keyPath(vendorDir, role string) string {
	dir := OnlineKeyDir
	if role == RoleRoot || role == RoleTargets {
		dir = OfflineKeyDir
	}
	return filepath.Join(vendorDir, dir, role+".key")
}

func metaPath(vendorDir, name string) string { return filepath.Join(vendorDir, MetadataDir, name) }
