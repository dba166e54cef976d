package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"hearth/internal/events"
)

// errUnverified makes the command exit non-zero after printing why.
var errUnverified = errors.New("the event log does not verify")

// newVerifyEventsCmd is "ts0045 verify-events --root ROOT.crt FILE": the offline check of
// an event log exported by a gateway (GET /api/v1/events/export).
//
// TS-0045 5.8.1.1: an owner or a test lab checks, without the device, that no entry of
// the security log was edited, deleted, inserted or reordered.
func newVerifyEventsCmd() *cobra.Command {
	var root string
	cmd := &cobra.Command{
		Use:   "verify-events --root ROOT.crt FILE",
		Short: "Verify a gateway's exported security event log (hash chain and device signatures)",
		Long: `Verify a security event log exported by a Hearth gateway (GET /api/v1/events/export).

The export's identity certificate must chain to the vendor root given with --root; the
device's signature over the first and last entries must verify; every entry's hash must
follow from the entry before it; and every head the device signed while logging must
match. Any edited, deleted, inserted or reordered entry, or entries cut from either end,
fail. Exit status 0 when the log verifies, 1 when it does not.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if root == "" {
				return errors.New("--root is required: the vendor root certificate (PEM) the device's identity chains to")
			}
			pem, err := os.ReadFile(root)
			if err != nil {
				return err
			}
			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				return fmt.Errorf("%s holds no PEM certificate", root)
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			x, err := events.ParseExport(f)
			if err != nil {
				return err
			}
			v, err := events.Verify(x, roots, time.Now())
			out := cmd.OutOrStdout()
			if err != nil {
				fmt.Fprintf(out, "FAILED: %v\n", err)
				return errUnverified
			}
			fmt.Fprintf(out, "OK: %d entries (%d to %d) of %s, signed at export %s; %d earlier signed heads match.\n",
				v.Entries, v.FirstID, v.LastID, v.Serial, v.ExportedAt.UTC().Format(time.RFC3339), v.SignedHeads)
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "root", "", "vendor root CA certificate (PEM)")
	return cmd
}
