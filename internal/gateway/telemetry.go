package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"hearth/internal/alerts"
	"hearth/internal/buildinfo"
	"hearth/internal/events"
	"hearth/internal/outbox"
	"hearth/internal/store/sqlite"
)

// OutboxFile is the queue of documents for the vendor cloud in the data directory.
const OutboxFile = "outbox.db"

// summaryEvery is how often a telemetry summary is queued.
const summaryEvery = time.Hour

// eventLog is the gateway's security event log: every event is stored on the device;
// with the owner's consent to telemetry, warnings and critical events also go, reduced
// to kind, severity and the minute they happened, to the vendor cloud through the
// outbox.
//
// TS-0045 5.7.1.11: the copy for the vendor has no user name, address or detail, and
// its time is coarsened to the minute.
//
// TS-0045 5.6.1.2: events wait on disk while the cloud is away, and are sent after.
type eventLog struct {
	*sqlite.EventLog
	out    atomic.Pointer[outbox.Outbox]
	alerts atomic.Pointer[alerts.Alerter]
}

// Publish implements events.Publisher.
func (l *eventLog) Publish(ctx context.Context, e events.Event) {
	l.EventLog.Publish(ctx, e)
	if a := l.alerts.Load(); a != nil {
		a.Publish(ctx, e)
	}
	ob := l.out.Load()
	if ob == nil {
		return
	}
	if e.Severity != events.Warning && e.Severity != events.Critical {
		return
	}
	doc, _ := json.Marshal(map[string]string{"kind": string(e.Kind), "severity": string(e.Severity), "time": e.Time.UTC().Truncate(time.Minute).Format(time.RFC3339)})
	if err := ob.Enqueue(context.WithoutCancel(ctx), outbox.KindSecurityEvent, doc); err != nil && !errors.Is(err, outbox.ErrNotAllowed) {
		// The event is in the device's log; only its copy for the vendor is lost.
		l.Log.Warn("event not queued for the vendor cloud", "kind", e.Kind, "err", err)
	}
}

// openOutbox opens the queue for the vendor cloud; it sends a kind of document only
// while the owner consents to its purpose.
func (m *Main) openOutbox() error {
	if m.cfg.CloudURL == "" {
		return nil
	}
	_, client, err := m.vendorClient(m.cfg.CloudURL)
	if err != nil {
		return err
	}
	ob, err := outbox.Open(filepath.Join(m.cfg.DataDir, OutboxFile), outbox.Config{
		Sender: outbox.NewHTTPSender(client, strings.TrimSuffix(m.cfg.CloudURL, "/")+"/v1/telemetry"), Allowed: m.allowedKind, Log: m.log, Now: m.cfg.Now})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	m.outbox = ob
	m.events.out.Store(ob)
	return nil
}

// runOutbox drains the outbox and queues a summary every hour until ctx ends, then
// waits for the drain to stop.
func (m *Main) runOutbox(ctx context.Context) {
	if m.outbox == nil {
		return
	}
	drained := make(chan struct{})
	go func() {
		m.outbox.Run(ctx)
		close(drained)
	}()
	t := time.NewTicker(summaryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			<-drained
			return
		case <-t.C:
			m.queueSummary(ctx)
			if err := m.queueBackup(ctx); err != nil {
				m.log.Warn("backup of readings not queued", "err", err)
			}
		}
	}
}

// summaryCounts are the security counts of the hourly summary: each name and the event
// kinds it counts.
var summaryCounts = []struct {
	name  string
	kinds []events.Kind
}{
	{"login_failed", []events.Kind{events.LoginFailed}},
	{"account_locked", []events.Kind{events.AccountLocked}},
	{"update_refused", []events.Kind{events.FirmwareRejected, events.UpdateFailed}},
	{"integrity_violation", []events.Kind{events.IntegrityViolation}},
	{"sensor_refused", []events.Kind{events.SensorConnectRefused, events.SensorPlaintextRefused}},
}

// queueSummary queues the hourly telemetry summary: the firmware version, how many
// sensors of each model are paired and in which state, and how many security events of
// a few kinds the last hour had (for the vendor's fleet anomaly checks). No names, no
// readings, no addresses.
//
// TS-0045 5.7.1.11: counts, not the events' details.
func (m *Main) queueSummary(ctx context.Context) {
	counts := map[string]int{}
	if s := m.sensorsOrNil(); s != nil {
		for _, v := range s.List() {
			counts[v.Model+"/"+string(v.State)]++
		}
	}
	byKind, err := m.evlog.Counts(ctx, m.now().Add(-summaryEvery))
	if err != nil {
		m.log.Warn("telemetry summary: event counts", "err", err)
	}
	sec := map[string]int{}
	for _, c := range summaryCounts {
		for _, k := range c.kinds {
			sec[c.name] += byKind[k]
		}
	}
	doc, _ := json.Marshal(map[string]any{"firmware": buildinfo.Version(), "sensors": counts, "counts": sec})
	if err := m.outbox.Enqueue(ctx, outbox.KindTelemetry, doc); err != nil && !errors.Is(err, outbox.ErrNotAllowed) {
		m.log.Warn("telemetry summary not queued", "err", err)
	}
}

// allowedKind is the outbox's consent check: the owner's consent for the kind's purpose,
// narrowed to security notifications while an integrity violation stands.
func (m *Main) allowedKind(kind string) bool {
	return m.consents.AllowedKind(kind) && m.integrity.allowKind(kind)
}
