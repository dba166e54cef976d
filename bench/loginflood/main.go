// Command loginflood measures how hearthd's owner login holds up under a password-guessing
// flood. It builds hearthd as a release is built (or takes prebuilt binaries), provisions
// a device, starts hearthd on a loopback port and sets the owner's password; then it sends
// wrong guesses for other user names from many loopback source addresses while the owner
// signs in at a steady pace, and prints the results as Markdown.
//
//	go run ./bench/loginflood [--duration 60s] [--rate 1000] [--sources 50]
//
// Owner logins come from two kinds of client: a returning one that presents the
// __Host-device cookie of an earlier login (served first by the hashing gate), and a fresh
// one without it. Each kind rotates over its own loopback addresses (127.0.1.x and
// 127.0.2.x) so that the owner's pace stays inside the per-source login budget; the flood
// comes from 127.0.0.2 upwards.
//
// All traffic stays on 127.0.0.0/8, the run stops by itself after --duration (at most
// 10 minutes), and every process it starts is stopped before it exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"hearth/bench/internal/rig"
)

// config is the command line.
type config struct {
	hearthd, cloud string
	duration       time.Duration
	rate           int
	sources        int
	conns          int
	ownerEvery     time.Duration
	ownerSources   int
	baseline       int
	keep           bool
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
			fmt.Fprintln(os.Stderr, "loginflood:", err)
		}
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("loginflood", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.hearthd, "hearthd", "", "hearthd binary to use (default: build it with the release command)")
	fs.StringVar(&c.cloud, "hearth-cloud", "", "hearth-cloud binary to use (default: build it)")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "how long the flood runs (at most 10m)")
	fs.IntVar(&c.rate, "rate", 1000, "target guesses per second, all sources together (at most 5000)")
	fs.IntVar(&c.sources, "sources", 50, "flood source addresses, 127.0.0.2 .. 127.0.0.(N+1) (1-254)")
	fs.IntVar(&c.conns, "conns", 4, "keep-alive connections (and requests in flight) per flood source (1-16)")
	fs.DurationVar(&c.ownerEvery, "owner-every", time.Second, "interval between owner logins, per client kind")
	fs.IntVar(&c.ownerSources, "owner-sources", 4, "loopback addresses each owner client kind rotates over (1-254)")
	fs.IntVar(&c.baseline, "baseline", 10, "owner logins per client kind before the flood starts")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (binaries, device data, hearthd log)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.validate()
}

func (c config) validate() error {
	switch {
	case c.duration <= 0 || c.duration > 10*time.Minute:
		return errors.New("--duration must be in (0, 10m]")
	case c.rate < 1 || c.rate > 5000:
		return errors.New("--rate must be 1-5000")
	case c.sources < 1 || c.sources > 254:
		return errors.New("--sources must be 1-254")
	case c.conns < 1 || c.conns > 16:
		return errors.New("--conns must be 1-16")
	case c.ownerEvery < 100*time.Millisecond:
		return errors.New("--owner-every must be at least 100ms")
	case c.ownerSources < 1 || c.ownerSources > 254:
		return errors.New("--owner-sources must be 1-254")
	case c.baseline < 0 || c.baseline > 100:
		return errors.New("--baseline must be 0-100")
	}
	return nil
}

// run prepares a device, runs the measurement and writes the report to stdout.
func run(ctx context.Context, c config, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "hearth-loginflood-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	if c.keep {
		fmt.Fprintln(stderr, "loginflood: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	env, err := prepare(ctx, c, dir, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	res, err := measure(ctx, c, env, stderr)
	if err != nil {
		return err
	}
	return report(stdout, c, env, res)
}

// env is a running, provisioned hearthd with the owner's password set.
type env struct {
	proc     *rig.Process
	target   rig.Target
	dev      rig.Device
	password string
	// ownerJar holds the cookies of the owner's first login: the returning client.
	ownerJar  http.CookieJar
	goVersion string
	log       *os.File
}

// close stops hearthd and closes its log.
func (e *env) close() {
	if e.proc != nil {
		e.proc.Stop()
	}
	if e.log != nil {
		e.log.Close()
	}
}

// prepare builds (unless given), provisions, starts hearthd and sets the owner password.
func prepare(ctx context.Context, c config, dir string, stderr io.Writer) (*env, error) {
	e := &env{password: "flood bench passphrase kept"}
	var err error
	if e.goVersion, err = rig.GoVersion(ctx); err != nil {
		return nil, err
	}
	if err := buildBinaries(ctx, &c, dir, stderr); err != nil {
		return nil, err
	}
	fmt.Fprintln(stderr, "loginflood: provisioning and starting hearthd")
	if e.dev, err = rig.Provision(ctx, c.cloud, dir); err != nil {
		return nil, err
	}
	if err := e.start(ctx, c.hearthd, dir); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// start runs hearthd, logging to dir/hearthd.log, and sets the owner's password.
func (e *env) start(ctx context.Context, hearthd, dir string) error {
	var err error
	if e.log, err = os.Create(filepath.Join(dir, "hearthd.log")); err != nil {
		return fmt.Errorf("hearthd log: %w", err)
	}
	if e.proc, err = rig.Start(ctx, hearthd, []string{"--data", e.dev.Data}, dir, e.log, 30*time.Second); err != nil {
		return err
	}
	roots, err := rig.LoadRoots(e.dev.RootCA)
	if err != nil {
		return err
	}
	e.target = rig.Target{Addr: e.proc.Addr, ServerName: "localhost", Roots: roots}
	tr, err := e.target.Transport(ownerAddr(kinds[0], 0), rig.Conns{})
	if err != nil {
		return err
	}
	defer tr.CloseIdleConnections()
	e.ownerJar = rig.NewJar()
	return rig.SetOwnerPassword(ctx, rig.Client(tr, e.ownerJar), e.target, e.dev, e.password)
}

// buildBinaries builds whichever of hearthd (release command) and hearth-cloud c does
// not name, into dir.
func buildBinaries(ctx context.Context, c *config, dir string, stderr io.Writer) error {
	if c.hearthd != "" && c.cloud != "" {
		return nil
	}
	root, err := rig.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	builds := []struct {
		path *string
		b    rig.Build
	}{
		{&c.hearthd, rig.Build{Pkg: "./cmd/hearthd", Out: filepath.Join(dir, "hearthd"), Release: true}},
		{&c.cloud, rig.Build{Pkg: "./cmd/hearth-cloud", Out: filepath.Join(dir, "hearth-cloud")}},
	}
	for _, x := range builds {
		if *x.path != "" {
			continue
		}
		fmt.Fprintln(stderr, "loginflood:", x.b.Command())
		if err := x.b.Run(ctx, root); err != nil {
			return err
		}
		*x.path = x.b.Out
	}
	return nil
}
