package main

import (
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"hearth/internal/cloud"
)

func newServe() *cobra.Command {
	var dir, addr, ready, relay, from, user, passwordFile string
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
			cfg := cloud.Config{VendorDir: dir, Log: log}
			if relay != "" {
				m := &cloud.MailRelay{Relay: relay, From: from, Username: user}
				if passwordFile != "" {
					pw, err := os.ReadFile(passwordFile)
					if err != nil {
						return err
					}
					m.Password = strings.TrimSpace(string(pw))
				}
				if err := m.Validate(); err != nil {
					return err
				}
				cfg.Mail = m
			}
			return cloud.ListenAndServe(ctx, cfg, addr, ready)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "vendor directory (required)")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8444", "listen address")
	cmd.Flags().StringVar(&ready, "ready-file", "", "write the listen address here as JSON once serving")
	cmd.Flags().StringVar(&relay, "smtp-relay", "", "mail relay (host:port, STARTTLS required) for mail to vulnerability reporters; empty: mail stays queued in vulns/outbox")
	cmd.Flags().StringVar(&from, "smtp-from", "", "sender address of mail to reporters")
	cmd.Flags().StringVar(&user, "smtp-user", "", "user name at the relay (AUTH PLAIN)")
	cmd.Flags().StringVar(&passwordFile, "smtp-password-file", "", "file holding the relay password")
	return cmd
}
