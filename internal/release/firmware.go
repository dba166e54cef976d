package release

import (
	"encoding/hex"
	"path/filepath"
)

// Firmware is a released program as the factory installs it into a device's first slot:
// the program file, its target name and the signed targets metadata that lists it (the
// device's launcher verifies the slot against that metadata).
type Firmware struct {
	Target       string
	ArtifactPath string
	TargetsJSON  []byte
}

// FirmwareFor returns the release of version for factory installation.
func FirmwareFor(vendorDir, version string) (Firmware, error) {
	r, unlock, err := openRepo(vendorDir, false)
	if err != nil {
		return Firmware{}, err
	}
	defer unlock()
	name, info, err := r.target(version)
	if err != nil {
		return Firmware{}, err
	}
	file := hex.EncodeToString(info.Hashes["sha256"]) + "." + name
	return Firmware{Target: name, ArtifactPath: filepath.Join(vendorDir, TargetsDir, file), TargetsJSON: r.targetsRaw}, nil
}
