package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/release"
)

// ListenAndServe runs the services on addr until ctx ends. readyFile, when set, receives
// {"addr": ...} once they serve.
func ListenAndServe(ctx context.Context, cfg Config, addr, readyFile string) error {
	svc, err := New(cfg)
	if err != nil {
		return err
	}
	tlsCfg, err := svc.TLSConfig()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: svc.Handler(), TLSConfig: tlsCfg, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	if readyFile != "" {
		b, _ := json.Marshal(map[string]any{"addr": ln.Addr().String(), "pid": os.Getpid()})
		if err := atomicfile.Write(readyFile, append(b, '\n'), 0o644); err != nil {
			srv.Close()
			return err
		}
	}
	go refreshTUF(ctx, svc.cfg)
	go svc.pruneHourly(ctx)
	go svc.overdueHourly(ctx)
	go svc.scanFleetHourly(ctx)
	go svc.mailReporters(ctx)
	svc.cfg.Log.Info("vendor services ready", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// refreshTUF re-signs the repository's timestamp (online key) at start and every hour,
// so devices always find fresh metadata.
func refreshTUF(ctx context.Context, cfg Config) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		err := release.RefreshTimestamp(cfg.VendorDir, release.Options{Now: cfg.Now()})
		switch {
		case errors.Is(err, release.ErrNotInitialised):
			cfg.Log.Warn("no update repository in the vendor directory (hearth-cloud tuf-init)")
		case err != nil:
			cfg.Log.Error("refresh update repository timestamp", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
