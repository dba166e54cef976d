package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"hearth/internal/release"
)

func newTUFInit() *cobra.Command {
	var dir, algorithm string
	cmd := &cobra.Command{
		Use:   "tuf-init --dir V [--algorithm ecdsa|ed25519]",
		Short: "Create the vendor's update repository (TUF) in an existing vendor directory",
		Long: `Creates one key per TUF role and the first signed metadata. The root and targets keys
go to V/offline/tuf (move them to offline storage with the rest of V/offline); the
snapshot and timestamp keys to V/tuf/keys, for the online services. Devices are
provisioned with V/tuf/repo/metadata/1.root.json. An initialised repository is never
overwritten.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			if err := release.Init(dir, release.InitOptions{Algorithm: algorithm}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "update repository initialised in %s/tuf\nmove %s/offline to offline storage: it holds the root and targets keys\n", dir, dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "vendor directory (required)")
	cmd.Flags().StringVar(&algorithm, "algorithm", release.AlgorithmECDSA, "key algorithm: ecdsa (P-256) or ed25519")
	return cmd
}

func newRotateKey() *cobra.Command {
	var dir, role, algorithm string
	cmd := &cobra.Command{
		Use:   "rotate-key --dir V --role root|targets|snapshot|timestamp [--algorithm ecdsa|ed25519]",
		Short: "Replace a TUF role's key, optionally with another algorithm (offline root key)",
		Long: `Generates a new key for the role and signs a new root version naming it, with the
current root key (and, for the root role, the new one too), then re-signs what the new key
signs. Devices follow the chain of root versions on their next check; nothing needs to be
re-provisioned. Without --algorithm the role keeps its algorithm.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" || role == "" {
				return errors.New("--dir and --role are required")
			}
			if err := release.RotateKey(dir, role, algorithm, release.Options{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s key rotated; the new root is in %s/tuf/repo/metadata/root.json\n", role, dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "vendor directory (required)")
	cmd.Flags().StringVar(&role, "role", "", "role whose key to replace: root, targets, snapshot or timestamp (required)")
	cmd.Flags().StringVar(&algorithm, "algorithm", "", "algorithm of the new key: ecdsa or ed25519 (default: the current one)")
	return cmd
}
