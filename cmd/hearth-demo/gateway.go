package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"hearth/internal/cloud"
	"hearth/internal/gateway"
)

// The hidden arguments with which hearth-demo runs itself as one of its processes.
const (
	gatewayCommand = "__gateway"
	cloudCommand   = "__cloud"
)

// role runs one process of the demo: the gateway (the same code as hearthd, default
// settings) or the vendor services (the same code as hearth-cloud serve).
func role(name string, args []string) int {
	flags := map[string]string{}
	for i := 0; i+1 < len(args); i += 2 {
		flags[args[i]] = args[i+1]
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch name {
	case gatewayCommand:
		gateway.ApplyMemoryLimit()
		if err = gateway.CaptureCrashes(flags["--data"]); err != nil {
			break
		}
		err = runGateway(ctx, gateway.Config{DataDir: flags["--data"], HTTPSAddr: flags["--addr"], MQTTSAddr: flags["--mqtts-addr"], ReadyFile: flags["--ready-file"], CloudURL: flags["--cloud-url"], Log: log})
	case cloudCommand:
		err = cloud.ListenAndServe(ctx, cloud.Config{VendorDir: flags["--dir"], Log: log}, flags["--addr"], flags["--ready-file"])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		return 1
	}
	return 0
}

func runGateway(ctx context.Context, cfg gateway.Config) error {
	m, err := gateway.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}
