package vuln

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"hearth/internal/vuln/osv"
	"hearth/internal/vuln/sbom"
)

// SBOMDir holds each release's CycloneDX document, hearthd-X.Y.Z.cdx.json, under the
// vendor directory.
const SBOMDir = "sbom"

// Hit is a component of one or more releases that an advisory affects.
type Hit struct {
	Advisory  osv.Advisory
	Component string   // module path or "stdlib"
	Versions  []string // the affected versions found
	Releases  []string // the programs that contain them
}

// Match finds the advisories' hits in every SBOM of dir.
func Match(dir string, advisories []osv.Advisory) ([]Hit, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.cdx.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	hits := map[string]*Hit{}
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		program, comps, err := sbom.Read(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if program == "" {
			program = filepath.Base(f)
		}
		for _, a := range advisories {
			for _, c := range comps {
				if !a.Affects(c.Name, c.Version) {
					continue
				}
				k := a.ID + "\x00" + c.Name
				h := hits[k]
				if h == nil {
					h = &Hit{Advisory: a, Component: c.Name}
					hits[k] = h
				}
				h.Versions = appendNew(h.Versions, c.Version)
				h.Releases = appendNew(h.Releases, program)
			}
		}
	}
	out := make([]Hit, 0, len(hits))
	for _, h := range hits {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Advisory.ID+out[i].Component < out[j].Advisory.ID+out[j].Component
	})
	return out, nil
}

func appendNew(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// Scan matches every release's SBOM against the advisories and opens an internal
// report for each hit that has none yet (one per advisory and component, whatever the
// number of releases). It returns the reports opened.
//
// TS-0045 5.2.1.3: components are monitored continuously; what is found is handled in
// the same workflow, with the same deadlines, as an outside report.
func (s *Store) Scan(advisories []osv.Advisory) ([]Report, []Hit, error) {
	hits, err := Match(filepath.Join(s.cfg.VendorDir, SBOMDir), advisories)
	if errors.Is(err, fs.ErrNotExist) || len(hits) == 0 {
		return nil, hits, err
	}
	if err != nil {
		return nil, nil, err
	}
	unlock, err := s.lock(true)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	all, err := s.list()
	if err != nil {
		return nil, nil, err
	}
	known := map[string]bool{}
	for _, r := range all {
		if r.Advisory != "" {
			known[r.Advisory+"\x00"+r.Component] = true
		}
	}
	var opened []Report
	for _, h := range hits {
		if known[h.Advisory.ID+"\x00"+h.Component] {
			continue
		}
		r, err := s.openInternal(h)
		if err != nil {
			return opened, hits, err
		}
		opened = append(opened, r)
	}
	return opened, hits, nil
}

func (s *Store) openInternal(h Hit) (Report, error) {
	id, _, err := s.newIDToken()
	if err != nil {
		return Report{}, err
	}
	now := s.cfg.Now().UTC().Truncate(time.Second)
	a := h.Advisory
	title := oneLine(fmt.Sprintf("%s in %s: %s", a.ID, h.Component, a.Summary), MaxTitle-1)
	desc := fmt.Sprintf("Advisory %s (aliases: %s) affects %s %s in: %s.\n\n%s", a.ID, strings.Join(a.Aliases, ", "),
		h.Component, strings.Join(h.Versions, ", "), strings.Join(h.Releases, ", "), a.Details)
	if r := []rune(desc); len(r) > MaxDescription {
		desc = string(r[:MaxDescription])
	}
	r := Report{ID: id, Received: now, Source: "scan", Title: title, Description: desc, Product: "hearthd",
		Version: strings.Join(h.Releases, ", "), State: Received, Advisory: a.ID, Component: h.Component}
	for _, sv := range a.Severity {
		if c, err := ParseCVSS(sv.Score); err == nil {
			r.CVSS = &c
			break
		}
	}
	note := "Opened by the component scan against " + a.ID + "."
	return r, s.change(&r, Change{At: now, State: Received, Note: note})
}
