package events_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hearth/internal/events"
)

// BenchmarkAppend is the rate of appending events to the hash-chained log: each a
// durable transaction (WAL, synchronous=FULL) that also prunes beyond 10,000 entries.
//
//	go test ./internal/events -run '^$' -bench Append -benchtime 5000x
func BenchmarkAppend(b *testing.B) {
	d := newDevice(b)
	ctx := context.Background()
	e := events.Event{Time: time.Now().UTC(), Kind: events.LoginFailed, Severity: events.Warning, User: "mallory", Remote: "192.0.2.9", Detail: "wrong password", Args: []string{"mallory"}}
	b.ResetTimer()
	for range b.N {
		d.log.Publish(ctx, e)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendUnchained is the same insert without the chain's hash, the peer that
// shows what chaining costs.
func BenchmarkAppendUnchained(b *testing.B) {
	d := newDevice(b)
	d.db.Close()
	raw := openRaw(b, d.path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	defer raw.Close()
	b.ResetTimer()
	for range b.N {
		if _, err := raw.Exec(`INSERT INTO events (time, kind, severity, username, remote, detail, args) VALUES (?,?,?,?,?,?,?)`,
			time.Now().UnixNano(), "login.failed", "warning", "mallory", "192.0.2.9", "wrong password", `["mallory"]`); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkVerifyMillion verifies an export of 1,000,000 events (built in memory with
// the device's key) and writes it to a file for a side-by-side `sha256sum`:
//
//	go test ./internal/events -run '^$' -bench VerifyMillion -benchtime 3x
//	sha256sum $TMPDIR/hearth-events-1m.json
func BenchmarkVerifyMillion(b *testing.B) {
	d := newDevice(b)
	x := million(b, d.key, d)
	if raw, err := json.Marshal(x); err == nil {
		path := filepath.Join(os.TempDir(), "hearth-events-1m.json")
		os.WriteFile(path, raw, 0o600)
		b.ReportMetric(float64(len(raw))/(1<<20), "MiB")
	}
	b.ResetTimer()
	for range b.N {
		if _, err := events.Verify(x, d.roots, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// million builds a signed export of one million chained events.
func million(b *testing.B, key *ecdsa.PrivateKey, d *device) events.Export {
	x := events.Export{Format: events.ExportFormat, Serial: "HRT-TEST-0001", Certificates: events.EncodeCertificates(d.chain)}
	prev := make([]byte, events.HashSize)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	x.Final.FirstPrev = hex.EncodeToString(prev)
	for i := range 1_000_000 {
		e := events.Event{ID: int64(i + 1), Time: start.Add(time.Duration(i) * time.Second), Kind: events.LoginFailed, Severity: events.Warning,
			User: "mallory", Remote: "192.0.2.9", Detail: "wrong password", Args: []string{"mallory"}}
		h := events.ChainHash(prev, e)
		x.Entries = append(x.Entries, events.Entry{Event: e, Prev: hex.EncodeToString(prev), Hash: hex.EncodeToString(h)})
		prev = h
	}
	x.Final.FirstID, x.Final.LastID, x.Final.LastHash, x.Final.Count, x.Final.Time = 1, 1_000_000, hex.EncodeToString(prev), 1_000_000, time.Now()
	if err := x.Final.Sign(key); err != nil {
		b.Fatal(err)
	}
	return x
}
