// Package mqttload is a small MQTT 3.1.1 and 5 publishing client used to test and
// measure brokers: it keeps a configurable window of QoS 1 publishes in flight and
// reports each acknowledgement, which is what a kill test needs to know (exactly which
// readings the broker acknowledged) and what a throughput benchmark needs (the same load
// against Hearth's broker and Mosquitto). It is not used by the gateway.
package mqttload

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Options configures a connection.
type Options struct {
	Addr     string
	TLS      *tls.Config // nil: plaintext
	ClientID string
	Username string
	Password []byte
	// Version is 4 (MQTT 3.1.1, default) or 5.
	Version byte
	// Keepalive in seconds; 0 means 60.
	Keepalive uint16
	// Window is how many QoS 1 publishes may await acknowledgement; 0 means 64.
	Window int
}

// ConnectError is a CONNACK refusing the connection.
type ConnectError struct{ Code byte }

func (e ConnectError) Error() string {
	return fmt.Sprintf("connection refused by broker (code 0x%02x)", e.Code)
}

// ErrClosed is returned once the connection ended.
var ErrClosed = errors.New("mqtt connection closed")

// Conn is one MQTT connection.
type Conn struct {
	opts Options
	c    net.Conn
	wmu  sync.Mutex
	w    *bufio.Writer
	slot chan struct{}

	mu       sync.Mutex
	nextID   uint16
	inflight map[uint16]func(code byte)
	subacks  map[uint16]chan byte
	err      error
	done     chan struct{}
}

// Dial connects and completes the MQTT handshake.
func Dial(ctx context.Context, o Options) (*Conn, error) {
	if o.Version == 0 {
		o.Version = 4
	}
	if o.Keepalive == 0 {
		o.Keepalive = 60
	}
	if o.Window <= 0 {
		o.Window = 64
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	c := raw
	if o.TLS != nil {
		tc := tls.Client(raw, o.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		c = tc
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	conn := &Conn{opts: o, c: c, w: bufio.NewWriterSize(c, 32<<10), slot: make(chan struct{}, o.Window),
		inflight: map[uint16]func(byte){}, subacks: map[uint16]chan byte{}, done: make(chan struct{})}
	r := bufio.NewReaderSize(c, 32<<10)
	if err := conn.connect(r); err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	go conn.read(r)
	return conn, nil
}

func appendString(b []byte, s []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func appendLength(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

func (c *Conn) v5() bool { return c.opts.Version == 5 }

func (c *Conn) connect(r *bufio.Reader) error {
	var body []byte
	body = appendString(body, []byte("MQTT"))
	flags := byte(0x02) // clean session
	if c.opts.Username != "" {
		flags |= 0x80
	}
	if c.opts.Password != nil {
		flags |= 0x40
	}
	body = append(body, c.opts.Version, flags)
	body = binary.BigEndian.AppendUint16(body, c.opts.Keepalive)
	if c.v5() {
		body = append(body, 0)
	}
	body = appendString(body, []byte(c.opts.ClientID))
	if c.opts.Username != "" {
		body = appendString(body, []byte(c.opts.Username))
	}
	if c.opts.Password != nil {
		body = appendString(body, c.opts.Password)
	}
	if err := c.writePacket(0x10, body, true); err != nil {
		return err
	}
	typ, pb, err := readPacket(r)
	if err != nil {
		return fmt.Errorf("read CONNACK: %w", err)
	}
	if typ>>4 != 2 || len(pb) < 2 {
		return fmt.Errorf("expected CONNACK, got packet type %d", typ>>4)
	}
	if pb[1] != 0 {
		return ConnectError{pb[1]}
	}
	return nil
}

func (c *Conn) writePacket(header byte, body []byte, flush bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var hdr [5]byte
	h := appendLength(append(hdr[:0], header), len(body))
	if _, err := c.w.Write(h); err != nil {
		return err
	}
	if _, err := c.w.Write(body); err != nil {
		return err
	}
	if flush {
		return c.w.Flush()
	}
	return nil
}

// Flush sends buffered publishes.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.w.Flush()
}

func readPacket(r *bufio.Reader) (byte, []byte, error) {
	typ, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mul := 0, 1
	for i := 0; ; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(b&0x7f) * mul
		if b&0x80 == 0 {
			break
		}
		if i == 3 {
			return 0, nil, errors.New("malformed remaining length")
		}
		mul *= 128
	}
	body := make([]byte, n)
	_, err = io.ReadFull(r, body)
	return typ, body, err
}

// Publish sends one message. With QoS 1 it waits while the window is full (flushing
// first), and onAck runs with the PUBACK's reason code (0 success) when it arrives.
// Publishes are buffered: call Flush when done publishing.
func (c *Conn) Publish(topic string, payload []byte, qos byte, onAck func(code byte)) error {
	var id uint16
	if qos > 0 {
		select {
		case c.slot <- struct{}{}:
		default:
			if err := c.Flush(); err != nil {
				return err
			}
			select {
			case c.slot <- struct{}{}:
			case <-c.done:
				return c.Err()
			}
		}
		c.mu.Lock()
		if c.err != nil {
			c.mu.Unlock()
			return c.err
		}
		for {
			c.nextID++
			if _, busy := c.inflight[c.nextID]; c.nextID != 0 && !busy {
				break
			}
		}
		id = c.nextID
		if onAck == nil {
			onAck = func(byte) {}
		}
		c.inflight[id] = onAck
		c.mu.Unlock()
	}
	body := make([]byte, 0, 2+len(topic)+3+len(payload))
	body = appendString(body, []byte(topic))
	if qos > 0 {
		body = binary.BigEndian.AppendUint16(body, id)
	}
	if c.v5() {
		body = append(body, 0)
	}
	body = append(body, payload...)
	return c.writePacket(0x30|qos<<1, body, false)
}

// Subscribe asks for one filter at QoS 1 and returns the granted code (0x80 or above:
// refused).
func (c *Conn) Subscribe(ctx context.Context, filter string) (byte, error) {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan byte, 1)
	c.subacks[id] = ch
	c.mu.Unlock()
	body := binary.BigEndian.AppendUint16(nil, id)
	if c.v5() {
		body = append(body, 0)
	}
	body = appendString(body, []byte(filter))
	body = append(body, 1)
	if err := c.writePacket(0x82, body, true); err != nil {
		return 0, err
	}
	select {
	case code := <-ch:
		return code, nil
	case <-c.done:
		return 0, c.Err()
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (c *Conn) read(r *bufio.Reader) {
	var err error
	defer func() { c.fail(err) }()
	for {
		var typ byte
		var body []byte
		typ, body, err = readPacket(r)
		if err != nil {
			return
		}
		switch typ >> 4 {
		case 4: // PUBACK
			if len(body) < 2 {
				err = errors.New("short PUBACK")
				return
			}
			id := binary.BigEndian.Uint16(body)
			code := byte(0)
			if len(body) > 2 {
				code = body[2]
			}
			c.mu.Lock()
			f, ok := c.inflight[id]
			delete(c.inflight, id)
			c.mu.Unlock()
			if !ok {
				err = fmt.Errorf("PUBACK for unknown packet %d", id)
				return
			}
			f(code)
			<-c.slot
		case 9: // SUBACK
			if len(body) < 3 {
				err = errors.New("short SUBACK")
				return
			}
			id := binary.BigEndian.Uint16(body)
			c.mu.Lock()
			ch := c.subacks[id]
			delete(c.subacks, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- body[len(body)-1]
			}
		case 13: // PINGRESP
		case 14: // DISCONNECT
			err = ErrClosed
			if len(body) > 0 {
				err = fmt.Errorf("%w: broker sent DISCONNECT 0x%02x", ErrClosed, body[0])
			}
			return
		}
	}
}

func (c *Conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		err = ErrClosed
	}
	c.err = err
	close(c.done)
	c.c.Close()
}

// Err is why the connection ended, or nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Done is closed when the connection ends.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Unacknowledged is the number of QoS 1 publishes still awaiting their PUBACK.
func (c *Conn) Unacknowledged() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.inflight)
}

// Close sends DISCONNECT and closes the connection.
func (c *Conn) Close() error {
	c.writePacket(0xe0, nil, true)
	c.fail(ErrClosed)
	return nil
}

// Drain waits until every QoS 1 publish was acknowledged or the connection ended.
func (c *Conn) Drain(ctx context.Context) error {
	if err := c.Flush(); err != nil {
		return err
	}
	for i := 0; i < cap(c.slot); i++ {
		select {
		case c.slot <- struct{}{}:
		case <-c.done:
			return c.Err()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for i := 0; i < cap(c.slot); i++ {
		<-c.slot
	}
	return nil
}
