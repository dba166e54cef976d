package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Info is a release's signed description (the target's "custom" field).
type Info struct {
	Version         string    `json:"version"`
	SecurityVersion int       `json:"security_version"`
	Notes           string    `json:"notes"`
	Fixes           string    `json:"fixes"`
	Interrupts      bool      `json:"interrupts"`
	Rollout         Rollout   `json:"rollout"`
	Released        time.Time `json:"released"`
}

// Rollout is the share of the fleet a release is offered to.
type Rollout struct {
	Percent   int  `json:"percent"`
	Paused    bool `json:"paused"`
	Withdrawn bool `json:"withdrawn"`
}

var errInfo = errors.New("update: malformed release description")

// ParseInfo decodes and validates a target's custom metadata.
func ParseInfo(raw *json.RawMessage) (Info, error) {
	if raw == nil {
		return Info{}, fmt.Errorf("%w: none", errInfo)
	}
	var wrap struct {
		Hearth *Info `json:"hearth"`
	}
	if err := json.Unmarshal(*raw, &wrap); err != nil || wrap.Hearth == nil {
		return Info{}, fmt.Errorf("%w: %v", errInfo, err)
	}
	in := *wrap.Hearth
	if _, err := ParseVersion(in.Version); err != nil {
		return Info{}, fmt.Errorf("%w: %v", errInfo, err)
	}
	if in.SecurityVersion < 1 || in.Rollout.Percent < 0 || in.Rollout.Percent > 100 || len(in.Notes) > 64<<10 || len(in.Fixes) > 64<<10 {
		return Info{}, fmt.Errorf("%w: values out of range", errInfo)
	}
	return in, nil
}
