package gateway

import (
	"net"
	"net/netip"
	"sync"
)

// Connection limits of the HTTPS listener: one address cannot hold more than
// perSourceConns connections, and the gateway holds at most totalConns, so a flood of
// idle or slow connections cannot exhaust memory or file descriptors.
//
// TS-0045 5.6.1.3: the device keeps working under connection floods.
const (
	perSourceConns = 32
	totalConns     = 1024
)

// limitListener closes connections beyond the limits right after accepting them.
type limitListener struct {
	net.Listener
	mu        sync.Mutex
	perSource map[netip.Addr]int
	total     int
	maxPer    int
	maxTotal  int
}

func newLimitListener(l net.Listener, maxPer, maxTotal int) *limitListener {
	return &limitListener{Listener: l, perSource: map[netip.Addr]int{}, maxPer: maxPer, maxTotal: maxTotal}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := addrOf(c.RemoteAddr())
		if l.admit(src) {
			return &limitedConn{Conn: c, l: l, src: src}, nil
		}
		c.Close()
	}
}

func (l *limitListener) admit(src netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.maxTotal || l.perSource[src] >= l.maxPer {
		return false
	}
	l.total++
	l.perSource[src]++
	return true
}

func (l *limitListener) release(src netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perSource[src]--; l.perSource[src] <= 0 {
		delete(l.perSource, src)
	}
}

func addrOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(ta.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}

type limitedConn struct {
	net.Conn
	l    *limitListener
	src  netip.Addr
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.src) })
	return err
}
