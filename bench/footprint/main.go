// Command footprint measures what hearthd costs the device it runs on: binary size,
// start-up time, resident memory when idle and during a burst of logins. It builds hearthd
// as a release is built and sets it beside a peer: the smallest Go HTTPS server with the
// same build flags and TLS policy (bench/footprint/peer), which shows Go's own floor.
// It prints the results as Markdown.
//
//	go run ./bench/footprint [--starts 10] [--idle-runs 3] [--burst 50]
//
// Starts of hearthd and the peer alternate, so drift in the machine's load affects both
// alike. All traffic stays on loopback and every process started is stopped before the
// command exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"hearth/bench/internal/rig"
)

// config is the command line.
type config struct {
	starts    int
	idleRuns  int
	idle      time.Duration
	burst     int
	burstRuns int
	keep      bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err == nil {
		err = run(ctx, cfg, os.Stdout, os.Stderr)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "footprint:", err)
		}
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("footprint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.starts, "starts", 10, "measured starts per server, after one warm-up start (1-50)")
	fs.IntVar(&c.idleRuns, "idle-runs", 3, "of those starts, how many also wait --idle and measure RSS again")
	fs.DurationVar(&c.idle, "idle", 10*time.Second, "idle time before the second RSS reading (at most 1m)")
	fs.IntVar(&c.burst, "burst", 50, "concurrent logins in the burst, each from its own loopback address (1-254)")
	fs.IntVar(&c.burstRuns, "burst-runs", 3, "bursts per server, each on a fresh start (1-10)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.validate()
}

func (c config) validate() error {
	switch {
	case c.starts < 1 || c.starts > 50:
		return errors.New("--starts must be 1-50")
	case c.idleRuns < 0 || c.idleRuns > c.starts:
		return errors.New("--idle-runs must be 0..--starts")
	case c.idle <= 0 || c.idle > time.Minute:
		return errors.New("--idle must be in (0, 1m]")
	case c.burst < 1 || c.burst > 254:
		return errors.New("--burst must be 1-254")
	case c.burstRuns < 1 || c.burstRuns > 10:
		return errors.New("--burst-runs must be 1-10")
	}
	return nil
}

// run builds, measures and reports.
func run(ctx context.Context, c config, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "hearth-footprint-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	if c.keep {
		fmt.Fprintln(stderr, "footprint: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bins, err := build(ctx, dir, stderr)
	if err != nil {
		return err
	}
	servers, err := prepare(ctx, bins, dir)
	if err != nil {
		return err
	}
	res := results{bins: bins}
	if res.loadBefore, err = rig.LoadAverage(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "footprint: %d+1 starts of each server\n", c.starts)
	if res.starts, err = measureStarts(ctx, c, servers, dir); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "footprint: %d bursts of %d per server\n", c.burstRuns, c.burst)
	if res.bursts, err = measureBursts(ctx, c, servers, dir); err != nil {
		return err
	}
	if res.loadAfter, err = rig.LoadAverage(); err != nil {
		return err
	}
	return report(stdout, c, res)
}
