package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"hearth/internal/release"
)

func newRelease() *cobra.Command {
	var dir, reviewer, acceptRisk string
	var rel release.Release
	cmd := &cobra.Command{
		Use:   "release --dir V --version X.Y.Z --artifact FILE --notes TEXT",
		Short: "Sign a firmware release into the vendor's update repository (offline targets key)",
		Long: `Copies the hearthd program FILE into the update repository as target hearthd-X.Y.Z,
with its description (notes, fixes, whether installing it interrupts the device, rollout,
security version), and signs new targets, snapshot and timestamp metadata.

The version must be newer than every release; the security version defaults to the
previous release's and may only increase: devices refuse a release whose security version
is below the one they have run.

Before signing, a security review record is built from the vendor's vulnerability
reports (reviews/hearthd-X.Y.Z.md and .json): a critical or high report past its fix
deadline blocks the release unless --accept-risk gives the reason.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" || rel.Version == "" || rel.ArtifactPath == "" || rel.Notes == "" {
				return errors.New("--dir, --version, --artifact and --notes are required")
			}
			review, err := reviewRelease(dir, rel.Version, rel.ArtifactPath, reviewer, acceptRisk)
			if err != nil {
				return err
			}
			t, err := release.Publish(dir, rel, release.Options{})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "released %s: security version %d, %d bytes, sha256 %s, offered to %s\n",
				t.Name, t.SecurityVersion, t.Length, t.SHA256, rolloutText(t.Rollout))
			if err := writeReleaseSBOM(cmd.OutOrStdout(), dir, rel.Version, rel.ArtifactPath); err != nil {
				return err
			}
			return writeReview(cmd.OutOrStdout(), dir, review)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "vendor directory (required)")
	f.StringVar(&rel.Version, "version", "", "release version X.Y.Z (required)")
	f.StringVar(&rel.ArtifactPath, "artifact", "", "the hearthd program to release (required)")
	f.StringVar(&rel.Notes, "notes", "", "release notes shown to the user (required)")
	f.StringVar(&rel.Fixes, "fixes", "", "security issues the release fixes, shown to the user")
	f.BoolVar(&rel.Interrupts, "interrupts", false, "installing the release interrupts the device's functions (the user is told first)")
	f.IntVar(&rel.Rollout.Percent, "rollout", 100, "percentage of devices offered the release, 0-100")
	f.IntVar(&rel.SecurityVersion, "security-version", 0, "security version (default: the previous release's, 1 for the first)")
	f.StringVar(&reviewer, "reviewer", "", "who reviewed the release, recorded in its security review")
	f.StringVar(&acceptRisk, "accept-risk", "", "release although a critical or high report is past its fix deadline, for this recorded reason")
	return cmd
}

func newRollout() *cobra.Command {
	var dir, version string
	var percent int
	var pause, resume, withdraw bool
	cmd := &cobra.Command{
		Use:   "rollout --dir V --version X.Y.Z (--percent P | --pause | --resume | --withdraw)",
		Short: "Widen, pause, resume or withdraw a release's rollout (offline targets key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" || version == "" {
				return errors.New("--dir and --version are required")
			}
			ro, err := currentRollout(dir, version)
			if err != nil {
				return err
			}
			switch {
			case cmd.Flags().Changed("percent"):
				ro.Percent = percent
			case pause:
				ro.Paused = true
			case resume:
				ro.Paused = false
			case withdraw:
				ro.Withdrawn = true
			}
			if err := release.SetRollout(dir, version, ro, release.Options{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "hearthd %s: %s\n", version, rolloutText(ro))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "vendor directory (required)")
	f.StringVar(&version, "version", "", "release version X.Y.Z (required)")
	f.IntVar(&percent, "percent", 0, "percentage of devices offered the release, 0-100")
	f.BoolVar(&pause, "pause", false, "stop offering the release to devices that do not have it yet")
	f.BoolVar(&resume, "resume", false, "offer a paused release again")
	f.BoolVar(&withdraw, "withdraw", false, "withdraw the release: no device is offered it any more")
	cmd.MarkFlagsMutuallyExclusive("percent", "pause", "resume", "withdraw")
	cmd.MarkFlagsOneRequired("percent", "pause", "resume", "withdraw")
	return cmd
}

func currentRollout(dir, version string) (release.Rollout, error) {
	ts, err := release.Targets(dir)
	if err != nil {
		return release.Rollout{}, err
	}
	for _, t := range ts {
		if t.Version == version {
			return t.Rollout, nil
		}
	}
	return release.Rollout{}, fmt.Errorf("%w: %s", release.ErrNotFound, version)
}

func rolloutText(ro release.Rollout) string {
	switch {
	case ro.Withdrawn:
		return "withdrawn"
	case ro.Paused:
		return fmt.Sprintf("%d%% of devices, paused", ro.Percent)
	}
	return fmt.Sprintf("%d%% of devices", ro.Percent)
}

func newReleases() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "releases --dir V",
		Short: "List the releases in the vendor's update repository",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			ts, err := release.Targets(dir)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tSECURITY\tROLLOUT\tINTERRUPTS\tSIZE\tSHA256\tRELEASED")
			for _, t := range ts {
				fmt.Fprintf(w, "%s\t%d\t%s\t%v\t%d\t%s\t%s\n", t.Version, t.SecurityVersion, rolloutText(t.Rollout),
					t.Interrupts, t.Length, t.SHA256[:16], t.Released.Format(time.DateTime))
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "vendor directory (required)")
	return cmd
}

func newBundle() *cobra.Command {
	var dir, version, out string
	cmd := &cobra.Command{
		Use:   "bundle --dir V --version X.Y.Z --out FILE.tar",
		Short: "Write an offline update bundle of a release (for USB or upload in the web UI)",
		Long: `Writes a tar archive holding the release's program and the signed metadata a device
needs to verify it offline. The bundle is as fresh as the timestamp it carries: make it
shortly before use.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" || version == "" || out == "" {
				return errors.New("--dir, --version and --out are required")
			}
			if err := writeBundle(dir, version, out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "bundle of hearthd %s written to %s\n", version, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "vendor directory (required)")
	f.StringVar(&version, "version", "", "release version X.Y.Z (required)")
	f.StringVar(&out, "out", "", "bundle file to write (required)")
	return cmd
}

// writeBundle streams the bundle into a temporary file beside out and renames it into
// place, so out is never a partial bundle.
func writeBundle(dir, version, out string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = release.Bundle(dir, version, f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Close()
	}
	if err == nil {
		err = os.Rename(f.Name(), out)
	}
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return nil
}
