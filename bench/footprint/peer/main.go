// Command peer is the floor hearthd's footprint is measured against: the smallest useful
// Go HTTPS server, built with hearthd's release command (FIPS 140-3 mode) and serving with
// the same TLS policy (internal/tlspolicy) and server timeouts, answering every request
// with a static 200. Whatever hearthd costs beyond this is Hearth's own.
//
//	peer --cert C --key K --https-addr 127.0.0.1:0 --ready-file R
//
// Like hearthd it writes {"https_addr": ..., "pid": ...} to the ready file once serving
// and exits cleanly on SIGINT or SIGTERM. Benchmark use only; it is not part of the product.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/tlspolicy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("peer", flag.ContinueOnError)
	certFile := fs.String("cert", "", "certificate PEM (required)")
	keyFile := fs.String("key", "", "private key PEM (required)")
	addr := fs.String("https-addr", "127.0.0.1:0", "HTTPS listen address")
	ready := fs.String("ready-file", "", "write the listen address here as JSON once serving")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *certFile == "" || *keyFile == "" {
		return errors.New("--cert and --key are required")
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return fmt.Errorf("load certificate: %w", err)
	}
	srv, err := newServer(&cert)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return serve(ctx, srv, ln, *ready)
}

// newServer returns a server with hearthd's TLS policy and timeouts.
func newServer(cert *tls.Certificate) (*http.Server, error) {
	tlsCfg, err := tlspolicy.Server(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert, nil })
	if err != nil {
		return nil, err
	}
	return &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("ok\n"))
		}),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}, nil
}

// serve runs srv on ln until ctx is done, writing the ready file once serving.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, ready string) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	if ready != "" {
		b, _ := json.Marshal(map[string]any{"https_addr": ln.Addr().String(), "pid": os.Getpid()})
		if err := atomicfile.Write(ready, append(b, '\n'), 0o644); err != nil {
			srv.Close()
			return err
		}
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
