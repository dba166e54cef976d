// Package osv reads vulnerability advisories in the OSV format (https://ossf.github.io/osv-schema/)
// from a local directory, as published by Go's vulnerability database and GitHub, and
// says which Go module versions they affect.
//
// Only what matching needs is read: id, summary, details, aliases, severity and, for
// each affected package of the "Go" ecosystem, its SEMVER ranges (introduced, fixed,
// last_affected events) and explicit versions. Other ecosystems are ignored.
//
// Threat model: advisory files come from a mirror the vendor downloads; a hostile or
// broken file must not crash the scan or match everything: files are bounded, decoded
// strictly enough to reject wrong types, and versions that are not semantic versions
// never match.
//
// TS-0045 5.2.1.3: continuous monitoring of the components for known vulnerabilities.
package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/semver"
)

// maxAdvisory bounds one advisory file.
const maxAdvisory = 1 << 20

// Advisory is one OSV entry.
type Advisory struct {
	ID       string     `json:"id"`
	Summary  string     `json:"summary"`
	Details  string     `json:"details"`
	Aliases  []string   `json:"aliases"`
	Severity []Severity `json:"severity"`
	Affected []Affected `json:"affected"`
}

// Severity is a scored severity, e.g. {"type":"CVSS_V3","score":"CVSS:3.1/..."}.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one affected package.
type Affected struct {
	Package  Package  `json:"package"`
	Ranges   []Range  `json:"ranges"`
	Versions []string `json:"versions"`
}

// Package names a package in an ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
}

// Range is a list of version events.
type Range struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Event is one of introduced, fixed or last_affected.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
}

// Parse decodes one advisory and checks it has an id and at least one affected entry.
func Parse(b []byte) (Advisory, error) {
	var a Advisory
	if len(b) > maxAdvisory {
		return a, errors.New("osv: advisory larger than 1 MiB")
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&a); err != nil {
		return a, fmt.Errorf("osv: %w", err)
	}
	if a.ID == "" || len(a.ID) > 100 || strings.ContainsAny(a.ID, "/\\\x00\n") {
		return a, errors.New("osv: missing or invalid id")
	}
	if len(a.Affected) == 0 {
		return a, fmt.Errorf("osv: %s: no affected packages", a.ID)
	}
	return a, nil
}

// LoadDir reads every *.json advisory under dir (recursively), sorted by id.
func LoadDir(dir string) ([]Advisory, error) {
	var as []Advisory
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(d.Name(), ".json") || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		a, err := Parse(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		as = append(as, a)
		return nil
	})
	sort.Slice(as, func(i, j int) bool { return as[i].ID < as[j].ID })
	return as, err
}

// Affects reports whether the advisory affects the Go module name at version
// ("v1.2.3", as in go.mod and package URLs).
func (a Advisory) Affects(name, version string) bool {
	v := canonical(version)
	if v == "" {
		return false
	}
	for _, af := range a.Affected {
		if af.Package.Ecosystem != "Go" || af.Package.Name != name {
			continue
		}
		for _, x := range af.Versions {
			if canonical(x) == v {
				return true
			}
		}
		for _, r := range af.Ranges {
			if r.Type == "SEMVER" && inRange(r.Events, v) {
				return true
			}
		}
	}
	return false
}

// inRange applies OSV's evaluation: events sorted by version; at or past an
// introduced event the version is affected, at or past a fixed one it is not, past a
// last_affected one it is not.
func inRange(events []Event, v string) bool {
	type ev struct {
		kind, ver string
	}
	var es []ev
	for _, e := range events {
		switch {
		case e.Introduced != "":
			es = append(es, ev{"introduced", canonicalOrZero(e.Introduced)})
		case e.Fixed != "":
			es = append(es, ev{"fixed", canonical(e.Fixed)})
		case e.LastAffected != "":
			es = append(es, ev{"last_affected", canonical(e.LastAffected)})
		}
	}
	sort.SliceStable(es, func(i, j int) bool { return semver.Compare(es[i].ver, es[j].ver) < 0 })
	affected := false
	for _, e := range es {
		if e.ver == "" {
			continue // not a semantic version: ignored, never matches
		}
		c := semver.Compare(v, e.ver)
		switch {
		case e.kind == "introduced" && c >= 0:
			affected = true
		case e.kind == "fixed" && c >= 0:
			affected = false
		case e.kind == "last_affected" && c > 0:
			affected = false
		}
	}
	return affected
}

// canonical turns "1.2.3" or "v1.2.3" into "v1.2.3"; "" when not a semantic version.
func canonical(s string) string {
	if !strings.HasPrefix(s, "v") {
		s = "v" + s
	}
	if !semver.IsValid(s) {
		return ""
	}
	return semver.Canonical(s)
}

func canonicalOrZero(s string) string {
	if s == "0" {
		return "v0.0.0-0"
	}
	return canonical(s)
}
