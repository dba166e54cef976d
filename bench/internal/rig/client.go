package rig

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"os"
	"strconv"
	"time"

	"hearth/internal/tlspolicy"
)

// Target is a running server as its clients see it.
type Target struct {
	// Addr is where connections go; it must be a loopback address.
	Addr netip.AddrPort
	// ServerName is the name the certificate is checked against and the URL host.
	ServerName string
	// Roots are the only trusted CAs.
	Roots *x509.CertPool
}

// LoadRoots reads a PEM certificate file into a pool.
func LoadRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load roots: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("load roots: no certificate in %s", path)
	}
	return pool, nil
}

// URL is the address of path on the target, by the certificate's name.
func (t Target) URL(path string) string {
	return "https://" + net.JoinHostPort(t.ServerName, strconv.Itoa(int(t.Addr.Port()))) + path
}

// Conns says how a transport uses connections.
type Conns struct {
	// Max bounds the connections (and so the requests in flight) of the transport; 0 means 1.
	Max int
	// KeepAlive reuses connections; false opens a new TCP and TLS connection per request.
	KeepAlive bool
}

// Transport returns an HTTP/1.1 transport whose connections leave from the loopback
// address src and always go to t.Addr, whatever the URL's host, with the TLS client
// settings of internal/tlspolicy.
func (t Target) Transport(src netip.Addr, c Conns) (*http.Transport, error) {
	if !t.Addr.Addr().IsLoopback() || !src.IsLoopback() {
		return nil, fmt.Errorf("transport %s -> %s: benchmarks stay on loopback", src, t.Addr)
	}
	tlsCfg, err := tlspolicy.Client(t.Roots, t.ServerName)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	d := &net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), Timeout: 5 * time.Second}
	dst := t.Addr.String()
	n := max(c.Max, 1)
	return &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialContext(ctx, "tcp", dst) },
		TLSClientConfig:     tlsCfg,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxConnsPerHost:     n,
		MaxIdleConnsPerHost: n,
		DisableKeepAlives:   !c.KeepAlive,
	}, nil
}

// Client returns an HTTP client over tr with jar (nil: a fresh empty jar).
func Client(tr http.RoundTripper, jar http.CookieJar) *http.Client {
	if jar == nil {
		jar = NewJar()
	}
	return &http.Client{Transport: tr, Jar: jar, Timeout: 15 * time.Second}
}

// NewJar returns an empty cookie jar.
func NewJar() http.CookieJar {
	jar, _ := cookiejar.New(nil) // never fails without options
	return jar
}

// Reply is a response's status and stable error code ("" on success).
type Reply struct {
	Status int
	Code   string
}

// Outcome names the reply for counting, e.g. "200" or "429 rate_limited".
func (r Reply) Outcome() string {
	if r.Code == "" {
		return strconv.Itoa(r.Status)
	}
	return strconv.Itoa(r.Status) + " " + r.Code
}

// Call sends a JSON request and reads the reply, draining the body so the connection can
// be reused.
func Call(ctx context.Context, c *http.Client, method, url string, body any) (Reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Reply{}, fmt.Errorf("%s %s: %w", method, url, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Reply{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return Reply{}, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	r := Reply{Status: res.StatusCode}
	if res.StatusCode >= 400 {
		var e struct{ Error string }
		json.Unmarshal(raw, &e)
		r.Code = e.Error
	}
	return r, nil
}

// Login posts credentials to /api/v1/session.
func Login(ctx context.Context, c *http.Client, t Target, user, password string) (Reply, error) {
	return Call(ctx, c, http.MethodPost, t.URL("/api/v1/session"), map[string]string{"username": user, "password": password})
}

// SetOwnerPassword signs in with the label's default password and replaces it, as a new
// owner must. c keeps the session and device cookies of the new password in its jar.
func SetOwnerPassword(ctx context.Context, c *http.Client, t Target, d Device, password string) error {
	r, err := Login(ctx, c, t, d.Username, d.DefaultPassword)
	if err != nil {
		return fmt.Errorf("first login: %w", err)
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("first login: %s", r.Outcome())
	}
	r, err = Call(ctx, c, http.MethodPost, t.URL("/api/v1/account/password"),
		map[string]string{"current_password": d.DefaultPassword, "new_password": password})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if r.Status != http.StatusNoContent {
		return fmt.Errorf("change password: %s", r.Outcome())
	}
	return nil
}

// Loopback returns the IPv4 loopback address 127.a.b.c.
func Loopback(a, b, c byte) netip.Addr { return netip.AddrFrom4([4]byte{127, a, b, c}) }

// Handshake opens a TCP connection from the loopback address src to t.Addr, completes a
// TLS handshake with the tlspolicy client settings and closes it.
func (t Target) Handshake(ctx context.Context, src netip.Addr) error {
	if !t.Addr.Addr().IsLoopback() || !src.IsLoopback() {
		return fmt.Errorf("handshake %s -> %s: benchmarks stay on loopback", src, t.Addr)
	}
	cfg, err := tlspolicy.Client(t.Roots, t.ServerName)
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	d := &tls.Dialer{
		NetDialer: &net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), Timeout: 5 * time.Second},
		Config:    cfg,
	}
	c, err := d.DialContext(ctx, "tcp", t.Addr.String())
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	return c.Close()
}
