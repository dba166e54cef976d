package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"hearth/internal/backoff"
	"hearth/internal/sensors"
)

// Config configures a Publisher.
type Config struct {
	// Broker is the gateway's MQTTS address, host:port.
	Broker string
	// TLS is the client configuration from tlspolicy.Client: it trusts only the
	// gateway's CA and names the server to verify. Required.
	TLS *tls.Config
	// ID is the sensor's ID, its MQTT client ID and user name.
	ID string
	// Credential is the sensor's secret, sent as its MQTT password.
	Credential sensors.Credential
	// Model is the sensor's model; its MaxRate bounds how fast readings are sent.
	Model sensors.Model
	// Buffer is how many unacknowledged readings are kept; zero means DefaultBuffer.
	Buffer int
	// BufferFile, if set, is where the buffer is kept across restarts: loaded by New,
	// written every SaveEvery and when Run returns. Empty: the buffer is lost with
	// the process.
	BufferFile string
	// SaveEvery is how often a changed buffer is written; zero means 30 seconds.
	SaveEvery time.Duration
	// Count, if positive, makes Run return once this many readings were acknowledged.
	Count int
	// Backoff times reconnection; its zero value waits up to one second after the
	// first failure and up to five minutes at most.
	Backoff backoff.Policy
	// KeepAlive is the MQTT keepalive; zero means one minute.
	KeepAlive time.Duration
	// AckTimeout is how long a reading may wait for its acknowledgement before the
	// connection is given up and the reading sent again; zero means 30 seconds.
	AckTimeout time.Duration
	Log        *slog.Logger     // nil: discard
	Now        func() time.Time // nil: time.Now
}

// Defaults.
const (
	defaultSaveEvery  = 30 * time.Second
	defaultKeepAlive  = time.Minute
	defaultAckTimeout = 30 * time.Second
	connectTimeout    = 15 * time.Second
	// stableAfter is how long a connection must last, if no reading was acknowledged
	// on it, for its loss to reset the backoff: a gateway that accepts the connection
	// and drops it at once is backed off from like one that refuses it.
	stableAfter = 30 * time.Second
	maxBuffer   = 1_000_000
)

// Validate checks the configuration.
func (c Config) Validate() error {
	host, port, err := net.SplitHostPort(c.Broker)
	switch {
	case err != nil || host == "" || port == "":
		return fmt.Errorf("sim: broker address %q is not host:port", c.Broker)
	case c.TLS == nil || c.TLS.RootCAs == nil:
		return errors.New("sim: a TLS configuration with the gateway's CA is required")
	case !sensors.ValidID(c.ID):
		return fmt.Errorf("sim: %q is not a sensor ID", c.ID)
	case c.Credential == "":
		return errors.New("sim: a credential is required")
	case len(c.Model.Kinds) == 0 || c.Model.MaxRate <= 0:
		return errors.New("sim: a sensor model with kinds and a rate is required")
	case c.Buffer < 0 || c.Buffer > maxBuffer:
		return fmt.Errorf("sim: buffer of %d readings outside 1..%d", c.Buffer, maxBuffer)
	case c.Count < 0 || c.SaveEvery < 0 || c.KeepAlive < 0 || c.AckTimeout < 0:
		return errors.New("sim: count and durations must not be negative")
	}
	return nil
}

// Publisher delivers one sensor's readings to the gateway.
type Publisher struct {
	cfg   Config
	log   *slog.Logger
	buf   *buffer
	limit *rate.Limiter // shared by all connections, so reconnecting grants no burst

	acked     atomic.Uint64
	refused   atomic.Uint64
	connects  atomic.Uint64
	connected atomic.Bool
	done      chan struct{} // closed when Count readings were acknowledged
}

// Stats describe a Publisher at one moment.
type Stats struct {
	Buffered  int    // readings waiting for acknowledgement
	Dropped   uint64 // readings dropped because the buffer was full (or, loaded from the file, stale)
	Acked     uint64 // readings acknowledged by the gateway since New
	Connects  uint64 // successful connections
	Refused   uint64 // connections the gateway refused as not authorised
	Connected bool
}

// New builds a publisher and loads its buffer file, if any.
func New(cfg Config) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Buffer == 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.SaveEvery == 0 {
		cfg.SaveEvery = defaultSaveEvery
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = defaultKeepAlive
	}
	if cfg.AckTimeout == 0 {
		cfg.AckTimeout = defaultAckTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Publisher{cfg: cfg, log: cfg.Log.With("sensor", cfg.ID), buf: newBuffer(cfg.Buffer), done: make(chan struct{})}
	// A burst of one: never more than MaxRate readings in any second, backlog or not.
	p.limit = rate.NewLimiter(rate.Limit(cfg.Model.MaxRate), 1)
	if cfg.BufferFile != "" {
		n, err := p.buf.load(cfg.BufferFile, cfg.Now())
		if err != nil {
			return nil, err
		}
		if n > 0 {
			p.log.Warn("buffered readings too old for the gateway dropped", "count", n)
		}
		if l := p.buf.len(); l > 0 {
			p.log.Info("buffered readings loaded", "count", l)
		}
	}
	return p, nil
}

// Add queues a reading for delivery. When the buffer is full the oldest reading is
// dropped and counted.
func (p *Publisher) Add(r sensors.Reading) {
	if p.buf.push(r) {
		if n := p.buf.droppedCount(); n == 1 || n%1000 == 0 {
			p.log.Warn("buffer full, oldest readings dropped", "dropped", n, "buffer", p.cfg.Buffer)
		}
	}
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() Stats {
	return Stats{Buffered: p.buf.len(), Dropped: p.buf.droppedCount(), Acked: p.acked.Load(),
		Connects: p.connects.Load(), Refused: p.refused.Load(), Connected: p.connected.Load()}
}

// Run connects to the gateway and delivers buffered readings until ctx ends or Count
// readings were acknowledged; it then saves the buffer file. It returns an error only
// when the buffer cannot be saved.
//
// TS-0045 5.6.1.3: after the connection is refused or lost, the sensor waits a random
// delay, uniform up to a ceiling that doubles with each consecutive failure up to the
// policy's maximum (full jitter), before it tries again. A fleet that lost a
// restarting gateway at the same moment thus returns spread over the window.
func (p *Publisher) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	saved := make(chan struct{})
	go func() { defer close(saved); p.saveLoop(ctx) }()
	failures := 0
	for ctx.Err() == nil && !p.finished() {
		healthy, err := p.session(ctx)
		if ctx.Err() != nil || p.finished() {
			break
		}
		if healthy {
			failures = 0
		}
		failures++
		delay := p.cfg.Backoff.Delay(failures)
		p.logFailure(err, failures, delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	cancel()
	<-saved
	return p.save()
}

// logFailure says why the sensor is not connected and when it tries again. A refusal
// is a warning: it does not heal by itself.
func (p *Publisher) logFailure(err error, failures int, delay time.Duration) {
	attrs := []any{"failures", failures, "retry_in", delay.Round(time.Millisecond), "err", err}
	if errors.Is(err, ErrRefused) {
		p.log.Warn("gateway refused the sensor: wrong credential, or the sensor is quarantined or no longer paired", attrs...)
		return
	}
	p.log.Info("not connected to the gateway", attrs...)
}

// ErrRefused is the gateway refusing the sensor's connection as not authorised.
var ErrRefused = errors.New("connection refused: not authorised")

func (p *Publisher) finished() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *Publisher) saveLoop(ctx context.Context) {
	if p.cfg.BufferFile == "" {
		return
	}
	t := time.NewTicker(p.cfg.SaveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.save(); err != nil {
				p.log.Error("buffer not saved", "err", err)
			}
		}
	}
}

func (p *Publisher) save() error {
	if p.cfg.BufferFile == "" {
		return nil
	}
	return p.buf.save(p.cfg.BufferFile)
}
