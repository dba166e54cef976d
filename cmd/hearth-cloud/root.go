package main

import (
	"github.com/spf13/cobra"
)

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "hearth-cloud",
		Short:         "Hearth vendor tools and services",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newInit(), newProvision(), newServe(),
		newTUFInit(), newRelease(), newRollout(), newReleases(), newBundle(), newRotateKey(), newFleet())
	root.AddCommand(newVulns(), newSBOM())
	return root
}
