package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"hearth/bench/internal/latency"
	"hearth/bench/internal/rig"
	"hearth/internal/mqttload"
)

// payloader makes reading payloads with the current time, rebuilt once a second:
// {"type":"motion","value":1,"unit":"","ts":"2006-01-02T15:04:05Z"}, 64 bytes.
type payloader struct {
	sec int64
	buf []byte
}

func (p *payloader) next(now time.Time) []byte {
	if s := now.Unix(); s != p.sec || p.buf == nil {
		p.sec = s
		p.buf = fmt.Appendf(p.buf[:0], `{"type":"motion","value":1,"unit":"","ts":%q}`, now.UTC().Format(time.RFC3339))
	}
	return p.buf
}

// dial connects as sensor c.
func dial(ctx context.Context, b *broker, c cred, version, window int) (*mqttload.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := mqttload.Dial(ctx, mqttload.Options{Addr: b.addr, TLS: b.tls, ClientID: c.ID, Username: c.ID,
		Password: []byte(c.Password), Version: byte(version), Window: window})
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", c.ID, err)
	}
	return conn, nil
}

// usage is the CPU time of the broker and of this program at one moment.
type usage struct {
	at             time.Time
	broker, client rig.Usage
}

func readUsage(b *broker) (usage, error) {
	u := usage{at: time.Now()}
	var err error
	if u.broker, err = rig.ReadUsage(b.pid); err != nil {
		return u, err
	}
	u.client, err = rig.ReadUsage(os.Getpid())
	return u, err
}

// cpu is how busy the broker and this program were between two usages.
type cpu struct {
	wall           time.Duration
	broker, client time.Duration
}

func since(a, b usage) cpu {
	return cpu{wall: b.at.Sub(a.at), broker: b.broker.CPU - a.broker.CPU, client: b.client.CPU - a.client.CPU}
}

// throughput is the result of one publishing phase.
type throughput struct {
	qos       byte
	conns     int
	window    int
	duration  time.Duration
	count     int64 // QoS 0: sent; QoS 1: acknowledged with success within duration
	total     int64 // QoS 0: sent; QoS 1: acknowledged with success in all, after draining
	refused   int64 // PUBACKs with a failure reason code
	lat       latency.Summary
	stored    int64         // readings hearthd stored; -1 when the broker stores none
	storedLag time.Duration // from the end of publishing until the last reading was stored
	// cpu runs from the first publish until the last acknowledgement was read, or for a
	// broker that stores readings, until the last was stored.
	cpu        cpu
	connErrors []error
}

// publish runs one throughput phase: one connection per cred publishing qos for d.
func publish(ctx context.Context, b *broker, creds []cred, qos byte, window, version int, d time.Duration) (throughput, error) {
	r := throughput{qos: qos, conns: len(creds), window: window, duration: d, stored: -1}
	ids := make([]string, len(creds))
	for i, c := range creds {
		ids[i] = c.ID
	}
	var before int64
	if b.stored != nil {
		var err error
		if before, err = b.stored(ctx, ids); err != nil {
			return r, err
		}
	}
	conns := make([]*mqttload.Conn, len(creds))
	for i, c := range creds {
		conn, err := dial(ctx, b, c, version, window)
		if err != nil {
			closeAll(conns)
			return r, err
		}
		conns[i] = conn
	}
	var (
		inWindow, acked, refused atomic.Int64
		mu                       sync.Mutex
		samples                  []time.Duration
		wg                       sync.WaitGroup
	)
	errs := make([]error, len(conns))
	start, err := readUsage(b)
	if err != nil {
		closeAll(conns)
		return r, err
	}
	deadline := start.at.Add(d)
	for i, conn := range conns {
		wg.Go(func() {
			var lat []time.Duration
			var latMu sync.Mutex
			var p payloader
			var sent int64
			for {
				now := time.Now()
				if !now.Before(deadline) {
					break
				}
				var onAck func(byte)
				if qos > 0 {
					onAck = func(code byte) {
						at := time.Now()
						if code >= 0x80 {
							refused.Add(1)
							return
						}
						acked.Add(1)
						if at.Before(deadline) {
							inWindow.Add(1)
						}
						latMu.Lock()
						lat = append(lat, at.Sub(now))
						latMu.Unlock()
					}
				}
				if err := conn.Publish(creds[i].Topic, p.next(now), qos, onAck); err != nil {
					errs[i] = err
					break
				}
				sent++
			}
			if qos == 0 {
				inWindow.Add(sent)
				acked.Add(sent)
			}
			dctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := conn.Drain(dctx); err != nil && errs[i] == nil {
				errs[i] = err
			}
			latMu.Lock()
			mu.Lock()
			samples = append(samples, lat...)
			mu.Unlock()
			latMu.Unlock()
		})
	}
	wg.Wait()
	end, err := readUsage(b)
	closeAll(conns)
	if err != nil {
		return r, err
	}
	r.cpu = since(start, end)
	r.count, r.total, r.refused = inWindow.Load(), acked.Load(), refused.Load()
	r.lat = latency.Summarize(samples)
	for _, err := range errs {
		if err != nil {
			r.connErrors = append(r.connErrors, err)
		}
	}
	if b.stored != nil {
		// hearthd works on after the last publish was written: the readings still in
		// the socket buffers. Its CPU time and busy time run until the last is stored.
		n, last, err := settle(ctx, b, ids)
		if err != nil {
			return r, err
		}
		r.stored, r.storedLag = n-before, max(last.Sub(deadline), 0)
		after, err := rig.ReadUsage(b.pid)
		if err != nil {
			return r, err
		}
		r.cpu.broker = after.CPU - start.broker.CPU
		r.cpu.wall = end.at.Sub(start.at)
		if last.After(end.at) {
			r.cpu.wall = last.Sub(start.at)
		}
	}
	return r, nil
}

// settle polls the stored count until it has not changed for a second and returns it
// with the time it last changed.
func settle(ctx context.Context, b *broker, ids []string) (int64, time.Time, error) {
	t0 := time.Now()
	last, lastChange := int64(-1), t0
	for time.Since(t0) < 2*time.Minute {
		n, err := b.stored(ctx, ids)
		if err != nil {
			return 0, time.Time{}, err
		}
		if n != last {
			last, lastChange = n, time.Now()
		} else if time.Since(lastChange) >= time.Second {
			break
		}
		select {
		case <-ctx.Done():
			return 0, time.Time{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return last, lastChange, nil
}

func closeAll(conns []*mqttload.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// oneInFlight is the result of the latency phase.
type oneInFlight struct {
	count int64
	d     time.Duration
	lat   latency.Summary
}

// measureLatency publishes QoS 1 readings one at a time on one connection for d.
func measureLatency(ctx context.Context, b *broker, c cred, version int, d time.Duration) (oneInFlight, error) {
	r := oneInFlight{d: d}
	conn, err := dial(ctx, b, c, version, 1)
	if err != nil {
		return r, err
	}
	defer conn.Close()
	acks := make(chan byte, 1)
	var p payloader
	var samples []time.Duration
	deadline := time.Now().Add(d)
	for now := time.Now(); now.Before(deadline); now = time.Now() {
		if err := conn.Publish(c.Topic, p.next(now), 1, func(code byte) { acks <- code }); err != nil {
			return r, err
		}
		if err := conn.Flush(); err != nil {
			return r, err
		}
		select {
		case code := <-acks:
			if code >= 0x80 {
				return r, fmt.Errorf("PUBACK reason 0x%02x", code)
			}
			samples = append(samples, time.Since(now))
		case <-conn.Done():
			return r, conn.Err()
		case <-time.After(30 * time.Second):
			return r, errors.New("no PUBACK within 30 s")
		}
	}
	r.count = int64(len(samples))
	r.lat = latency.Summarize(samples)
	return r, nil
}
