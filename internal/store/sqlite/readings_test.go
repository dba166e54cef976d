package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"hearth/internal/sensors"
)

// A readings database of the first schema (sensor IDs and kinds as text) is migrated
// in place: every reading is kept, with its sensor, kind, value and times.
func TestReadingsMigrateFromTextKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "readings.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, readingMigrations[0]+`;
		INSERT INTO readings VALUES ('aaaaaaaaaaaaaaaa', 1000, 'temperature', 21.5, 5000),
			('bbbbbbbbbbbbbbbb', 2000, 'motion', 1, 6000), ('aaaaaaaaaaaaaaaa', 3000, 'humidity', 40, 7000);
		PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	r, err := OpenReadings(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Readings(ctx, "aaaaaaaaaaaaaaaa", time.Unix(0, 0), time.Unix(0, 10000), 10)
	want := []sensors.Reading{{Kind: sensors.Temperature, Value: 21.5, Time: time.Unix(0, 1000).UTC()}, {Kind: sensors.Humidity, Value: 40, Time: time.Unix(0, 3000).UTC()}}
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("migrated readings %v %v", got, err)
	}
	// New readings of a known and a new sensor join them; the row order (arrival) is kept.
	now := time.Unix(0, 9000)
	if err := r.Insert(ctx, []sensors.Record{{Sensor: "bbbbbbbbbbbbbbbb", Reading: sensors.Reading{Kind: sensors.Door, Value: 0, Time: now}, Received: now},
		{Sensor: "cccccccccccccccc", Reading: sensors.Reading{Kind: sensors.Battery, Value: 90, Time: now}, Received: now}}); err != nil {
		t.Fatal(err)
	}
	for id, n := range map[string]int64{"aaaaaaaaaaaaaaaa": 2, "bbbbbbbbbbbbbbbb": 2, "cccccccccccccccc": 1, "": 5} {
		if c, err := r.Count(ctx, id); err != nil || c != n {
			t.Errorf("count %q = %d %v, want %d", id, c, err, n)
		}
	}
	// Pruning by arrival still finds the oldest rows first.
	if n, err := r.Prune(ctx, time.Unix(0, 6500), 0); err != nil || n != 2 {
		t.Fatalf("pruned %d %v, want the 2 rows that arrived before 6500", n, err)
	}
	if err := r.DeleteSensor(ctx, "bbbbbbbbbbbbbbbb"); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.Count(ctx, ""); c != 2 {
		t.Fatalf("%d rows after removing a sensor, want 2", c)
	}
}
