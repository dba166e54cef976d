// Package sensorstest runs the real sensors service over real SQLite for tests of the
// packages built on it (broker, API, UI, simulated sensors).
package sensorstest

import (
	"context"
	"path/filepath"
	"testing"

	"hearth/internal/sensors"
	"hearth/internal/store/sqlite"
)

// OpenReadings opens a readings database in a temporary directory, closed when the test
// ends.
func OpenReadings(t testing.TB) *sqlite.Readings {
	t.Helper()
	rd, err := sqlite.OpenReadings(context.Background(), filepath.Join(t.TempDir(), "readings.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	return rd
}

// Run starts the service with cfg and, when the test ends, stops it before the stores
// it uses are closed. Stores not given are fresh ones: cfg.Store a gateway database in a
// temporary directory (with its event log when cfg.Events is nil too), cfg.Readings
// from OpenReadings.
func Run(t testing.TB, cfg sensors.Config) *sensors.Service {
	t.Helper()
	if cfg.Store == nil {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hearthd.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		cfg.Store = db
		if cfg.Events == nil {
			cfg.Events = &sqlite.EventLog{DB: db}
		}
	}
	if cfg.Readings == nil {
		cfg.Readings = OpenReadings(t)
	}
	svc, err := sensors.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	return svc
}
