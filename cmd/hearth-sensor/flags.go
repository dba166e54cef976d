package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"hearth/internal/sensors"
	"hearth/internal/sensors/sim"
	"hearth/internal/tlspolicy"
)

// credentialEnv is the environment variable holding the credential when no
// --credential-file is given.
const credentialEnv = "HEARTH_SENSOR_CREDENTIAL"

// maxCredential bounds the credential read (the gateway's are 43 characters).
const maxCredential = 256

// flags are the command line as given.
type flags struct {
	broker, ca, serverName, id, credentialFile, model, bufferFile string
	interval                                                      time.Duration
	buffer, count                                                 int
	seed                                                          uint64
	level                                                         slog.Level
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	fs := flag.NewFlagSet("hearth-sensor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f flags
	fs.StringVar(&f.broker, "broker", "", "the gateway's MQTTS address, host:port (required)")
	fs.StringVar(&f.ca, "ca", "", "PEM file of the CA certificate the gateway's certificate must chain to (required)")
	fs.StringVar(&f.serverName, "server-name", "", "name to verify on the gateway's certificate; empty: the host of --broker")
	fs.StringVar(&f.id, "id", "", "the sensor's ID, given at pairing (required)")
	fs.StringVar(&f.credentialFile, "credential-file", "", "file holding the sensor's credential; empty: the "+credentialEnv+" environment variable")
	fs.StringVar(&f.model, "model", "", "the sensor's model: "+strings.Join(modelIDs(), ", ")+" (required)")
	fs.DurationVar(&f.interval, "interval", 0, "how often a climate sensor measures, or a motion or door sensor's shortest time between events; 0: the model's default")
	fs.IntVar(&f.buffer, "buffer", sim.DefaultBuffer, "readings kept while the gateway is away; beyond it the oldest are dropped")
	fs.StringVar(&f.bufferFile, "buffer-file", "", "file keeping the buffer across restarts; empty: kept in memory only")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the simulated readings; 0: derived from the ID")
	fs.IntVar(&f.count, "count", 0, "stop after this many readings were acknowledged; 0: run until stopped")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := f.level.UnmarshalText([]byte(*level)); err != nil {
		return f, fmt.Errorf("--log-level: %q is not debug, info, warn or error", *level)
	}
	return f, nil
}

func modelIDs() []string {
	var ids []string
	for _, m := range sensors.Models() {
		ids = append(ids, m.ID)
	}
	return ids
}

// sensorConfig is what the sensor runs with, every flag checked.
type sensorConfig struct {
	pub sim.Config
	gen sim.GeneratorConfig
}

// config validates the flags and reads the files they name.
func (f flags) config(getenv func(string) string) (sensorConfig, error) {
	var c sensorConfig
	host, port, err := net.SplitHostPort(f.broker)
	if f.broker == "" {
		return c, errors.New("--broker is required")
	}
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return c, fmt.Errorf("--broker %q is not host:port", f.broker)
	}
	if f.model == "" {
		return c, fmt.Errorf("--model is required: one of %s", strings.Join(modelIDs(), ", "))
	}
	m, ok := sensors.LookupModel(f.model)
	if !ok {
		return c, fmt.Errorf("--model %q is not one of %s", f.model, strings.Join(modelIDs(), ", "))
	}
	if f.id == "" {
		return c, errors.New("--id is required: the sensor ID given at pairing")
	}
	if !sensors.ValidID(f.id) {
		return c, fmt.Errorf("--id %q is not a sensor ID (16 characters a-z, 2-7)", f.id)
	}
	if f.interval != 0 {
		if lo := sim.MinInterval(m); f.interval < lo || f.interval > 24*time.Hour {
			return c, fmt.Errorf("--interval %v outside %v..24h for %s (it sends at most %v readings a second)", f.interval, lo, m.ID, m.MaxRate)
		}
	}
	if f.buffer < 1 || f.buffer > 1_000_000 {
		return c, fmt.Errorf("--buffer %d outside 1..1000000", f.buffer)
	}
	if f.count < 0 {
		return c, fmt.Errorf("--count %d is negative", f.count)
	}
	if f.bufferFile != "" {
		if st, err := os.Stat(filepath.Dir(f.bufferFile)); err != nil || !st.IsDir() {
			return c, fmt.Errorf("--buffer-file %s: its directory does not exist", f.bufferFile)
		}
	}
	cred, err := f.credential(getenv)
	if err != nil {
		return c, err
	}
	roots, err := loadCA(f.ca)
	if err != nil {
		return c, err
	}
	name := f.serverName
	if name == "" {
		name = host
	}
	tlsCfg, err := tlspolicy.Client(roots, name)
	if err != nil {
		return c, err
	}
	seed := f.seed
	if seed == 0 {
		h := fnv.New64a()
		h.Write([]byte(f.id))
		seed = h.Sum64()
	}
	c.pub = sim.Config{Broker: f.broker, TLS: tlsCfg, ID: f.id, Credential: cred, Model: m,
		Buffer: f.buffer, BufferFile: f.bufferFile, Count: f.count}
	c.gen = sim.GeneratorConfig{Model: m, Seed: seed, Interval: f.interval}
	return c, nil
}

// credential reads the sensor's credential from its file or the environment. Errors
// name where it came from, never what it is.
func (f flags) credential(getenv func(string) string) (sensors.Credential, error) {
	var raw, from string
	switch env := getenv(credentialEnv); {
	case f.credentialFile != "" && env != "":
		return "", fmt.Errorf("give the credential once: --credential-file or %s, not both", credentialEnv)
	case f.credentialFile != "":
		data, err := os.ReadFile(f.credentialFile)
		if err != nil {
			return "", fmt.Errorf("--credential-file: %w", err)
		}
		raw, from = string(data), "--credential-file "+f.credentialFile
	case env != "":
		raw, from = env, credentialEnv
	default:
		return "", fmt.Errorf("no credential: give --credential-file or set %s", credentialEnv)
	}
	cred := strings.TrimSpace(raw)
	if cred == "" || len(cred) > maxCredential {
		return "", fmt.Errorf("%s: the credential is empty or longer than %d bytes", from, maxCredential)
	}
	for _, r := range cred {
		if r <= ' ' || r > '~' {
			return "", fmt.Errorf("%s: the credential holds characters a credential does not have", from)
		}
	}
	return sensors.Credential(cred), nil
}

// loadCA reads the PEM certificates the gateway's certificate must chain to.
func loadCA(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, errors.New("--ca is required: the gateway's certificate is always verified")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", path)
	}
	return pool, nil
}
