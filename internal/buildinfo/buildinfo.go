// Package buildinfo describes the running build: its firmware version, whether it is a
// release build, and whether the validated FIPS 140-3 cryptographic module is active.
//
// Release builds are made with the `release` build tag (see docs/BUILD.md). In a release
// build every Insecure... switch is refused, so a weakened device cannot ship by accident.
package buildinfo

import (
	"crypto/fips140"
	"fmt"
	"runtime/debug"
)

// version is stamped at build time:
//
//	go build -ldflags "-X hearth/internal/buildinfo.version=1.2.3" ./cmd/hearthd
var version = "0.0.0-dev"

// Version is the firmware version of this build, a semantic version without a leading "v".
func Version() string { return version }

// Release reports whether this is a release build (built with -tags release).
func Release() bool { return release }

// FIPS reports whether the FIPS 140-3 mode of Go's cryptographic module is enabled and
// which module version is linked ("v1.0.0" for the certified snapshot, "latest" for the
// toolchain's in-tree module).
func FIPS() (enabled bool, module string) { return fips140.Enabled(), fips140.Version() }

// RefuseInsecure returns an error when a release build is asked to turn on an
// Insecure... switch. Callers pass the switch's flag name.
func RefuseInsecure(name string) error {
	if release {
		return fmt.Errorf("%s is not available in release builds", name)
	}
	return nil
}

// VCSRevision returns the source revision recorded by the Go toolchain, or "".
func VCSRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return ""
}
