// Package release is the vendor side of secure updates: the vendor's TUF repository
// (TUF specification 1.0, built with go-tuf v2's metadata package), the signing of
// firmware releases, their staged rollout, key rotation and offline update bundles.
//
// This is vendor-side code, used by the hearth-cloud tools and services; it is never
// linked into hearthd (a test on hearthd's dependencies enforces that). The device reads
// what it writes with go-tuf's updater and the small shared package releaseinfo.
//
// # Layout of the vendor directory
//
//	offline/tuf/root.key        root role key: signs root metadata only
//	offline/tuf/targets.key     targets role key: signs releases and rollout changes
//	tuf/keys/snapshot.key       snapshot role key (online: serve re-signs with it)
//	tuf/keys/timestamp.key      timestamp role key (online)
//	tuf/.lock                   serialises every change to the repository
//	tuf/repo/metadata/N.root.json      every root version, 1 to current
//	tuf/repo/metadata/root.json        copy of the current root
//	tuf/repo/metadata/N.targets.json   consistent snapshots of targets and snapshot
//	tuf/repo/metadata/N.snapshot.json
//	tuf/repo/metadata/timestamp.json
//	tuf/repo/targets/<sha256>.hearthd-X.Y.Z   each release, once per hash in its
//	tuf/repo/targets/<sha512>.hearthd-X.Y.Z   target info (hard links)
//
// Keys are PKCS#8 PEM files, mode 0600, in directories with mode 0700. The offline keys
// are read only by Init, Publish, SetRollout and RotateKey (hearth-cloud tuf-init,
// release, rollout, rotate-key), which run on the vendor's offline signing host; the
// online services read only the snapshot and timestamp keys (RefreshTimestamp).
// Old metadata versions are kept, so a client that read the previous timestamp still
// finds the files it names.
//
// Each target is named hearthd-X.Y.Z and carries a releaseinfo.Custom description in
// its custom field: version, security version, notes, fixes, whether installing it
// interrupts the device, rollout and release time.
//
// # Offline bundle
//
// Bundle writes an uncompressed POSIX tar archive for installing a release without the
// network (USB stick, upload in the web UI). It holds exactly:
//
//	metadata/1.root.json ... metadata/N.root.json  every root version, in order
//	metadata/timestamp.json                        the current timestamp
//	metadata/S.snapshot.json                       the snapshot it names
//	metadata/T.targets.json                        the targets the snapshot names
//	targets/<sha256>.hearthd-X.Y.Z                 the release's program
//
// Entries are regular files, mode 0644, in that order. The device verifies the bundle
// exactly as it verifies the online repository: root chain from its trust anchor,
// timestamp, snapshot, targets, then the program's length and hashes. A bundle is as
// fresh as the timestamp it carries (one day by default).
//
// # Threat model
//
// A network attacker or a compromised mirror between repository and device; a stolen
// online key (snapshot, timestamp: a freeze or mix-and-match within the timestamp's
// lifetime at most, never a forged release); a stolen or lost offline key (recovered by
// RotateKey, which devices follow through the signed chain of root versions); two vendor
// tools changing the repository at once (the lock file); power loss while writing
// (atomic replacement of every file, metadata written after what it refers to).
//
// TS-0045 5.3.1.2 (older releases refused: versions and security versions only
// increase), 5.3.1.9 and 5.3.1.10 (authenticity and integrity of update files: ECDSA
// P-256 or Ed25519 signatures, SHA-256 and SHA-512 hashes, all from Go's FIPS 140-3
// module), 5.3.1.11 and 5.3.1.12 (release notes, fixes, interruption), 5.4.2.3
// (signature algorithms can be changed by key rotation), 5.4.2.8 (offline keys, key
// rotation), 5.6.1.3 (staged rollout).
//
// Concurrency: every function that changes the repository holds an exclusive flock on
// tuf/.lock for the whole change, across processes and goroutines; readers (Targets,
// Bundle) hold a shared one. Files are replaced atomically, so the server may read the
// repository at any time without the lock.
package release
