package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"hearth/internal/keystore/tpm"
	"hearth/internal/provision"
)

func newProvision() *cobra.Command {
	var req provision.Request
	var label, supportEnd, tpmPath string
	cmd := &cobra.Command{
		Use:   "provision --dir V --out D --label L.json",
		Short: "Make one device's factory data (unique key, certificate, default password) and its label",
		Long: `Creates the device data directory D: a keystore with a fresh identity key, a
certificate from the vendor's issuing CA binding serial, model and name, and the hash of a
fresh random default password. The password itself is written only to the label file L.json
(mode 0600) for the label printer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.VendorDir == "" || req.OutDir == "" || label == "" {
				return errors.New("--dir, --out and --label are required")
			}
			if supportEnd != "" {
				t, err := time.Parse(time.DateOnly, supportEnd)
				if err != nil {
					return fmt.Errorf("--support-end: want YYYY-MM-DD: %w", err)
				}
				req.SupportEnd = t
			}
			if tpmPath != "" {
				w, err := tpm.Open(tpmPath)
				if err != nil {
					return err
				}
				defer w.Close()
				req.Wrapper = w
			}
			lbl, err := provision.Device(req)
			if err != nil {
				return err
			}
			if err := provision.WriteLabel(label, lbl); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "provisioned %s %s serial %s into %s; label in %s\n", lbl.Model, lbl.Name, lbl.Serial, req.OutDir, label)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.VendorDir, "dir", "", "vendor directory (required)")
	f.StringVar(&req.OutDir, "out", "", "device data directory to create (required)")
	f.StringVar(&label, "label", "", "label file to write (required)")
	f.StringVar(&req.Model, "model", "HG-100", "model designation")
	f.StringVar(&req.Name, "name", "Hearth Gateway", "product name")
	f.StringVar(&req.Serial, "serial", "", "serial number (default: a fresh random one)")
	f.StringVar(&supportEnd, "support-end", "", "last day of security updates, YYYY-MM-DD (default: five years)")
	f.StringVar(&req.Username, "username", "owner", "owner account name")
	f.StringSliceVar(&req.DNSNames, "dns", nil, "DNS names for the HTTPS certificate (default localhost)")
	f.StringSliceVar(&req.IPs, "ip", nil, "IP addresses for the HTTPS certificate (default 127.0.0.1, ::1)")
	f.StringVar(&req.Firmware, "firmware", "", "released firmware version to install into the device's first slot (run it with hearth-launcher)")
	f.StringVar(&tpmPath, "tpm", "", "the device's TPM 2.0 (/dev/tpmrm0 or a swtpm socket) to seal its keystore; empty: a host key")
	return cmd
}
