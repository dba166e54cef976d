// Command hearth-demo runs the whole Hearth system on loopback with one command, for a
// first look:
//
//	go run ./cmd/hearth-demo [--dir DIR]
//
// On first start it creates a vendor (device CA), provisions one gateway and prints its
// label; on later starts it reuses the state in DIR. The vendor services (the same code as
// hearth-cloud serve) and the gateway (the same code as hearthd) run as their own
// processes on free loopback ports. DIR/demo.json describes the running system for
// scripts and tests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == gatewayCommand || os.Args[1] == cloudCommand) {
		os.Exit(role(os.Args[1], os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hearth-demo:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", defaultDir(), "state directory (created on first start, reused after)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	d := &demo{dir: abs, stdout: stdout, stderr: stderr}
	return d.run(ctx)
}

func defaultDir() string {
	if c, err := os.UserCacheDir(); err == nil {
		return filepath.Join(c, "hearth-demo")
	}
	return "hearth-demo-data"
}
