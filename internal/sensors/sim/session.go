package sim

import (
	"context"
	"errors"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"hearth/internal/sensors"
)

// session connects once and sends buffered readings, one at a time and in order,
// until the connection is lost, ctx ends or Count readings were acknowledged. healthy
// reports whether the connection worked (a reading was acknowledged, or it lasted
// stableAfter), which resets the backoff.
func (p *Publisher) session(ctx context.Context) (healthy bool, err error) {
	lost := make(chan error, 1)
	c, err := p.connect(ctx, lost)
	if err != nil {
		return false, err
	}
	p.connects.Add(1)
	p.connected.Store(true)
	start := time.Now()
	p.log.Info("connected to the gateway", "broker", p.cfg.Broker, "buffered", p.buf.len())
	defer func() {
		p.connected.Store(false)
		c.Disconnect(250)
		healthy = healthy || time.Since(start) >= stableAfter
	}()
	topic := sensors.ReadingTopic(p.cfg.ID)
	for {
		it, err := p.nextReading(ctx, lost)
		if err != nil {
			return healthy, err
		}
		tok := c.Publish(topic, 1, false, it.r.Marshal())
		timeout := time.NewTimer(p.cfg.AckTimeout)
		select {
		case <-tok.Done():
		case err = <-lost:
		case <-timeout.C:
			err = errors.New("no acknowledgement from the gateway")
		case <-ctx.Done():
			err = ctx.Err()
		}
		timeout.Stop()
		if err == nil {
			err = tok.Error()
		}
		if err != nil {
			return healthy, fmt.Errorf("reading not acknowledged: %w", err)
		}
		// Acknowledged: the gateway has stored it.
		p.buf.ack(it.seq)
		healthy = true
		if n := p.acked.Add(1); p.cfg.Count > 0 && n == uint64(p.cfg.Count) {
			close(p.done)
			return true, nil
		}
	}
}

// nextReading waits for a buffered reading and for the rate limit to allow sending it.
func (p *Publisher) nextReading(ctx context.Context, lost <-chan error) (item, error) {
	for {
		it, ok := p.buf.peek()
		if !ok {
			select {
			case <-p.buf.added:
				continue
			case err := <-lost:
				return item{}, fmt.Errorf("connection lost: %w", err)
			case <-ctx.Done():
				return item{}, ctx.Err()
			}
		}
		// The backlog after an outage goes out no faster than the model's rate, which
		// the gateway enforces.
		res := p.limit.Reserve()
		wait := time.NewTimer(res.Delay())
		select {
		case <-wait.C:
			return it, nil
		case err := <-lost:
			wait.Stop()
			res.Cancel()
			return item{}, fmt.Errorf("connection lost: %w", err)
		case <-ctx.Done():
			wait.Stop()
			res.Cancel()
			return item{}, ctx.Err()
		}
	}
}

// connect opens one MQTT connection. Paho's own reconnection and retries are off: Run
// times reconnection itself, with jitter.
func (p *Publisher) connect(ctx context.Context, lost chan<- error) (mqtt.Client, error) {
	opts := mqtt.NewClientOptions().
		AddBroker("tls://" + p.cfg.Broker).
		SetTLSConfig(p.cfg.TLS).
		SetClientID(p.cfg.ID).
		SetUsername(p.cfg.ID).
		SetPassword(p.cfg.Credential.Reveal()).
		SetProtocolVersion(4).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(p.cfg.KeepAlive).
		SetPingTimeout(10 * time.Second).
		SetConnectTimeout(connectTimeout).
		SetWriteTimeout(connectTimeout).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case lost <- err:
			default:
			}
		})
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		go func() { <-tok.Done(); c.Disconnect(0) }()
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		if errors.Is(err, packets.ErrorRefusedNotAuthorised) || errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) {
			p.refused.Add(1)
			return nil, fmt.Errorf("%w (%v)", ErrRefused, err)
		}
		return nil, fmt.Errorf("connect %s: %w", p.cfg.Broker, err)
	}
	return c, nil
}
