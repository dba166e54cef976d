// Package broker is the MQTT broker sensors connect to: mochi-mqtt embedded in hearthd,
// over TLS only, deny by default. It adapts MQTT to the sensors service: a connecting
// sensor is authenticated by its own credential, may publish only its own readings and
// subscribe to nothing, and a QoS 1 reading is acknowledged only once it is durably
// stored.
//
// Acknowledgement after persistence: the hook takes every reading off the broker's
// normal path (which would acknowledge at once) and hands it to the sensors service's
// group commit; when the transaction holding it commits, the PUBACKs of each connection
// are written, in the order the readings arrived, coalesced into one TLS record per
// connection and commit. A connection thus keeps many readings in flight while each
// batch is being made durable.
//
// Threat model: anyone on the home network. Plaintext, anonymous, wrong-credential,
// impersonating (client ID of another sensor) and cross-topic attempts are refused and
// raised as events; handshakes and CONNECT must complete within a deadline; packets are
// capped in size; the number of connections is bounded by the listener given.
//
// TS-0045 5.2.2.1, 5.4.2.1 (TLS 1.2+ only), 5.4.2.4 (authentication and
// authorisation of every sensor), 5.5.2.1 (input validation), 5.6.1.1 (durability).
package broker

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"hearth/internal/events"
	"hearth/internal/sensors"
)

// Sensors is what the broker needs of the sensors service.
type Sensors interface {
	Authenticate(id, clientID string, credential []byte, remote string) error
	AllowTopic(id, topic string, write bool, remote string) bool
	Accept(ctx context.Context, id string, payload []byte, remote string, done func(error)) error
	SetDisconnector(func(id string))
}

var _ Sensors = (*sensors.Service)(nil)

// Config configures the broker.
type Config struct {
	// Listen binds the TCP socket (bounded by the caller); the broker speaks TLS on it.
	// It is called by SetOpen, and again after the socket was shut.
	Listen  func() (net.Listener, error)
	TLS     *tls.Config
	Sensors Sensors
	// Events receives what the broker refuses before a sensor is known (plaintext).
	Events events.Publisher
	Log    *slog.Logger // nil: discard
}

// Limits.
const (
	// handshakeTimeout bounds the TLS handshake and the CONNECT packet together.
	handshakeTimeout = 10 * time.Second
	// maxPacket is the largest MQTT packet accepted: a reading, its topic and headers.
	maxPacket = 1024
	// maxKeepalive is the longest keepalive granted; a client asking for none or more
	// gets this one, so a dead connection is always noticed.
	maxKeepalive = 600
)

// MaxConnections bounds the broker's connections: every sensor the registry can hold
// (MaxSensors), with room for ones still completing the handshake.
const MaxConnections = sensors.MaxSensors + 64

// Broker is a running MQTT broker.
type Broker struct {
	srv  *mqtt.Server
	ln   *listener
	hook *hook
}

// New builds the broker; Start serves.
func New(cfg Config) (*Broker, error) {
	if cfg.Listen == nil || cfg.TLS == nil || cfg.Sensors == nil {
		return nil, errors.New("broker: listener, TLS configuration and sensors service are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Events == nil {
		cfg.Events = events.Discard
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumClients = MaxConnections
	caps.MaximumPacketSize = maxPacket
	caps.MaximumQos = 1
	caps.RetainAvailable = 0
	caps.WildcardSubAvailable = 0
	caps.SharedSubAvailable = 0
	caps.SubIDAvailable = 0
	caps.TopicAliasMaximum = 0
	caps.MaximumSessionExpiryInterval = 3600
	caps.MaximumMessageExpiryInterval = 3600
	caps.MinimumProtocolVersion = 4 // MQTT 3.1.1 and 5
	// Sensors subscribe to nothing, so the broker never queues messages to them: a
	// small outbound queue saves 64 KiB per connection over the default of 8192.
	caps.MaximumClientWritesPending = 16
	// Readings in flight per connection (MQTT 5 receive maximum).
	caps.ReceiveMaximum = 512
	srv := mqtt.New(&mqtt.Options{
		Capabilities:            caps,
		ClientNetReadBufferSize: 2048,
		// Acknowledgements are coalesced by the hook; the broker writes little else.
		ClientNetWriteBufferSize: 512,
		SysTopicResendInterval:   3600,
		Logger:                   cfg.Log.With("component", "mqtt"),
	})
	h := &hook{sensors: cfg.Sensors, log: cfg.Log, srv: srv, acks: map[*mqtt.Client]*ackQueue{}}
	if err := srv.AddHook(h, nil); err != nil {
		return nil, err
	}
	cfg.Sensors.SetDisconnector(h.kick)
	ln := newListener(cfg.Listen, cfg.TLS, cfg.Log, cfg.Events)
	if err := srv.AddListener(ln); err != nil {
		return nil, err
	}
	return &Broker{srv: srv, ln: ln, hook: h}, nil
}

// Start serves connections in the background until Close.
func (b *Broker) Start() error { return b.srv.Serve() }

// SetOpen binds (true) or closes (false) the broker's socket; connected sensors stay
// connected. A new broker is shut.
func (b *Broker) SetOpen(open bool) error { return b.ln.setOpen(open) }

// Addr is the address the broker listens on, or "" while shut.
func (b *Broker) Addr() string { return b.ln.Address() }

// Close disconnects every sensor and stops listening.
func (b *Broker) Close() error { return b.srv.Close() }

// Connected is the number of connected sensors.
func (b *Broker) Connected() int { return b.srv.Clients.Len() }

// hook is the broker's policy: authentication, ACL and durable ingest.
type hook struct {
	mqtt.HookBase
	sensors Sensors
	log     *slog.Logger
	srv     *mqtt.Server

	mu   sync.Mutex
	acks map[*mqtt.Client]*ackQueue
}

func (h *hook) ID() string { return "hearth-sensors" }

func (h *hook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish, mqtt.OnDisconnect}, []byte{b})
}

// OnConnect drops a last-will message (a sensor may not publish anything but its own
// readings, not even through a will) and bounds the keepalive.
func (h *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	cl.Properties.Will = mqtt.Will{}
	if cl.State.Keepalive == 0 || cl.State.Keepalive > maxKeepalive {
		cl.State.Keepalive = maxKeepalive
	}
	return nil
}

func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	err := h.sensors.Authenticate(string(cl.Properties.Username), cl.ID, pk.Connect.Password, cl.Net.Remote)
	if err != nil {
		h.log.Info("sensor refused", "remote", cl.Net.Remote, "err", err)
		return false
	}
	return true
}

func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	return h.sensors.AllowTopic(cl.ID, topic, write, cl.Net.Remote)
}

// OnPublish hands a reading to the sensors service and takes it off the broker's own
// path (no forwarding: nothing subscribes). A QoS 1 reading is acknowledged by the
// ack queue once stored, never by the broker.
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	qos1 := pk.FixedHeader.Qos > 0
	id := pk.PacketID
	v5 := cl.Properties.ProtocolVersion == 5
	q := h.queue(cl)
	done := func(err error) {
		if errors.Is(err, sensors.ErrRateExceeded) && !v5 {
			// MQTT 3.1.1 cannot say "slow down": the sensor is disconnected without
			// an acknowledgement and resends the reading after its backoff.
			h.srv.DisconnectClient(cl, packets.ErrQuotaExceeded)
			return
		}
		if qos1 {
			q.push(id, err)
		}
	}
	if err := h.sensors.Accept(context.Background(), cl.ID, pk.Payload, cl.Net.Remote, done); err != nil {
		// No longer allowed (quarantined, replaced, removed).
		h.log.Info("sensor disconnected", "sensor", cl.ID, "err", err)
		h.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
	}
	// Take the reading off the broker's path: marked as QoS 0 and ignored, the broker
	// neither acknowledges it (the ack queue does, after the commit) nor forwards it.
	// Rejecting it with packets.ErrRejectPacket would do the same, but mochi-mqtt then
	// copies every packet into a debug log call, logging on or off: over half of the
	// bytes the broker allocated per reading.
	pk.FixedHeader.Qos = 0
	pk.Ignore = true
	return pk, nil
}

func (h *hook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	h.mu.Lock()
	delete(h.acks, cl)
	h.mu.Unlock()
}

func (h *hook) queue(cl *mqtt.Client) *ackQueue {
	h.mu.Lock()
	defer h.mu.Unlock()
	q, ok := h.acks[cl]
	if !ok {
		q = &ackQueue{cl: cl, log: h.log}
		h.acks[cl] = q
	}
	return q
}

// kick disconnects a sensor (quarantined, replaced or removed).
func (h *hook) kick(id string) {
	if cl, ok := h.srv.Clients.Get(id); ok {
		h.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
	}
}

// ackQueue writes one connection's acknowledgements in arrival order. Results arrive
// from the ingest loop; a writer goroutine runs only while some are pending, so idle
// connections cost nothing, and a slow client delays only its own acknowledgements.
type ackQueue struct {
	cl      *mqtt.Client
	log     *slog.Logger
	mu      sync.Mutex
	pending []ackItem
	running bool
}

type ackItem struct {
	id  uint16
	err error
}

func (q *ackQueue) push(id uint16, err error) {
	q.mu.Lock()
	q.pending = append(q.pending, ackItem{id, err})
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.write()
	}
}

func (q *ackQueue) write() {
	var buf bytes.Buffer
	for {
		q.mu.Lock()
		items := q.pending
		q.pending = nil
		if len(items) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		buf.Reset()
		for _, it := range items {
			if it.err != nil && !errors.Is(it.err, sensors.ErrInvalid) && !errors.Is(it.err, sensors.ErrRateExceeded) {
				// Not stored (the database failed): never acknowledge; the sensor
				// resends after reconnecting.
				q.cl.Stop(fmt.Errorf("reading not stored: %w", it.err))
				q.drop()
				return
			}
			encodePuback(&buf, q.cl.Properties.ProtocolVersion, it.id, it.err)
		}
		q.cl.Lock()
		var err error
		if !q.cl.Closed() {
			_, err = q.cl.Net.Conn.Write(buf.Bytes())
		}
		q.cl.Unlock()
		if err != nil {
			q.cl.Stop(err)
			q.drop()
			return
		}
	}
}

func (q *ackQueue) drop() {
	q.mu.Lock()
	q.pending, q.running = nil, false
	q.mu.Unlock()
}

// encodePuback appends a PUBACK. MQTT 5 carries a reason: success, payload format
// invalid (a malformed reading, refused for good) or quota exceeded (over its rate).
// MQTT 3.1.1 has no reasons: a malformed reading is acknowledged so the sensor does not
// resend it forever; it was raised as an event and is not stored.
func encodePuback(buf *bytes.Buffer, version byte, id uint16, err error) {
	if version == 5 && err != nil {
		code := packets.ErrPayloadFormatInvalid.Code
		if errors.Is(err, sensors.ErrRateExceeded) {
			code = packets.ErrQuotaExceeded.Code
		}
		buf.Write([]byte{packets.Puback << 4, 3, byte(id >> 8), byte(id), code})
		return
	}
	buf.Write([]byte{packets.Puback << 4, 2, byte(id >> 8), byte(id)})
}
