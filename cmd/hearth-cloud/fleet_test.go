package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/cloud"
)

// writeStream stores a stream's summaries as the services would: one a day at noon
// for days 2026-03-01..10, with logins failed per day.
func writeStream(t *testing.T, v, stream string, logins ...int) {
	t.Helper()
	var lines []string
	for i, n := range logins {
		at := time.Date(2026, 3, 1+i, 12, 0, 0, 0, time.UTC)
		doc := fmt.Sprintf(`{"firmware":"1.2.0","counts":{"login_failed":%d}}`, n)
		b, _ := json.Marshal(cloud.Record{Received: at, Stream: stream, Seq: int64(i + 1), Kind: "telemetry", Time: at.Format(time.RFC3339), Doc: json.RawMessage(doc)})
		lines = append(lines, string(b))
	}
	dir := filepath.Join(v, "telemetry")
	os.MkdirAll(dir, 0o700)
	if err := os.WriteFile(filepath.Join(dir, stream+".jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TS-0045 5.8.1.2: fleet scan exits 1 and names the device when a day is anomalous,
// 0 on a quiet day; fleet token prints a token whose hash alone is stored.
func TestFleetCommands(t *testing.T) {
	v := t.TempDir()
	for i := range 5 {
		writeStream(t, v, fmt.Sprintf("%032x", i), 1, 0, 2, 1, 0, 1, 2, 0, 1, 1)
	}
	attacked := fmt.Sprintf("%032x", 99)
	writeStream(t, v, attacked, 1, 0, 2, 1, 0, 1, 2, 0, 1, 900)
	out, err := run(t, "fleet", "scan", "--dir", v, "--day", "2026-03-10")
	if err == nil || !strings.Contains(out, attacked) || !strings.Contains(out, "1 anomalies in 6 devices") {
		t.Fatalf("scan of the attacked day: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(v, cloud.AnomaliesFile)); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "fleet", "scan", "--dir", v, "--day", "2026-03-09"); !strings.Contains(out, "0 anomalies") {
		t.Fatalf("quiet day: %s", out)
	}
	if _, err := run(t, "fleet", "scan", "--dir", v, "--day", "10 March"); err == nil {
		t.Fatal("a malformed day was accepted")
	}
	if _, err := run(t, "fleet", "scan"); err == nil {
		t.Fatal("scan without --dir")
	}
	out = mustRun(t, "fleet", "token", "--dir", v)
	tok := strings.Fields(out)[0]
	stored, _ := os.ReadFile(filepath.Join(v, cloud.OperatorTokenFile))
	if !strings.HasPrefix(tok, "hop_") || len(tok) != 68 || len(stored) != 65 || strings.Contains(string(stored), tok) {
		t.Fatalf("token %q, stored %q", tok, stored)
	}
}
