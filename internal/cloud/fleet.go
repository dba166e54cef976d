package cloud

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/fleet"
	"hearth/internal/privacy"
)

// The fleet monitor's files, under the vendor directory:
//
//	fleet/anomalies.json           the last scan's findings (FleetReport), replaced atomically
//	fleet/operator-token.sha256    SHA-256 (hex) of the operator token that reads them
//
// The operator token is 32 random bytes: a plain hash is enough to keep a copy of the
// vendor directory from granting access, as nothing can guess the token.
const (
	fleetDir          = "fleet"
	AnomaliesFile     = "fleet/anomalies.json"
	OperatorTokenFile = "fleet/operator-token.sha256"
)

// fleetKeepDays is how long findings of days no longer scanned stay in the report.
const fleetKeepDays = 90

// FleetReport is what a scan found (GET /v1/fleet/anomalies).
type FleetReport struct {
	ScannedAt  time.Time        `json:"scanned_at"`
	Days       []string         `json:"days"`    // the days this scan scored
	Devices    int              `json:"devices"` // streams with documents in the scan's window
	Thresholds fleet.Thresholds `json:"thresholds"`
	// Anomalies holds the findings of the scored days and those of earlier scans for
	// the last 90 days, newest day first.
	Anomalies []fleet.Anomaly `json:"anomalies"`
}

// ScanOptions configures a scan. Zero values: today and yesterday (UTC), time.Now,
// the default thresholds, no log.
type ScanOptions struct {
	Days       []fleet.Day
	Now        func() time.Time
	Thresholds *fleet.Thresholds
	Log        *slog.Logger
}

// ScanFleet scores the stored telemetry of every stream for the given days, writes the
// report to fleet/anomalies.json and returns it with the findings earlier scans had not
// reported. It only reads the telemetry, so it may run while the services run.
//
// TS-0045 5.8.1.2: the telemetry the vendor collects is checked for security
// anomalies, and the findings kept for the operators.
func ScanFleet(vendorDir string, o ScanOptions) (FleetReport, []fleet.Anomaly, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	th := fleet.DefaultThresholds()
	if o.Thresholds != nil {
		th = *o.Thresholds
	}
	if err := th.Validate(); err != nil {
		return FleetReport{}, nil, err
	}
	now := o.Now().UTC()
	days := slices.Clone(o.Days)
	if len(days) == 0 {
		today := fleet.DayOf(now)
		days = []fleet.Day{today - 1, today}
	}
	slices.Sort(days)
	devices, err := readFleet(vendorDir, days[0]-fleet.Day(th.HistoryDays), days[len(days)-1], o.Log)
	if err != nil {
		return FleetReport{}, nil, err
	}
	rep := FleetReport{ScannedAt: now, Devices: len(devices), Thresholds: th, Anomalies: []fleet.Anomaly{}}
	for _, d := range days {
		rep.Days = append(rep.Days, d.String())
		rep.Anomalies = append(rep.Anomalies, fleet.Detect(devices, d, th)...)
	}
	prev, err := ReadFleetReport(vendorDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		o.Log.Warn("previous fleet report unreadable, replaced", "err", err)
	}
	seen := map[string]bool{}
	for _, a := range prev.Anomalies {
		seen[a.ID] = true
	}
	var fresh []fleet.Anomaly
	for _, a := range rep.Anomalies {
		if !seen[a.ID] {
			fresh = append(fresh, a)
		}
	}
	oldest := (fleet.DayOf(now) - fleetKeepDays).String()
	for _, a := range prev.Anomalies {
		if !slices.Contains(rep.Days, a.Day) && a.Day >= oldest {
			rep.Anomalies = append(rep.Anomalies, a)
		}
	}
	slices.SortStableFunc(rep.Anomalies, func(a, b fleet.Anomaly) int { return strings.Compare(b.Day, a.Day) })
	return rep, fresh, writeFleetReport(vendorDir, rep)
}

// readFleet aggregates every stream's documents of the days from..to, reading files
// on a few goroutines. A file not modified since before from holds nothing of them and
// is skipped unread. Devices come in the order of their stream ids.
func readFleet(vendor string, from, to fleet.Day, log *slog.Logger) ([]fleet.Device, error) {
	entries, err := os.ReadDir(filepath.Join(vendor, telemetryDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	devices := make([]fleet.Device, len(entries))
	errs := make([]error, len(entries))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), 8) {
		wg.Go(func() {
			for i := range next {
				devices[i], errs[i] = readDevice(vendor, entries[i], from, to, log)
			}
		})
	}
	for i := range entries {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(devices, func(d fleet.Device) bool { return len(d.Days) == 0 }), nil
}

// readDevice aggregates one stream's file; a file that is not a stream's or was not
// written within the days gives a device without days.
func readDevice(vendor string, e os.DirEntry, from, to fleet.Day, log *slog.Logger) (fleet.Device, error) {
	stream, ok := strings.CutSuffix(e.Name(), ".jsonl")
	if !ok || !privacy.IsID(stream) {
		return fleet.Device{}, nil
	}
	if fi, err := e.Info(); err != nil || fleet.DayOf(fi.ModTime()) < from {
		return fleet.Device{}, nil
	}
	agg := fleet.NewAggregator(from, to)
	err := readRecords(streamPath(vendor, stream), log, func(r Record, _ int) error {
		if r.Kind == privacy.KindTelemetry || r.Kind == privacy.KindSecurityEvent {
			agg.Add(fleet.Doc{Kind: r.Kind, Time: r.Time, Received: r.Received, Doc: r.Doc})
		}
		return nil
	})
	if err != nil {
		return fleet.Device{}, err
	}
	d := fleet.Device{ID: stream}
	for day, c := range agg.Days() {
		d.Days = append(d.Days, fleet.DayCounts{Day: day, Counts: c})
	}
	slices.SortFunc(d.Days, func(a, b fleet.DayCounts) int { return int(a.Day - b.Day) })
	return d, nil
}

// maxFleetReport bounds the report file read back.
const maxFleetReport = 64 << 20

// ReadFleetReport reads the last scan's report.
func ReadFleetReport(vendorDir string) (FleetReport, error) {
	var rep FleetReport
	f, err := os.Open(filepath.Join(vendorDir, AnomaliesFile))
	if err != nil {
		return rep, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFleetReport+1))
	if err != nil {
		return rep, err
	}
	if len(b) > maxFleetReport {
		return rep, errors.New("fleet report larger than 64 MiB")
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, fmt.Errorf("fleet report: %w", err)
	}
	return rep, nil
}

func writeFleetReport(vendor string, rep FleetReport) error {
	if err := os.MkdirAll(filepath.Join(vendor, fleetDir), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(vendor, AnomaliesFile), append(b, '\n'), 0o600)
}

// NewOperatorToken makes a new operator token, stores its hash (replacing any earlier
// token, which stops working) and returns it; it is shown once and kept nowhere else.
func NewOperatorToken(vendorDir string, rand io.Reader) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", fmt.Errorf("operator token: %w", err)
	}
	tok := "hop_" + hex.EncodeToString(b[:])
	if err := os.MkdirAll(filepath.Join(vendorDir, fleetDir), 0o700); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(tok))
	path := filepath.Join(vendorDir, OperatorTokenFile)
	if err := atomicfile.Write(path, []byte(hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
		return "", err
	}
	return tok, nil
}

// operator reports whether r presents the operator token as "Authorization: Bearer".
// The hash is read on each request, so a new token takes effect at once; without a
// stored hash nobody is an operator.
func (s *Server) operator(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false
	}
	stored, err := os.ReadFile(filepath.Join(s.cfg.VendorDir, OperatorTokenFile))
	if err != nil {
		return false
	}
	want, err := hex.DecodeString(strings.TrimSpace(string(stored)))
	if err != nil || len(want) != sha256.Size {
		s.cfg.Log.Error("operator token hash unreadable", "file", OperatorTokenFile)
		return false
	}
	got := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// fleetReport answers an operator's request with the last report, or refuses it.
func (s *Server) fleetReport(w http.ResponseWriter, r *http.Request) (FleetReport, bool) {
	if !s.operator(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hearth-fleet"`)
		writeError(w, http.StatusUnauthorized, "operator_token_required", "present the operator token as a bearer token")
		return FleetReport{}, false
	}
	rep, err := ReadFleetReport(s.cfg.VendorDir)
	if errors.Is(err, os.ErrNotExist) {
		return FleetReport{Anomalies: []fleet.Anomaly{}}, true
	}
	if err != nil {
		s.cfg.Log.Error("read fleet report", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "report unavailable")
		return rep, false
	}
	return rep, true
}

// fleetJSON serves GET /v1/fleet/anomalies, to operators only.
func (s *Server) fleetJSON(w http.ResponseWriter, r *http.Request) {
	if rep, ok := s.fleetReport(w, r); ok {
		writeJSON(w, http.StatusOK, rep)
	}
}

var fleetTmpl = template.Must(template.New("fleet").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fleet anomalies</title>
</head>
<body>
<header>
<h1>Fleet anomalies</h1>
<p>{{if .ScannedAt.IsZero}}No scan yet.{{else}}Scanned {{.ScannedAt.Format "2006-01-02 15:04 UTC"}}: {{len .Days}} days, {{.Devices}} devices. <a href="/v1/fleet/anomalies">JSON</a>{{end}}</p>
</header>
<main>
{{if .Anomalies}}<table>
<thead><tr><th>Day</th><th>Type</th><th>Metric</th><th>Device (stream)</th><th>Value</th><th>Devices</th><th>Score</th><th>Reason</th></tr></thead>
<tbody>
{{range .Anomalies}}<tr><td>{{.Day}}</td><td>{{.Type}}</td><td>{{.Metric}}</td><td><code>{{.Device}}</code></td><td>{{.Value}}</td><td>{{if .Devices}}{{.Devices}} of {{end}}{{.Active}}</td><td>{{if .Score}}{{printf "%.1f" .Score}}{{end}}</td><td>{{.Reason}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p>No anomalies.</p>{{end}}
</main>
</body>
</html>
`))

// fleetHTML serves GET /fleet/anomalies, to operators only: the report as a page.
func (s *Server) fleetHTML(w http.ResponseWriter, r *http.Request) {
	rep, ok := s.fleetReport(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := fleetTmpl.Execute(&buf, rep); err != nil {
		s.cfg.Log.Error("render fleet anomalies", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "page unavailable")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Write(buf.Bytes())
}

// scanFleetHourly scans at start and every hour until ctx ends, logging each finding
// not reported before as a warning: the operators' alert.
//
// TS-0045 5.8.1.2: anomalies in the fleet's telemetry raise an alert.
func (s *Server) scanFleetHourly(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		_, fresh, err := ScanFleet(s.cfg.VendorDir, ScanOptions{Now: s.cfg.Now, Log: s.cfg.Log})
		if err != nil {
			s.cfg.Log.Error("fleet anomaly scan", "err", err)
		}
		for _, a := range fresh {
			s.cfg.Log.Warn("fleet anomaly alerted", "id", a.ID, "type", a.Type, "metric", a.Metric.String(),
				"day", a.Day, "device", a.Device, "value", a.Value, "devices", a.Devices, "reason", a.Reason)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
