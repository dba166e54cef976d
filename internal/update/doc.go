// Package update is the device side of secure updates: it checks the vendor's TUF
// repository, picks the release meant for this device, downloads it into the inactive
// A/B slot while verifying it against signed metadata, and hands it to the launcher,
// which verifies every slot before running it and returns to the previous slot when a
// new one fails its health check.
//
// The firmware is the hearthd program. Its slots live in the data directory:
//
//	slots/state.json     which slot is active, which is on trial (atomic writes)
//	slots/a/hearthd      the program
//	slots/a/targets.json the signed TUF targets metadata that lists the program
//	slots/b/...          the other slot
//
// Trust: the TUF root provisioned at the factory (factory/tuf-root.json), followed
// through signed root rotations (update/tuf/root.json). Freshness, consistency and
// rollback of metadata are go-tuf's (TUF specification 1.0); artefacts are streamed to
// disk and checked against the signed length and hashes, never held in memory.
// Anti-rollback of firmware: a monotonic security version sealed in the keystore; a
// release below it is refused even when validly signed.
//
// Threat model: a network attacker between device and vendor (TLS with the vendor root
// pinned, and TUF signatures), a compromised mirror serving old, mixed or endless data,
// an attacker who alters a slot on disk, and power loss at any point of an update.
//
// TS-0045 5.3.1.2, 5.3.1.7, 5.3.1.9, 5.3.1.10 (secure updates), 5.5.1.1 (verified
// launch), 5.6.1.3 (staged rollout).
package update
