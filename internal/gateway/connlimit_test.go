package gateway

import (
	"io"
	"net"
	"testing"
	"time"
)

func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(inner, 2, 3)
	defer l.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func(local string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		c, err := d.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// closedByServer reports whether the gateway hung up on c at once.
	closedByServer := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		return err == io.EOF
	}
	a1, a2 := dial("127.0.0.1"), dial("127.0.0.1")
	<-accepted
	first := <-accepted
	if a3 := dial("127.0.0.1"); !closedByServer(a3) {
		t.Fatal("third connection from one address was kept")
	}
	dial("127.0.0.2")
	<-accepted
	if b2 := dial("127.0.0.3"); !closedByServer(b2) {
		t.Fatal("connection beyond the total was kept")
	}
	first.Close()
	c := dial("127.0.0.3")
	select {
	case <-accepted:
	case <-time.After(2 * time.Second):
		t.Fatal("a freed slot was not reused")
	}
	a1.Close()
	a2.Close()
	c.Close()
}
