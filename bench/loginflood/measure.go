package main

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"time"

	"hearth/bench/internal/rig"
)

// result is everything one run measured.
type result struct {
	// baseline and during are the owner logins before and during the flood, per kind.
	baseline, during []ownerResult
	flood            floodResult
	// before and after are hearthd's usage when the flood started and when its last
	// guess was answered; elapsed is the time between.
	before, after rig.Usage
	elapsed       time.Duration
	// selfCPU is the CPU time this program (the load) used over elapsed.
	selfCPU time.Duration
	// loadBefore and loadAfter are the machine's load averages around the flood.
	loadBefore, loadAfter string
}

// measure runs the baseline owner logins, then the flood with owner logins alongside.
func measure(ctx context.Context, c config, e *env, stderr io.Writer) (result, error) {
	ps := make([]*prober, len(kinds))
	for i, k := range kinds {
		ps[i] = &prober{kind: k, target: e.target, user: e.dev.Username, password: e.password, jar: e.ownerJar, sources: c.ownerSources}
	}
	var res result
	if c.baseline > 0 {
		fmt.Fprintf(stderr, "loginflood: %d owner logins per client kind without flood\n", c.baseline)
		res.baseline = probe(ctx, ps, nil, c.ownerEvery, c.baseline)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	fmt.Fprintf(stderr, "loginflood: flood for %s at %d guesses/s from %d sources\n", c.duration, c.rate, c.sources)
	var err error
	if res.loadBefore, err = rig.LoadAverage(); err != nil {
		return res, err
	}
	if res.before, err = e.proc.Usage(); err != nil {
		return res, err
	}
	self0, err := selfCPU()
	if err != nil {
		return res, err
	}
	start := time.Now()
	stop, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		var err error
		res.flood, err = newFlood(c, e.target, e.dev.Username).run(ctx, stop)
		done <- err
	}()
	res.during = probe(ctx, ps, stop.Done(), c.ownerEvery, 0)
	if err := <-done; err != nil {
		return res, err
	}
	res.elapsed = time.Since(start)
	if res.after, err = e.proc.Usage(); err != nil {
		return res, err
	}
	self1, err := selfCPU()
	if err != nil {
		return res, err
	}
	res.selfCPU = self1 - self0
	if res.loadAfter, err = rig.LoadAverage(); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// selfCPU is the user plus system time this process has used.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
