// Command mqtt measures hearthd's embedded MQTTS broker against Mosquitto under the same
// load. It builds hearthd (the release command without the release tag, so that
// --insecure-unlimited-sensor-rate is accepted) and hearth-cloud, provisions a device,
// starts hearthd, signs in as the owner and pairs --sensors sensors; it then starts
// Mosquitto with TLS on a loopback port, a throwaway ECDSA P-256 certificate, one
// password-file user per paired sensor and an ACL that lets each publish only to
// sensors/<user>/reading. For each broker in turn it measures, with internal/mqttload
// over TLS:
//
//   - resident memory idle, and with every paired sensor connected at once (each
//     publishes one QoS 1 reading, then stays idle);
//   - QoS 0 throughput: --publishers connections, each publishing as fast as it can for
//     --duration (messages sent; for hearthd also readings stored);
//   - QoS 1 throughput with --window publishes in flight per connection (messages
//     acknowledged, PUBACK latency, and for hearthd readings stored);
//   - QoS 1 latency with one publish in flight on one connection.
//
// and prints Markdown tables.
//
//	go run ./bench/mqtt [--duration 20s] [--publishers 4] [--window 64] [--sensors 1000]
//
// Each phase publishes as its own sensors, so the readings hearthd stored in a phase are
// counted by sensor in its readings database (opened read-only). The broker runs on
// --broker-cpus and this program on --client-cpus (taskset), so the two do not share a
// core. All traffic stays on 127.0.0.1, every process started here is stopped before it
// exits, and Mosquitto's configuration lives in a temporary directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	hearthd, cloud, mosquitto string
	brokers                   []string
	duration                  time.Duration
	latencyDuration           time.Duration
	publishers                int
	window                    int
	sensors                   int
	settle                    time.Duration
	version                   int
	unlimited                 bool
	brokerCPUs, clientCPUs    string
	keep                      bool
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
			fmt.Fprintln(os.Stderr, "mqtt:", err)
		}
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("mqtt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	brokers := fs.String("brokers", "hearthd,mosquitto", "brokers to measure, comma-separated: hearthd, mosquitto")
	fs.StringVar(&c.hearthd, "hearthd", "", "hearthd binary (default: build it; it must accept --insecure-unlimited-sensor-rate unless --unlimited-rate=false)")
	fs.StringVar(&c.cloud, "hearth-cloud", "", "hearth-cloud binary (default: build it)")
	fs.StringVar(&c.mosquitto, "mosquitto", "/usr/sbin/mosquitto", "mosquitto binary")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "length of each throughput phase (QoS 0, QoS 1)")
	fs.DurationVar(&c.latencyDuration, "latency-duration", 10*time.Second, "length of the one-in-flight latency phase")
	fs.IntVar(&c.publishers, "publishers", 4, "publishing connections in the throughput phases, one sensor each")
	fs.IntVar(&c.window, "window", 64, "QoS 1 publishes in flight per connection in the throughput phase")
	fs.IntVar(&c.sensors, "sensors", 1000, "sensors paired, and connected at once in the memory phase")
	fs.DurationVar(&c.settle, "settle", 5*time.Second, "idle time before memory is read")
	fs.IntVar(&c.version, "mqtt-version", 5, "MQTT protocol version: 4 (3.1.1) or 5 (PUBACK carries a reason code)")
	fs.BoolVar(&c.unlimited, "unlimited-rate", true, "start hearthd with --insecure-unlimited-sensor-rate; false keeps the per-sensor rate limit (about 20 readings/s after a burst of 2000)")
	fs.StringVar(&c.brokerCPUs, "broker-cpus", "0", "CPU list for the broker (taskset -c); empty: no pinning")
	fs.StringVar(&c.clientCPUs, "client-cpus", "1", "CPU list for this program's load after the builds; empty: no pinning")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (binaries, device data, logs, mosquitto configuration)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	for b := range strings.SplitSeq(*brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.brokers = append(c.brokers, b)
		}
	}
	return c, c.validate()
}

func (c config) validate() error {
	for _, b := range c.brokers {
		if b != "hearthd" && b != "mosquitto" {
			return fmt.Errorf("--brokers: unknown broker %q", b)
		}
	}
	switch {
	case len(c.brokers) == 0:
		return errors.New("--brokers names no broker")
	case c.duration <= 0 || c.duration > 2*time.Minute:
		return errors.New("--duration must be in (0, 2m]")
	case c.latencyDuration < 0 || c.latencyDuration > 2*time.Minute:
		return errors.New("--latency-duration must be in [0, 2m]")
	case c.publishers < 1 || c.publishers > 64:
		return errors.New("--publishers must be 1-64")
	case c.window < 1 || c.window > 512:
		return errors.New("--window must be 1-512 (hearthd's receive maximum is 512)")
	case c.sensors < 2*c.publishers+1 || c.sensors > 2000:
		return fmt.Errorf("--sensors must be %d-2000 (two publisher sets and one latency sensor)", 2*c.publishers+1)
	case c.settle < 0 || c.settle > time.Minute:
		return errors.New("--settle must be in [0, 1m]")
	case c.version != 4 && c.version != 5:
		return errors.New("--mqtt-version must be 4 or 5")
	}
	return nil
}

// run prepares both brokers, measures each and writes the report.
func run(ctx context.Context, c config, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "hearth-mqtt-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	if c.keep {
		fmt.Fprintln(stderr, "mqtt: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "mqtt: "+format+"\n", a...) }
	env, err := prepare(ctx, c, dir, logf)
	if err != nil {
		return err
	}
	var results []result
	for _, name := range c.brokers {
		b, err := env.start(ctx, name)
		if err != nil {
			return err
		}
		r, err := measure(ctx, c, b, env.creds, logf)
		if stopErr := b.stop(); err == nil && stopErr != nil {
			err = fmt.Errorf("stop %s: %w", name, stopErr)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, r)
	}
	return report(stdout, c, env, results)
}
