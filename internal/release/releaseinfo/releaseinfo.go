// Package releaseinfo is the signed description of a firmware release: the "custom"
// field of a hearthd target in the vendor's TUF targets metadata, and the version
// numbers that order releases.
//
// Both sides use it: the vendor's release tools (internal/release) write it and the
// device (internal/update) reads it. It carries no signing or TUF code, so the device
// links it without linking anything of the vendor side.
//
// Threat model: the description is covered by the targets role's signature, so a device
// parses it only after go-tuf has verified it. It is still parsed defensively (sizes,
// ranges, strict versions): a signing mistake must not make a device misbehave, and
// ParseCustom has a fuzz target.
//
// TS-0045 5.3.1.2 (the security version refuses older releases), 5.3.1.11 (the update
// says what it fixes), 5.3.1.12 (the update says whether it interrupts the device),
// 5.6.1.3 (staged rollout).
package releaseinfo

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on a description.
const (
	MaxText            = 64 << 10  // bytes of Notes and of Fixes each
	MaxCustom          = 256 << 10 // bytes of the whole custom field
	MaxSecurityVersion = 1 << 30
	maxVersionPart     = 1_000_000
)

// Program is the firmware program's name; its targets are named Program-<version>.
const Program = "hearthd"

// ErrMalformed is returned for a description that does not parse or is out of range.
var ErrMalformed = errors.New("malformed release description")

// Rollout is the share of the fleet a release is offered to.
type Rollout struct {
	// Percent of devices offered the release, 0-100. 0 offers it to none (published
	// but held back), 100 to all.
	Percent int `json:"percent"`
	// Paused holds the rollout where it is: devices not yet updated are not offered it.
	Paused bool `json:"paused"`
	// Withdrawn takes the release back: no device is offered it any more.
	Withdrawn bool `json:"withdrawn"`
}

// Offered reports whether the rollout offers the release to anyone at all.
func (r Rollout) Offered() bool { return !r.Withdrawn && !r.Paused && r.Percent > 0 }

// Custom is one release's description.
type Custom struct {
	// Version is the program's semantic version X.Y.Z; releases are ordered by it.
	Version string `json:"version"`
	// SecurityVersion never decreases from one release to the next. A device refuses a
	// release whose security version is below the one it has run (5.3.1.2).
	SecurityVersion int `json:"security_version"`
	// Notes tell the user what the release changes.
	Notes string `json:"notes"`
	// Fixes tell the user which risks the release mitigates (5.3.1.11); empty when none.
	Fixes string `json:"fixes"`
	// Interrupts says installing the release interrupts the device's basic functions,
	// so the user is told before it is installed (5.3.1.12).
	Interrupts bool      `json:"interrupts"`
	Rollout    Rollout   `json:"rollout"`
	Released   time.Time `json:"released"`
}

type envelope struct {
	Hearth *Custom `json:"hearth"`
}

// ParseCustom decodes and validates a target's custom field: {"hearth": {...}}. Fields
// it does not know are ignored, so devices keep accepting later releases that add some.
func ParseCustom(raw json.RawMessage) (Custom, error) {
	if len(raw) == 0 {
		return Custom{}, fmt.Errorf("%w: none", ErrMalformed)
	}
	if len(raw) > MaxCustom {
		return Custom{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(raw))
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Custom{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if env.Hearth == nil {
		return Custom{}, fmt.Errorf("%w: no hearth object", ErrMalformed)
	}
	if err := env.Hearth.Validate(); err != nil {
		return Custom{}, err
	}
	return *env.Hearth, nil
}

// ParseTarget parses the custom field of the target called name and checks that the
// name is the one the description's version gives (Program-<version>).
func ParseTarget(name string, raw json.RawMessage) (Custom, error) {
	c, err := ParseCustom(raw)
	if err != nil {
		return Custom{}, err
	}
	if name != TargetName(c.Version) {
		return Custom{}, fmt.Errorf("%w: target %q describes version %s", ErrMalformed, name, c.Version)
	}
	return c, nil
}

// Validate checks ranges and sizes.
func (c Custom) Validate() error {
	if _, err := ParseVersion(c.Version); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch {
	case c.SecurityVersion < 1 || c.SecurityVersion > MaxSecurityVersion:
		return fmt.Errorf("%w: security version %d out of range", ErrMalformed, c.SecurityVersion)
	case c.Rollout.Percent < 0 || c.Rollout.Percent > 100:
		return fmt.Errorf("%w: rollout percent %d out of range", ErrMalformed, c.Rollout.Percent)
	case len(c.Notes) > MaxText || len(c.Fixes) > MaxText:
		return fmt.Errorf("%w: notes or fixes longer than %d bytes", ErrMalformed, MaxText)
	case !utf8.ValidString(c.Notes) || !utf8.ValidString(c.Fixes):
		return fmt.Errorf("%w: notes or fixes not UTF-8", ErrMalformed)
	case c.Released.IsZero():
		return fmt.Errorf("%w: no release time", ErrMalformed)
	}
	return nil
}

// Marshal encodes the description as a target's custom field.
func (c Custom) Marshal() (json.RawMessage, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(envelope{Hearth: &c})
}

// TargetName is the TUF target name of a version of the program.
func TargetName(version string) string { return Program + "-" + version }

// Version is a semantic version X.Y.Z (no "v" prefix, no pre-release or build part).
type Version struct{ Major, Minor, Patch int }

// ParseVersion parses X.Y.Z; each part is a decimal without leading zeros up to
// 1,000,000.
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q is not X.Y.Z", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > maxVersionPart || strconv.Itoa(v) != p {
			return Version{}, fmt.Errorf("version %q is not X.Y.Z", s)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare returns -1, 0 or 1 as v is older than, the same as or newer than o.
func (v Version) Compare(o Version) int {
	for _, d := range [3]int{v.Major - o.Major, v.Minor - o.Minor, v.Patch - o.Patch} {
		if d < 0 {
			return -1
		}
		if d > 0 {
			return 1
		}
	}
	return 0
}
