package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"hearth/internal/provision"
	"hearth/internal/release"
)

func newInit() *cobra.Command {
	var dir, vendor string
	var domains []string
	cmd := &cobra.Command{
		Use:   "init --dir V",
		Short: "Create the vendor directory: offline root CA and issuing CA (ECDSA P-256)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			if err := provision.InitVendor(dir, vendor, domains, time.Now()); err != nil {
				return err
			}
			if err := release.Init(dir, release.InitOptions{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "vendor %q initialised in %s\nmove %s/offline to offline storage: it holds the root CA key\n", vendor, dir, dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "vendor directory to create (required)")
	cmd.Flags().StringVar(&vendor, "vendor", "Hearth Labs", "vendor name")
	cmd.Flags().StringSliceVar(&domains, "service-domain", nil, "DNS domain of the vendor's online services the CAs may certify (besides local names)")
	return cmd
}
