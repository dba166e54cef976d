package update

import (
	"crypto/sha256"
	"encoding/binary"
)

// InRollout reports whether the device with this serial is offered a release that is
// rolled out to percent of the fleet. The answer is a stable hash of serial and version,
// so a device keeps its answer while the rollout widens (10 % → 50 %: the first 10 %
// stay in) and a different tenth of the fleet goes first on each release.
//
// TS-0045 5.6.1.3: updates are rolled out in stages.
func InRollout(serial, version string, percent int) bool {
	switch {
	case percent <= 0:
		return false
	case percent >= 100:
		return true
	}
	h := sha256.Sum256([]byte("hearth-rollout\x00" + version + "\x00" + serial))
	return binary.BigEndian.Uint64(h[:8])%10_000 < uint64(percent)*100
}
