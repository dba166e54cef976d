package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/vuln"
	"hearth/internal/vuln/sbom"
)

// reviewRelease builds the security review record of a release before it is signed,
// and refuses the release while a critical or high vulnerability report is past its fix
// deadline, unless acceptedRisk says why it ships anyway.
//
// TS-0045 5.4.2.2: no release is delivered without a review of its known defects.
func reviewRelease(dir, version, artifact, reviewer, acceptedRisk string) (vuln.Review, error) {
	f, err := os.Open(artifact)
	if err != nil {
		return vuln.Review{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return vuln.Review{}, err
	}
	components := 0
	if bom, err := sbom.Generate(artifact, version, time.Now()); err == nil && bom.Components != nil {
		components = len(*bom.Components)
	} else if err != nil && !errors.Is(err, sbom.ErrNotGo) {
		return vuln.Review{}, err
	}
	store, err := vuln.Open(vuln.Config{VendorDir: dir})
	if err != nil {
		return vuln.Review{}, err
	}
	r, err := store.Review("hearthd", version, hex.EncodeToString(h.Sum(nil)), n, components, reviewer, acceptedRisk)
	if err != nil {
		return r, err
	}
	if r.Decision == "blocked" {
		var ids []string
		for _, it := range r.Blocking {
			ids = append(ids, it.ID+" ("+string(it.Severity)+")")
		}
		return r, fmt.Errorf("release blocked by the security review: %s past the fix deadline; fix them first, or release with --accept-risk REASON", strings.Join(ids, ", "))
	}
	return r, nil
}

// writeReview keeps the record as JSON and Markdown in the vendor directory.
func writeReview(w io.Writer, dir string, r vuln.Review) error {
	rdir := filepath.Join(dir, vuln.ReviewDir)
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(rdir, "hearthd-"+r.Version)
	raw, _ := json.MarshalIndent(r, "", "  ")
	if err := atomicfile.Write(base+".json", append(raw, '\n'), 0o644); err != nil {
		return err
	}
	if err := atomicfile.Write(base+".md", r.Markdown(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "security review %s.md: %d open reports, %d fixed, decision %s\n", base, len(r.Open), len(r.Fixed), r.Decision)
	return nil
}
