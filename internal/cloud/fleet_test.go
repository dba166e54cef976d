package cloud

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"hearth/internal/fleet"
	"hearth/internal/identity"
)

// getAs sends GET path with an Authorization header (none when auth is empty).
func (g *rig) getAs(t *testing.T, path, auth string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, g.url(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := g.mtlsClient(t, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	return res, buf.Bytes()
}

// fleetItems are a unit's documents from seq 4 on (after grantAs): a summary at noon
// on each of the five days before today with counts (or without, for an older
// gateway), then today's documents.
func fleetItems(today time.Time, withCounts bool, todayDocs ...string) []string {
	var items []string
	seq := int64(4)
	add := func(kind string, at time.Time, doc string) {
		items = append(items, fmt.Sprintf(`{"seq":%d,"kind":%q,"time":%q,"doc":%s}`, seq, kind, at.Format(time.RFC3339), doc))
		seq++
	}
	for d := 5; d >= 1; d-- {
		doc := `{"firmware":"1.2.0","sensors":{}}`
		if withCounts {
			doc = fmt.Sprintf(`{"firmware":"1.2.0","sensors":{},"counts":{"login_failed":%d,"sensor_reconnects":1}}`, d%3)
		}
		add("telemetry", today.AddDate(0, 0, -d).Add(12*time.Hour), doc)
	}
	for _, doc := range todayDocs {
		kind := "telemetry"
		if strings.Contains(doc, `"severity"`) {
			kind = "security_event"
		}
		add(kind, today, doc)
	}
	return items
}

// TS-0045 5.8.1.2: telemetry posted by real units through the services is scanned: a
// unit under password guessing and a tampered unit (an older gateway that sends only
// its events) are found, alerted once in the log, and shown to an operator presenting
// the token, to nobody else.
func TestFleetScanEndToEnd(t *testing.T) {
	g := newRig(t)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	units := []*identity.Identity{g.id}
	for range 6 {
		units = append(units, provisionDevice(t, g.vendor))
	}
	normal := `{"firmware":"1.2.0","sensors":{},"counts":{"login_failed":1}}`
	attacked := `{"firmware":"1.2.0","sensors":{},"counts":{"login_failed":640,"account_locked":6,"unknown":3}}`
	event := func(kind string) string {
		return fmt.Sprintf(`{"kind":%q,"severity":"critical","time":%q}`, kind, today.Format(time.RFC3339))
	}
	streams := make([]string, len(units))
	for i, u := range units {
		streams[i] = fmt.Sprintf("%032x", 0xf1ee7000+i)
		g.grantAs(t, u, streams[i])
		var items []string
		switch i {
		case 1:
			items = fleetItems(today, true, attacked, event("login.failed"))
		case 2:
			items = fleetItems(today, false, event("firmware.rejected"), event("update.failed"), event("update.failed"), event("update.failed"))
		default:
			items = fleetItems(today, true, normal)
		}
		g.send(t, u, batch(streams[i], items...), len(items), 0, 0)
	}

	var logs bytes.Buffer
	svc, err := New(Config{VendorDir: g.vendor, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	svc.scanFleetHourly(ctx) // one scan, as at start
	want := []string{
		"device login_failed " + streams[1], "device account_locked " + streams[1],
		"tamper update_refused " + streams[2], "tamper integrity_violation " + streams[2],
	}
	slices.Sort(want)
	if n := strings.Count(logs.String(), "fleet anomaly alerted"); n != len(want) {
		t.Fatalf("%d alerts, want %d:\n%s", n, len(want), logs.String())
	}
	svc.scanFleetHourly(ctx)
	if n := strings.Count(logs.String(), "fleet anomaly alerted"); n != len(want) {
		t.Fatalf("a second scan alerted again: %d alerts", n)
	}

	// Operators only.
	for _, auth := range []string{"", "Bearer ", "Bearer hop_wrong", "Basic b3A6b3A="} {
		for _, path := range []string{"/v1/fleet/anomalies", "/fleet/anomalies"} {
			if res, _ := g.getAs(t, path, auth); res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("%s with %q: %d", path, auth, res.StatusCode)
			}
		}
	}
	tok, err := NewOperatorToken(g.vendor, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := g.getAs(t, "/v1/fleet/anomalies", "Bearer "+tok+"x"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a longer token: %d", res.StatusCode)
	}
	res, body := g.getAs(t, "/v1/fleet/anomalies", "Bearer "+tok)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("operator: %d %s", res.StatusCode, body)
	}
	var rep FleetReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rep.Anomalies {
		got = append(got, a.Type+" "+a.Metric.String()+" "+a.Device)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) || rep.Devices != len(units) {
		t.Fatalf("report of %d devices: %v\nwant %v", rep.Devices, got, want)
	}
	res, page := g.getAs(t, "/fleet/anomalies", "Bearer "+tok)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") || !bytes.Contains(page, []byte(streams[1])) {
		t.Fatalf("page: %d %v\n%s", res.StatusCode, res.Header, page)
	}

	// A new token replaces the old one.
	tok2, err := NewOperatorToken(g.vendor, rand.Reader)
	if err != nil || tok2 == tok {
		t.Fatal(err)
	}
	if res, _ := g.getAs(t, "/v1/fleet/anomalies", "Bearer "+tok); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old token after rotation: %d", res.StatusCode)
	}
	if b, _ := os.ReadFile(filepath.Join(g.vendor, OperatorTokenFile)); bytes.Contains(b, []byte(tok2)) {
		t.Fatal("the token is stored in the clear")
	}
}

// TS-0045 5.8.1.2: a scan of one day keeps earlier days' findings, drops none of the
// day's, and the page escapes what the findings hold.
func TestFleetReportMergeAndEscape(t *testing.T) {
	g := newRig(t)
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	old := FleetReport{Anomalies: []fleet.Anomaly{
		{ID: "2026-03-08/login_failed/device/x", Type: "device", Day: "2026-03-08", Device: `<script>alert(1)</script>`, Reason: "<b>kept</b>"},
		{ID: "2025-01-01/login_failed/device/y", Type: "device", Day: "2025-01-01", Reason: "expired"},
		{ID: "2026-03-10/login_failed/device/z", Type: "device", Day: "2026-03-10", Reason: "rescanned"},
	}}
	if err := writeFleetReport(g.vendor, old); err != nil {
		t.Fatal(err)
	}
	day, _ := fleet.ParseDay("2026-03-10")
	rep, fresh, err := ScanFleet(g.vendor, ScanOptions{Days: []fleet.Day{day}, Now: func() time.Time { return now }})
	if err != nil || len(fresh) != 0 {
		t.Fatal(err, fresh)
	}
	if len(rep.Anomalies) != 1 || rep.Anomalies[0].Reason != "<b>kept</b>" || fmt.Sprint(rep.Days) != "[2026-03-10]" {
		t.Fatalf("merged report %+v", rep)
	}
	tok, err := NewOperatorToken(g.vendor, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, page := g.getAs(t, "/fleet/anomalies", "Bearer "+tok)
	if bytes.Contains(page, []byte("<script")) || bytes.Contains(page, []byte("<b>")) || !bytes.Contains(page, []byte("&lt;b&gt;kept")) {
		t.Fatalf("page not escaped:\n%s", page)
	}
}
