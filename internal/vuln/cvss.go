package vuln

import (
	"errors"
	"fmt"
	"strings"

	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// maxVector bounds a CVSS vector; the longest valid v4.0 vector is under 400 bytes.
const maxVector = 512

// CVSS is a parsed and scored CVSS v3.1 or v4.0 vector.
type CVSS struct {
	Version  string   `json:"version"` // "3.1" or "4.0"
	Vector   string   `json:"vector"`  // as the library renders it
	Score    float64  `json:"score"`   // base score (v3.1), CVSS-B/BT/BE/BTE score (v4.0)
	Severity Severity `json:"severity"`
}

// ErrCVSS is returned for a vector that is neither CVSS v3.1 nor v4.0.
var ErrCVSS = errors.New("not a valid CVSS v3.1 or v4.0 vector")

// ParseCVSS parses and scores a vector with github.com/pandatix/go-cvss. Only v3.1
// ("CVSS:3.1/...") and v4.0 ("CVSS:4.0/...") are accepted.
//
// TS-0045 5.2.1.2: the risk level of a vulnerability, which sets its fix deadline.
func ParseCVSS(vector string) (CVSS, error) {
	if len(vector) > maxVector {
		return CVSS{}, fmt.Errorf("%w: longer than %d bytes", ErrCVSS, maxVector)
	}
	switch {
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		v, err := gocvss31.ParseVector(vector)
		if err != nil {
			return CVSS{}, fmt.Errorf("%w: %v", ErrCVSS, err)
		}
		score := v.BaseScore()
		rating, err := gocvss31.Rating(score)
		if err != nil {
			return CVSS{}, fmt.Errorf("%w: %v", ErrCVSS, err)
		}
		return CVSS{Version: "3.1", Vector: v.Vector(), Score: score, Severity: Severity(strings.ToLower(rating))}, nil
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		v, err := gocvss40.ParseVector(vector)
		if err != nil {
			return CVSS{}, fmt.Errorf("%w: %v", ErrCVSS, err)
		}
		score := v.Score()
		rating, err := gocvss40.Rating(score)
		if err != nil {
			return CVSS{}, fmt.Errorf("%w: %v", ErrCVSS, err)
		}
		return CVSS{Version: "4.0", Vector: v.Vector(), Score: score, Severity: Severity(strings.ToLower(rating))}, nil
	}
	return CVSS{}, ErrCVSS
}
