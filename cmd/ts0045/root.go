package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// run executes the command line args (without the program name), writing
// results to stdout and help to stdout or stderr as cobra directs. Errors are
// returned, not printed.
func run(args []string, stdout, stderr io.Writer) error {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.Execute()
}

// newRootCmd builds the ts0045 command tree. Each subcommand lives in its own
// file and is registered here.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "ts0045",
		Short:         "Work with the TAICS TS-0045 v1.0:2021 consumer IoT security requirements",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())
	})
	root.AddCommand(newClausesCmd(), newVerifyEventsCmd())
	return root
}
