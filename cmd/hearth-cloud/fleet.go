package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"hearth/internal/cloud"
	"hearth/internal/fleet"
)

// newFleet is the fleet monitor's tools:
//
//	hearth-cloud fleet scan --dir V [--day YYYY-MM-DD]   score the stored telemetry, write
//	                                                     fleet/anomalies.json; exit 1 on anomalies
//	hearth-cloud fleet token --dir V                     make the operator token (printed once)
func newFleet() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Check the fleet's telemetry for security anomalies (TS-0045 5.8.1.2)",
	}
	cmd.AddCommand(newFleetScan(), newFleetToken())
	return cmd
}

func newFleetScan() *cobra.Command {
	var dir, day string
	cmd := &cobra.Command{
		Use:   "scan --dir V [--day YYYY-MM-DD]",
		Short: "Score a day (default: yesterday and today, UTC) and write fleet/anomalies.json; exit status 1 when anything is anomalous",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			var opts cloud.ScanOptions
			opts.Log = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			if day != "" {
				d, err := fleet.ParseDay(day)
				if err != nil {
					return fmt.Errorf("--day: %w", err)
				}
				opts.Days = []fleet.Day{d}
			}
			rep, _, err := cloud.ScanFleet(dir, opts)
			if err != nil {
				return err
			}
			n := 0
			for _, a := range rep.Anomalies {
				if !scanned(rep.Days, a.Day) {
					continue
				}
				n++
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\t%s\t%s\t%d\t%s\n", a.Day, a.Type, a.Metric, a.Device, a.Value, a.Reason)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d anomalies in %d devices' telemetry (%v), written to %s\n", n, rep.Devices, rep.Days, cloud.AnomaliesFile)
			if n > 0 {
				// The exit status is the operators' alerting hook.
				return fmt.Errorf("%d fleet anomalies", n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "vendor directory (required)")
	cmd.Flags().StringVar(&day, "day", "", "day to score, YYYY-MM-DD (UTC)")
	return cmd
}

func scanned(days []string, day string) bool {
	for _, d := range days {
		if d == day {
			return true
		}
	}
	return false
}

func newFleetToken() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "token --dir V",
		Short: "Make a new operator token for /fleet/anomalies (the previous one stops working); it is printed once, only its hash is kept",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			tok, err := cloud.NewOperatorToken(dir, rand.Reader)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			fmt.Fprintf(cmd.ErrOrStderr(), "Operator token made; its SHA-256 is in %s. Send it as \"Authorization: Bearer <token>\".\n", cloud.OperatorTokenFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "vendor directory (required)")
	return cmd
}
