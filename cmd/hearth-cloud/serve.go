package main

import (
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"hearth/internal/cloud"
)

func newServe() *cobra.Command {
	var dir, addr, ready string
	cmd := &cobra.Command{
		Use:   "serve --dir V [--addr HOST:PORT]",
		Short: "Run the vendor's online services (device certificate renewal) over TLS",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--dir is required")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			return cloud.ListenAndServe(ctx, cloud.Config{VendorDir: dir, Log: log}, addr, ready)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "vendor directory (required)")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8444", "listen address")
	cmd.Flags().StringVar(&ready, "ready-file", "", "write the listen address here as JSON once serving")
	return cmd
}
