package e2e

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// socket is one socket of a process, read from /proc.
type socket struct {
	proto string // tcp, tcp6, udp, udp6
	port  int
	state string // hex state; 0A is LISTEN for TCP
}

// processSockets lists the sockets pid holds, by matching its fd inodes with the
// kernel's socket tables (what a full port scan of the host would find for it).
func processSockets(t *testing.T, pid int) []socket {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.Trim(link[len("socket:"):], "[]")] = true
		}
	}
	var out []socket
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6"} {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, proto))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Scan() // header
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			port, _ := strconv.ParseInt(hexPort, 16, 32)
			out = append(out, socket{proto: proto, port: int(port), state: f[3]})
		}
	}
	return out
}

// TS-0045 5.2.2.1, 5.2.2.5: hearthd opens exactly the declared sockets: one TCP listener
// for HTTPS (the MQTTS one opens only once a sensor is paired, see
// TestSensorsWithMosquittoClients), no UDP, no raw sockets.
func TestListeningSocketsMatchDeclaration(t *testing.T) {
	decl := loadDeclaration(t)
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	d.login(d.client(), "owner", d.label["default_password"]) // exercise it first
	socks := processSockets(t, d.cmd.Process.Pid)
	var listening []socket
	for _, s := range socks {
		switch {
		case strings.HasPrefix(s.proto, "tcp") && s.state == "0A":
			listening = append(listening, s)
		case strings.HasPrefix(s.proto, "udp"), strings.HasPrefix(s.proto, "raw"):
			t.Errorf("undeclared %s socket on port %d", s.proto, s.port)
		}
	}
	always := 0
	for _, l := range decl.Listeners {
		if l.OpenWhile == "" {
			always++
		}
	}
	if len(listening) != always {
		t.Fatalf("listening sockets %+v, declared %d listener(s) always open", listening, always)
	}
	port, _ := strconv.Atoi(d.port())
	if listening[0].port != port || decl.Listeners[0].Name != "https" {
		t.Fatalf("listener on %d, want the HTTPS port %d", listening[0].port, port)
	}
	if len(decl.UDPSockets) != 0 {
		t.Fatal("declaration lists UDP sockets; this test expects none")
	}
}

// TS-0045 5.2.2.2: an unauthenticated party learns nothing about the device: every
// operation but login answers 401, and no header, body, error page or certificate
// carries the model, name, serial or firmware version.
func TestUnauthenticatedDisclosure(t *testing.T) {
	decl := loadDeclaration(t)
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	secrets := []string{d.label["model"], d.label["name"], d.label["serial"], "1.0.0", "hearthd", "Go-http-client"}
	public := map[string]bool{}
	for _, op := range decl.UnauthenticatedOperations {
		public[op.Method+" "+op.Path] = true
	}
	doc, err := openapi3.NewLoader().LoadFromFile("../internal/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := d.client()
	var seen bytes.Buffer
	for path, item := range doc.Paths.Map() {
		p := "/api/v1" + strings.NewReplacer("{username}", "owner", "{id}", "0123456789abcdef").Replace(path)
		for method := range item.Operations() {
			r := d.call(c, method, p, nil)
			if public[method+" /api/v1"+path] {
				if r.status != 400 && r.status != 415 {
					t.Errorf("%s %s without body: %v", method, p, r)
				}
			} else if r.status != 401 {
				t.Errorf("%s %s unauthenticated: %v, want 401", method, p, r)
			}
			fmt.Fprintf(&seen, "%v %v\n", r.header, string(r.body))
		}
	}
	// Pages redirect to the sign-in page, whatever the path.
	noFollow := d.client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, p := range []string{"/", "/index.html", "/debug/pprof/", "/metrics", "/api", "/api/v2/x", "/.well-known/security.txt", "/%2e%2e/etc/passwd", "/users", "/settings"} {
		r := d.call(noFollow, "GET", p, nil)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Errorf("GET %s: %v (Location %q), want a redirect to /login", p, r, r.header.Get("Location"))
		}
		fmt.Fprintf(&seen, "%v %v\n", r.header, string(r.body))
	}
	for _, p := range []string{"/login", "/assets/app.js", "/assets/app.css"} {
		r := d.call(c, "GET", p, nil)
		if r.status != 200 {
			t.Errorf("GET %s: %v", p, r)
		}
		fmt.Fprintf(&seen, "%v %v\n", r.header, string(r.body))
	}
	r := d.login(c, "owner", "wrong password")
	fmt.Fprintf(&seen, "%v %v\n", r.header, string(r.body))
	seen.WriteString(plainHTTPProbe(t, d.addr))
	seen.WriteString(certificateText(t, d))
	for _, s := range secrets {
		if strings.Contains(seen.String(), s) {
			t.Errorf("an unauthenticated party can read %q", s)
		}
	}
	if strings.Contains(strings.ToLower(seen.String()), "server:") {
		t.Error("a Server header is sent")
	}
}

// plainHTTPProbe speaks plain HTTP to the TLS port, as a scanner does, and returns the answer.
func plainHTTPProbe(t *testing.T, addr string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.0\r\nHost: x\r\n\r\n")
	b, _ := io.ReadAll(conn)
	return string(b)
}

// certificateText returns everything the TLS handshake shows about the device.
func certificateText(t *testing.T, d *device) string {
	t.Helper()
	conn, err := tls.Dial("tcp", d.addr, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	for _, c := range conn.ConnectionState().PeerCertificates {
		fmt.Fprintf(&b, "%s %s %v %v %s\n", c.Subject, c.Issuer, c.DNSNames, c.IPAddresses, c.SerialNumber)
		b.Write(c.RawSubject)
	}
	return b.String()
}

// A client that trusts only the vendor root accepts the gateway; one that does not,
// refuses it.
func TestCertificateChainsToVendorRoot(t *testing.T) {
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	if r := d.call(d.client(), "GET", "/api/v1/device", nil); r.status != 401 {
		t.Fatalf("trusted client: %v", r)
	}
	other := provision(t, newVendor(t))
	pem, _ := os.ReadFile(other.root)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if _, err := c.Get(d.url() + "/api/v1/device"); err == nil {
		t.Fatal("a client trusting another vendor's root connected")
	}
}
