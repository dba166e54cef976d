// Command hearth-launcher starts the gateway's firmware (hearthd) from a verified A/B
// slot and keeps it running. It is the device's verified-launch step: before running a
// slot it checks the slot's program against its signed TUF metadata under the trusted
// root sealed in the keystore, refuses an altered slot or one below the security
// version (running the other slot instead and recording a security event), and tries a
// newly installed slot first, keeping it only when it becomes healthy.
//
//	hearth-launcher --data DIR --ready-file FILE [--tpm PATH] [--health-timeout 60s] [-- hearthd flags]
//
// The launcher itself is not updated by the update mechanism; on a real device it is
// the program the platform's secure boot verifies.
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
	"path/filepath"
	"syscall"
	"time"

	"hearth/internal/identity"
	"hearth/internal/keystore"
	"hearth/internal/keystore/tpm"
	"hearth/internal/store/sqlite"
	"hearth/internal/update"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hearth-launcher:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth-launcher", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "device data directory (required)")
	ready := fs.String("ready-file", "", "where hearthd reports its address (required)")
	tpmPath := fs.String("tpm", "", "TPM 2.0 holding the keystore's wrapping key; empty: host key")
	health := fs.Duration("health-timeout", time.Minute, "how long a newly installed slot may take to become healthy")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" || *ready == "" {
		return errors.New("--data and --ready-file are required")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	vault, closeVault, err := openKeystore(*data, *tpmPath)
	if err != nil {
		return err
	}
	defer closeVault()
	db, err := sqlite.Open(ctx, filepath.Join(*data, "hearthd.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	hearthdArgs := append([]string{"--data", *data}, fs.Args()...)
	if *tpmPath != "" {
		hearthdArgs = append(hearthdArgs, "--tpm", *tpmPath)
	}
	l, err := update.NewLauncher(update.LauncherConfig{
		DataDir: *data, Vault: vault, Events: &sqlite.EventLog{DB: db, Log: log}, Args: hearthdArgs,
		ReadyFile: *ready, HealthTimeout: *health, Log: log, Stdout: os.Stdout, Stderr: os.Stderr,
	})
	if err != nil {
		return err
	}
	return l.Run(ctx)
}

func openKeystore(data, tpmPath string) (*keystore.Store, func(), error) {
	dir := filepath.Join(data, identity.KeystoreDir)
	if tpmPath == "" {
		ks, err := keystore.Open(dir, keystore.NewHostKey(dir))
		return ks, func() {}, err
	}
	w, err := tpm.Open(tpmPath)
	if err != nil {
		return nil, nil, err
	}
	ks, err := keystore.Open(dir, w)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return ks, func() { w.Close() }, nil
}
