package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"hearth/internal/atomicfile"
	"hearth/internal/vuln"
	"hearth/internal/vuln/osv"
	"hearth/internal/vuln/sbom"
)

// newSBOM writes a program's CycloneDX SBOM from its Go build information
// (TS-0045 5.2.1.3).
func newSBOM() *cobra.Command {
	var artifact, version, out string
	cmd := &cobra.Command{
		Use:   "sbom --artifact FILE [--version X.Y.Z] [--out F]",
		Short: "Write a program's software bill of materials (CycloneDX JSON) from its Go build information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if artifact == "" {
				return errors.New("--artifact is required")
			}
			bom, err := sbom.Generate(artifact, version, time.Now())
			if err != nil {
				return err
			}
			if out == "" {
				return sbom.Write(cmd.OutOrStdout(), bom)
			}
			var buf bytes.Buffer
			if err := sbom.Write(&buf, bom); err != nil {
				return err
			}
			return atomicfile.Write(out, buf.Bytes(), 0o644)
		},
	}
	cmd.Flags().StringVar(&artifact, "artifact", "", "the program (required)")
	cmd.Flags().StringVar(&version, "version", "", "release version (default: the main module's version)")
	cmd.Flags().StringVar(&out, "out", "", "write here instead of standard output")
	return cmd
}

// writeReleaseSBOM stores the SBOM of a released program as sbom/hearthd-X.Y.Z.cdx.json
// in the vendor directory, where vulns scan finds it. A program without Go build
// information (a test stand-in) gets none, and the output says so.
func writeReleaseSBOM(w io.Writer, dir, version, artifact string) error {
	bom, err := sbom.Generate(artifact, version, time.Now())
	if errors.Is(err, sbom.ErrNotGo) {
		fmt.Fprintln(w, "no SBOM: the program carries no Go build information")
		return nil
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := sbom.Write(&buf, bom); err != nil {
		return err
	}
	sdir := filepath.Join(dir, vuln.SBOMDir)
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(sdir, "hearthd-"+version+".cdx.json")
	if err := atomicfile.Write(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "SBOM %s: %d components\n", path, len(*bom.Components))
	return nil
}

func vulnsScan(open opener) *cobra.Command {
	var advisories string
	cmd := &cobra.Command{
		Use:   "scan --dir V --advisories DIR",
		Short: "Match every release's SBOM against OSV advisories in DIR; open a report for each new hit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if advisories == "" {
				return errors.New("--advisories is required")
			}
			st, err := open()
			if err != nil {
				return err
			}
			as, err := osv.LoadDir(advisories)
			if err != nil {
				return err
			}
			opened, hits, err := st.Scan(as)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, h := range hits {
				fmt.Fprintf(w, "%s affects %s %v in %v\n", h.Advisory.ID, h.Component, h.Versions, h.Releases)
			}
			for _, r := range opened {
				fmt.Fprintf(w, "opened %s: %s\n", r.ID, r.Title)
			}
			fmt.Fprintf(w, "%d advisories, %d hits, %d new reports\n", len(as), len(hits), len(opened))
			return nil
		},
	}
	cmd.Flags().StringVar(&advisories, "advisories", "", "directory of OSV advisories, *.json (required)")
	return cmd
}
