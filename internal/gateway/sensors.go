package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"time"

	"hearth/internal/sensors"
	"hearth/internal/sensors/broker"
	"hearth/internal/store/sqlite"
	"hearth/internal/tlspolicy"
)

// DefaultMQTTSAddr is where the sensor broker listens unless told otherwise (the
// IANA port of MQTT over TLS).
const DefaultMQTTSAddr = ":8883"

// ReadingsFile is the database of sensor readings in the data directory, apart from
// hearthd.db so that a flood of readings never delays logins or settings.
const ReadingsFile = "readings.db"

// sensorsPart is the sensor registry and its broker.
type sensorsPart struct {
	svc      *sensors.Service
	readings *sqlite.Readings
	broker   *broker.Broker
	done     chan struct{} // closed when the registry's ingest has stopped

	mu          sync.Mutex // serialises opening and closing the port
	portFailing bool       // the port should be open but could not be bound
}

// openSensors opens the readings database, the registry and the broker (not yet
// serving). With no MQTTS address the gateway runs without sensors.
func (m *Main) openSensors(ctx context.Context) error {
	if m.cfg.MQTTSAddr == "" {
		return nil
	}
	readings, err := sqlite.OpenReadings(ctx, filepath.Join(m.cfg.DataDir, ReadingsFile))
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	m.closers = append(m.closers, readings.Close)
	svc, err := sensors.New(ctx, sensors.Config{Store: m.db, Readings: readings, Events: m.events, Log: m.log,
		Now: m.cfg.Now, InsecureUnlimitedRate: m.cfg.InsecureUnlimitedSensorRate})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	tlsCfg, err := tlspolicy.Server(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return m.identity().ServerCertificate(), nil })
	if err != nil {
		return err
	}
	var mu sync.Mutex
	addr := m.cfg.MQTTSAddr
	listen := func() (net.Listener, error) {
		mu.Lock()
		defer mu.Unlock()
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("gateway: mqtts listen: %w", err)
		}
		// Reopening binds the port first chosen, so sensors find the broker again.
		addr = ln.Addr().String()
		// Sensors may legitimately share one address (a bridge, a NAT), so one source
		// may hold as many connections as the broker accepts; the total bounds
		// descriptors and memory, and the broker's handshake deadline bounds how long
		// an unauthenticated connection holds one.
		//
		// TS-0045 5.6.1.3: the broker keeps working under connection floods.
		return newLimitListener(ln, broker.MaxConnections, broker.MaxConnections), nil
	}
	b, err := broker.New(broker.Config{Listen: listen, TLS: tlsCfg, Sensors: svc, Events: m.events, Log: m.log})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	m.sensors = &sensorsPart{svc: svc, readings: readings, broker: b, done: make(chan struct{})}
	return nil
}

// startSensors serves the broker and runs the registry until ctx ends. The broker's
// socket is open only while at least one sensor may connect.
//
// TS-0045 5.2.2.1: no MQTT port on a gateway without sensors.
func (m *Main) startSensors(ctx context.Context) error {
	p := m.sensors
	if p == nil {
		return nil
	}
	go func() {
		defer close(p.done)
		p.svc.Run(ctx)
	}()
	if err := p.broker.Start(); err != nil {
		return fmt.Errorf("gateway: broker: %w", err)
	}
	// The port follows the number of active sensors. If it cannot be bound (another
	// program holds it), the gateway keeps serving everything else and tries again
	// every portRetry, so sensors come back by themselves once the port is free.
	//
	// TS-0045 5.6.1.2: a sensor port that is taken does not stop the gateway.
	follow := func(active int) {
		err := p.broker.SetOpen(active > 0)
		if err != nil && !p.portFailing {
			m.log.Error("mqtts port not opened; sensors cannot connect until it is free", "addr", m.cfg.MQTTSAddr, "err", err)
		} else if err == nil && p.portFailing {
			m.log.Info("mqtts port opened", "addr", m.mqttAddr())
		}
		p.portFailing = err != nil
		if err := m.writeReady(); err != nil {
			m.log.Error("ready file not written", "err", err)
		}
	}
	p.svc.SetObserver(func(active int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		follow(active)
	})
	go func() {
		t := time.NewTicker(portRetry)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.mu.Lock()
				if p.portFailing {
					follow(p.svc.Active())
				}
				p.mu.Unlock()
			}
		}
	}()
	return nil
}

// portRetry is how often a port that could not be bound is tried again.
const portRetry = 5 * time.Second

// stopSensors disconnects every sensor, then ends the registry (cancel cancels the
// context startSensors was given) and waits until the readings it accepted are stored.
func (m *Main) stopSensors(cancel context.CancelFunc) {
	if p := m.sensors; p != nil {
		p.broker.Close()
		cancel()
		<-p.done
	}
	cancel()
}

// sensorsOrNil returns the registry, or nil when the gateway runs without sensors.
func (m *Main) sensorsOrNil() *sensors.Service {
	if m.sensors == nil {
		return nil
	}
	return m.sensors.svc
}

// mqttAddr is the broker's address while its socket is open, else "".
func (m *Main) mqttAddr() string {
	if m.sensors == nil {
		return ""
	}
	return m.sensors.broker.Addr()
}
