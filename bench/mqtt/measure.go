package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"hearth/bench/internal/rig"
	"hearth/internal/mqttload"
)

// result is everything measured on one broker.
type result struct {
	broker   string
	tls      string
	idle     rig.Usage
	held     held
	qos0     throughput
	qos1     throughput
	one      oneInFlight
	final    rig.Usage // after all phases: VmHWM is the peak of the run
	loadAvgs [2]string // before and after
}

// held is the memory phase: every sensor connected at once.
type held struct {
	sensors int
	connect time.Duration // to connect all and have each one's first reading acknowledged
	usage   rig.Usage     // after settling
}

// measure runs the phases on b in order: idle memory, all sensors connected, QoS 0,
// QoS 1, one in flight. Each phase uses sensors of its own.
func measure(ctx context.Context, c config, b *broker, creds []cred, logf func(string, ...any)) (result, error) {
	r := result{broker: b.name}
	r.loadAvgs[0], _ = rig.LoadAverage()
	var err error
	if r.tls, err = tlsSummary(ctx, b); err != nil {
		return r, err
	}
	if err := sleep(ctx, c.settle); err != nil {
		return r, err
	}
	if r.idle, err = rig.ReadUsage(b.pid); err != nil {
		return r, err
	}
	logf("%s: idle %s; connecting %d sensors", b.name, rig.MiB(r.idle.RSS), len(creds))
	if r.held, err = holdAll(ctx, c, b, creds); err != nil {
		return r, err
	}
	p := c.publishers
	logf("%s: %d connected, %s; QoS 0 for %s", b.name, r.held.sensors, rig.MiB(r.held.usage.RSS), c.duration)
	if r.qos0, err = publish(ctx, b, creds[:p], 0, c.window, c.version, c.duration); err != nil {
		return r, err
	}
	logf("%s: QoS 0 %.0f/s sent; QoS 1 for %s", b.name, rate(r.qos0.count, r.qos0.duration), c.duration)
	if r.qos1, err = publish(ctx, b, creds[p:2*p], 1, c.window, c.version, c.duration); err != nil {
		return r, err
	}
	logf("%s: QoS 1 %.0f/s acknowledged; one in flight for %s", b.name, rate(r.qos1.count, r.qos1.duration), c.latencyDuration)
	if c.latencyDuration > 0 {
		if r.one, err = measureLatency(ctx, b, creds[2*p], c.version, c.latencyDuration); err != nil {
			return r, err
		}
	}
	if r.final, err = rig.ReadUsage(b.pid); err != nil {
		return r, err
	}
	r.loadAvgs[1], _ = rig.LoadAverage()
	return r, nil
}

// holdAll connects every sensor (32 handshakes at a time), has each publish one QoS 1
// reading, waits c.settle with all connections idle and reads the broker's memory.
func holdAll(ctx context.Context, c config, b *broker, creds []cred) (held, error) {
	h := held{sensors: len(creds)}
	conns := make([]*mqttload.Conn, len(creds))
	defer closeAll(conns)
	errs := make([]error, len(creds))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i, cr := range creds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			conn, err := dial(ctx, b, cr, c.version, 1)
			if err != nil {
				errs[i] = err
				return
			}
			conns[i] = conn
			var p payloader
			refused := false
			err = conn.Publish(cr.Topic, p.next(time.Now()), 1, func(code byte) { refused = code >= 0x80 })
			if err == nil {
				dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err = conn.Drain(dctx)
				cancel()
			}
			if err == nil && refused {
				err = errors.New("first reading refused")
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", cr.ID, err)
			}
		})
	}
	wg.Wait()
	h.connect = time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		return h, err
	}
	if err := sleep(ctx, c.settle); err != nil {
		return h, err
	}
	for i, conn := range conns {
		if conn.Err() != nil {
			return h, fmt.Errorf("%s dropped while idle: %w", creds[i].ID, conn.Err())
		}
	}
	var err error
	h.usage, err = rig.ReadUsage(b.pid)
	return h, err
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func rate(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() }
