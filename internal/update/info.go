package update

import (
	"encoding/json"
	"fmt"

	"hearth/internal/release/releaseinfo"
)

// Info is a release's signed description (the target's "custom" field).
type Info = releaseinfo.Custom

// Rollout is the share of the fleet a release is offered to.
type Rollout = releaseinfo.Rollout

// Version is a semantic version X.Y.Z.
type Version = releaseinfo.Version

// ParseVersion parses X.Y.Z.
func ParseVersion(s string) (Version, error) { return releaseinfo.ParseVersion(s) }

// ParseInfo decodes and validates a target's custom metadata.
func ParseInfo(raw *json.RawMessage) (Info, error) {
	if raw == nil {
		return Info{}, fmt.Errorf("update: %w: no description", releaseinfo.ErrMalformed)
	}
	return releaseinfo.ParseCustom(*raw)
}
