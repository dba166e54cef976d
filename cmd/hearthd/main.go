// Command hearthd is the Hearth gateway daemon: the product. It serves the web UI and
// REST API over HTTPS only, and MQTT over TLS to paired sensors, from the factory data
// written by `hearth-cloud provision`.
//
//	hearthd --data DIR [--https-addr HOST:PORT] [--mqtts-addr HOST:PORT] [--cloud-url URL] [--ready-file FILE]
//
// Release builds (docs/BUILD.md) use the certified FIPS 140-3 module and refuse every
// --insecure-... flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"hearth/internal/auth"
	"hearth/internal/buildinfo"
	"hearth/internal/gateway"
	"hearth/internal/update"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, gateway.ErrRestart) {
			os.Exit(update.ExitRestart)
		}
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hearthd:", err)
		}
		os.Exit(2)
	}
}

// run parses flags and runs the gateway until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "factory-reset" {
		return factoryReset(ctx, args[1:], stdout, stderr)
	}
	cfg, showVersion, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if showVersion {
		fips, module := buildinfo.FIPS()
		fmt.Fprintf(stdout, "hearthd %s (release %v, fips140 %v, module %s)\n", buildinfo.Version(), buildinfo.Release(), fips, module)
		return nil
	}
	gateway.ApplyMemoryLimit()
	if err := gateway.CaptureCrashes(cfg.DataDir); err != nil {
		return err
	}
	m, err := gateway.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}

func parseFlags(args []string, stderr io.Writer) (gateway.Config, bool, error) {
	fs := flag.NewFlagSet("hearthd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg gateway.Config
	lock := auth.DefaultLockout
	fs.StringVar(&cfg.DataDir, "data", "", "device data directory written by provisioning (required)")
	fs.StringVar(&cfg.HTTPSAddr, "https-addr", gateway.DefaultHTTPSAddr, "HTTPS listen address")
	fs.StringVar(&cfg.MQTTSAddr, "mqtts-addr", gateway.DefaultMQTTSAddr, "MQTT over TLS listen address for sensors, open while a sensor is paired; empty: no sensors")
	fs.StringVar(&cfg.ReadyFile, "ready-file", "", "write the listen address here as JSON once serving")
	fs.StringVar(&cfg.CloudURL, "cloud-url", "", "vendor services (https://host:port) for certificate renewal; empty: local only")
	fs.StringVar(&cfg.TPM, "tpm", "", "TPM 2.0 holding the keystore's wrapping key (/dev/tpmrm0 or a swtpm socket); empty: host key")
	fs.StringVar(&cfg.AlertCA, "alert-ca", "", "PEM file of a CA that webhook and mail relay certificates may chain to, besides the system's")
	fs.DurationVar(&cfg.IntegrityInterval, "integrity-interval", gateway.DefaultIntegrityInterval, "how often the installed programs are checked against their signed releases (at least 1s)")
	fs.IntVar(&lock.MaxFailures, "lock-max-failures", lock.MaxFailures, "failed logins that lock an account (1-5)")
	fs.DurationVar(&lock.LockPeriod, "lock-period", lock.LockPeriod, "how long a locked account stays locked")
	fs.DurationVar(&lock.ResetWindow, "lock-reset-window", lock.ResetWindow, "quiet time after which the failure counter resets")
	fs.BoolVar(&cfg.InsecureAllowShortLockout, "insecure-allow-short-lockout", false, "allow lock periods under one minute (tests only; refused in release builds)")
	fs.BoolVar(&cfg.InsecureUnlimitedSensorRate, "insecure-unlimited-sensor-rate", false, "do not rate-limit sensors (benchmarks only; refused in release builds)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	if fs.NArg() > 0 {
		return cfg, false, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return cfg, false, fmt.Errorf("--log-level: %w", err)
	}
	cfg.Lockout = lock
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if !*version && cfg.DataDir == "" {
		return cfg, false, errors.New("--data is required")
	}
	return cfg, *version, nil
}

// factoryReset is "hearthd factory-reset --data DIR [--tpm ...] [--yes]": the local
// console's way to delete all user data, as the owner's "delete my data" does. hearthd
// must not be running. The vendor's copy is deleted the next time the gateway runs
// with --cloud-url.
//
// TS-0045 5.7.1.4: deleting user data does not need the web UI.
func factoryReset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearthd factory-reset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg gateway.Config
	fs.StringVar(&cfg.DataDir, "data", "", "device data directory (required)")
	fs.StringVar(&cfg.TPM, "tpm", "", "TPM 2.0 holding the keystore's wrapping key; empty: host key")
	fs.StringVar(&cfg.CloudURL, "cloud-url", "", "vendor services; the deletion there is requested when hearthd next runs with them")
	yes := fs.Bool("yes", false, "confirm: delete every account, setting, consent, event, sensor and reading")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.DataDir == "" {
		return errors.New("factory-reset: --data is required")
	}
	if !*yes {
		return errors.New("factory-reset deletes all user data; run it again with --yes to confirm")
	}
	st, err := gateway.FactoryReset(ctx, cfg)
	if err != nil {
		return fmt.Errorf("factory-reset: %w", err)
	}
	fmt.Fprintf(stdout, "All user data on the gateway was deleted (request %s).\nThe owner account is back to the user name and password on the label.\nVendor deletion: %s.\n", st.Request, st.Cloud.State)
	return nil
}
