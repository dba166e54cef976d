// Command hearth-sensor is a simulated constrained sensor: it generates plausible
// readings for one sensor model and publishes them to the gateway's MQTT broker over
// TLS with the sensor's own credential, buffering them while the gateway is away.
//
//	hearth-sensor --broker HOST:PORT --ca FILE --id ID --credential-file FILE --model MODEL
//	    [--server-name NAME] [--interval D] [--buffer N] [--buffer-file FILE]
//	    [--seed N] [--count N] [--log-level LEVEL]
//
// The credential is read from --credential-file or, failing that, from the
// HEARTH_SENSOR_CREDENTIAL environment variable; it is never printed. SIGINT and
// SIGTERM stop the sensor after saving its buffer file.
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hearth-sensor:", err)
		}
		os.Exit(2)
	}
}

// run parses flags and runs the sensor until ctx is done or --count readings were
// acknowledged.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := f.config(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: f.level}))
	s, err := newSensor(cfg, log)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
