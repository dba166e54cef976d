package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"hearth/internal/gateway"
)

// gatewayCommand is the hidden argument with which hearth-demo runs itself as the
// gateway process.
const gatewayCommand = "__gateway"

// runGateway is the gateway process: the same code as hearthd, with default settings.
func runGateway(args []string) int {
	var cfg gateway.Config
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--data":
			cfg.DataDir = args[i+1]
		case "--https-addr":
			cfg.HTTPSAddr = args[i+1]
		case "--ready-file":
			cfg.ReadyFile = args[i+1]
		default:
			fmt.Fprintln(os.Stderr, "unknown gateway argument", args[i])
			return 2
		}
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, err := gateway.New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		return 1
	}
	defer m.Close()
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		return 1
	}
	return 0
}
