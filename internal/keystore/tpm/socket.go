package tpm

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// socketConn speaks to a TPM emulator on a Unix socket, which takes one command per
// connection: Write connects and sends, Read receives and closes. An emulator busy
// closing the previous connection can refuse the next one for a moment, so connecting
// is retried briefly. Not safe for concurrent use (the Wrapper serialises commands).
type socketConn struct {
	path string
	conn net.Conn
}

var errSequence = errors.New("tpm: socket transport used out of write/read order")

func (s *socketConn) Write(p []byte) (int, error) {
	if s.conn != nil {
		return 0, errSequence
	}
	var err error
	for wait := time.Millisecond; ; wait *= 2 {
		s.conn, err = net.Dial("unix", s.path)
		if err == nil || wait > 512*time.Millisecond || !errors.Is(err, syscall.ECONNREFUSED) {
			break
		}
		time.Sleep(wait)
	}
	if err != nil {
		return 0, err
	}
	return s.conn.Write(p)
}

func (s *socketConn) Read(p []byte) (int, error) {
	if s.conn == nil {
		return 0, errSequence
	}
	n, err := s.conn.Read(p)
	s.conn.Close()
	s.conn = nil
	return n, err
}

func (s *socketConn) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
