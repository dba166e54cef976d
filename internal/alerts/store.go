package alerts

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hearth/internal/events"
	"hearth/internal/store/sqlitefile"
)

// State is a delivery's state.
type State string

// Delivery states.
const (
	Pending   State = "pending"
	Delivered State = "delivered"
	Failed    State = "failed"
)

// Alert is one alert and the state of its deliveries, for the UI.
type Alert struct {
	ID       int64           `json:"id"`
	EventID  int64           `json:"event_id"`
	Time     time.Time       `json:"time"` // the event's
	Kind     events.Kind     `json:"kind"`
	Severity events.Severity `json:"severity"`
	Summary  string          `json:"summary"`
	Created  time.Time       `json:"created"`
	// UI reports whether the alert is for the web UI's list and banner; Read whether
	// the owner has marked it read.
	UI         bool       `json:"ui"`
	Read       bool       `json:"read"`
	Deliveries []Delivery `json:"deliveries"`
}

// Delivery is the state of an alert's delivery through one channel to one target.
type Delivery struct {
	Channel Channel `json:"channel"`
	// Target is the webhook's ID for the webhook channel, empty for the others.
	Target      string    `json:"target,omitempty"`
	State       State     `json:"state"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	NextAttempt time.Time `json:"next_attempt,omitzero"` // while pending
	Done        time.Time `json:"done,omitzero"`         // when delivered or failed
}

// db is the on-disk queue: one SQLite file, one connection.
//
// TS-0045 5.6.1.1: opened by sqlitefile (WAL, synchronous=FULL), so an alert Publish
// stored survives power loss and is delivered after the restart.
//
// The stream id is drawn once when the file is created: webhook receivers see alert ids
// "<stream>-<n>", so a gateway whose queue was wiped (a factory reset) does not repeat
// ids a receiver has already seen and discards as duplicates.
type db struct {
	sql    *sql.DB
	stream string
}

var schema = []string{
	`CREATE TABLE alerts (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		event_id INTEGER NOT NULL,
		event BLOB NOT NULL,
		created INTEGER NOT NULL,
		ui INTEGER NOT NULL,
		read INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE deliveries (
		alert_id INTEGER NOT NULL,
		channel TEXT NOT NULL,
		target TEXT NOT NULL,
		state TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT '',
		last_attempt INTEGER NOT NULL DEFAULT 0,
		next_attempt INTEGER NOT NULL DEFAULT 0,
		done INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (alert_id, channel, target)
	);
	CREATE INDEX deliveries_due ON deliveries(state, next_attempt);
	CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);`,
}

func openDB(ctx context.Context, path string) (*db, error) {
	s, err := sqlitefile.Open(path, "busy_timeout(5000)", "journal_size_limit(4194304)")
	if err != nil {
		return nil, fmt.Errorf("open alerts: %w", err)
	}
	s.SetMaxOpenConns(1)
	s.SetConnMaxIdleTime(0)
	if err := sqlitefile.Migrate(ctx, s, schema); err != nil {
		s.Close()
		return nil, fmt.Errorf("open alerts: %w", err)
	}
	d := &db{sql: s}
	if err := d.loadStream(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open alerts: %w", err)
	}
	return d, nil
}

func (d *db) loadStream(ctx context.Context) error {
	err := d.sql.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = 'stream'").Scan(&d.stream)
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	b := make([]byte, 8)
	rand.Read(b)
	d.stream = hex.EncodeToString(b)
	_, err = d.sql.ExecContext(ctx, "INSERT INTO meta(k, v) VALUES ('stream', ?)", d.stream)
	return err
}

func (d *db) close() error { return d.sql.Close() }

// purge deletes every alert and delivery, draws a new stream id, and rewrites the file
// so no deleted row is left in it or in its log.
func (d *db) purge(ctx context.Context) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM deliveries", "DELETE FROM alerts", "DELETE FROM meta", "DELETE FROM sqlite_sequence"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if err := d.loadStream(ctx); err != nil {
		return err
	}
	for _, q := range []string{"VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err := d.sql.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// target is one delivery to create.
type target struct {
	channel Channel
	id      string
	state   State
}

// insert stores an alert with its deliveries and drops the oldest alerts beyond max,
// in one transaction.
//
// TS-0045 5.6.1.1: storage stays bounded, so an alert storm never fills the disk.
func (d *db) insert(ctx context.Context, e events.Event, now time.Time, ui bool, targets []target, maxAlerts int) (id, dropped int64, err error) {
	doc, err := json.Marshal(e)
	if err != nil {
		return 0, 0, err
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("alerts: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "INSERT INTO alerts(event_id, event, created, ui) VALUES (?, ?, ?, ?)", e.ID, doc, now.UnixNano(), ui)
	if err != nil {
		return 0, 0, fmt.Errorf("alerts: %w", err)
	}
	id, _ = res.LastInsertId()
	for _, t := range targets {
		done := int64(0)
		if t.state != Pending {
			done = now.UnixNano()
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO deliveries(alert_id, channel, target, state, next_attempt, done) VALUES (?, ?, ?, ?, ?, ?)",
			id, t.channel, t.id, t.state, now.UnixNano(), done); err != nil {
			return 0, 0, fmt.Errorf("alerts: %w", err)
		}
	}
	var cut sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT id FROM alerts ORDER BY id DESC LIMIT 1 OFFSET ?", maxAlerts).Scan(&cut); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("alerts: %w", err)
	}
	if cut.Valid {
		if _, err := tx.ExecContext(ctx, "DELETE FROM deliveries WHERE alert_id <= ?", cut.Int64); err != nil {
			return 0, 0, fmt.Errorf("alerts: %w", err)
		}
		r, err := tx.ExecContext(ctx, "DELETE FROM alerts WHERE id <= ?", cut.Int64)
		if err != nil {
			return 0, 0, fmt.Errorf("alerts: %w", err)
		}
		dropped, _ = r.RowsAffected()
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("alerts: commit: %w", err)
	}
	return id, dropped, nil
}

// job is a pending delivery with its alert.
type job struct {
	alert    int64
	channel  Channel
	target   string
	attempts int
	created  time.Time
	event    events.Event
}

// due returns up to limit pending deliveries whose next attempt is at or before now,
// oldest first.
func (d *db) due(ctx context.Context, now time.Time, limit int) ([]job, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT d.alert_id, d.channel, d.target, d.attempts, a.created, a.event
		FROM deliveries d JOIN alerts a ON a.id = d.alert_id
		WHERE d.state = 'pending' AND d.next_attempt <= ? ORDER BY d.next_attempt, d.alert_id LIMIT ?`, now.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	defer rows.Close()
	var jobs []job
	for rows.Next() {
		var j job
		var created int64
		var doc []byte
		if err := rows.Scan(&j.alert, &j.channel, &j.target, &j.attempts, &created, &doc); err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		j.created = time.Unix(0, created).UTC()
		if err := json.Unmarshal(doc, &j.event); err != nil {
			return nil, fmt.Errorf("alerts: stored event: %w", err)
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// next returns the time of the earliest pending delivery, if any.
func (d *db) next(ctx context.Context) (time.Time, bool, error) {
	var ns sql.NullInt64
	if err := d.sql.QueryRowContext(ctx, "SELECT min(next_attempt) FROM deliveries WHERE state = 'pending'").Scan(&ns); err != nil {
		return time.Time{}, false, fmt.Errorf("alerts: %w", err)
	}
	if !ns.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(0, ns.Int64).UTC(), true, nil
}

// record stores the outcome of an attempt: state, the error (empty on success) and,
// while pending, the next attempt's time.
func (d *db) record(ctx context.Context, j job, state State, errText string, now, next time.Time) error {
	done := int64(0)
	if state != Pending {
		done = now.UnixNano()
	}
	_, err := d.sql.ExecContext(ctx, `UPDATE deliveries SET state = ?, attempts = attempts + 1, last_error = ?,
		last_attempt = ?, next_attempt = ?, done = ? WHERE alert_id = ? AND channel = ? AND target = ?`,
		state, errText, now.UnixNano(), next.UnixNano(), done, j.alert, j.channel, j.target)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	return nil
}

// list returns the newest alerts with their deliveries.
func (d *db) list(ctx context.Context, limit int) ([]Alert, error) {
	rows, err := d.sql.QueryContext(ctx, "SELECT id, event, created, ui, read FROM alerts ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	var out []Alert
	index := map[int64]int{}
	for rows.Next() {
		var a Alert
		var doc []byte
		var created int64
		if err := rows.Scan(&a.ID, &doc, &created, &a.UI, &a.Read); err != nil {
			rows.Close()
			return nil, fmt.Errorf("alerts: %w", err)
		}
		var e events.Event
		if err := json.Unmarshal(doc, &e); err != nil {
			rows.Close()
			return nil, fmt.Errorf("alerts: stored event: %w", err)
		}
		a.EventID, a.Time, a.Kind, a.Severity, a.Summary = e.ID, e.Time, e.Kind, e.Severity, summary(e)
		a.Created = time.Unix(0, created).UTC()
		a.Deliveries = []Delivery{}
		index[a.ID] = len(out)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	return out, d.attachDeliveries(ctx, out, index)
}

func (d *db) attachDeliveries(ctx context.Context, out []Alert, index map[int64]int) error {
	rows, err := d.sql.QueryContext(ctx, `SELECT alert_id, channel, target, state, attempts, last_error, last_attempt, next_attempt, done
		FROM deliveries WHERE alert_id >= ? ORDER BY alert_id, channel, target`, out[len(out)-1].ID)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, last, next, done int64
		var dl Delivery
		if err := rows.Scan(&id, &dl.Channel, &dl.Target, &dl.State, &dl.Attempts, &dl.LastError, &last, &next, &done); err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		dl.LastAttempt, dl.Done = unixNano(last), unixNano(done)
		if dl.State == Pending {
			dl.NextAttempt = unixNano(next)
		}
		if i, ok := index[id]; ok {
			out[i].Deliveries = append(out[i].Deliveries, dl)
		}
	}
	return rows.Err()
}

func unixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func (d *db) unread(ctx context.Context) (int, error) {
	var n int
	if err := d.sql.QueryRowContext(ctx, "SELECT count(*) FROM alerts WHERE ui = 1 AND read = 0").Scan(&n); err != nil {
		return 0, fmt.Errorf("alerts: %w", err)
	}
	return n, nil
}

// markRead marks one alert read, or every alert when id is 0.
func (d *db) markRead(ctx context.Context, id int64) error {
	var err error
	if id == 0 {
		_, err = d.sql.ExecContext(ctx, "UPDATE alerts SET read = 1 WHERE read = 0")
	} else {
		var r sql.Result
		r, err = d.sql.ExecContext(ctx, "UPDATE alerts SET read = 1 WHERE id = ?", id)
		if err == nil {
			if n, _ := r.RowsAffected(); n == 0 {
				return ErrNotFound
			}
		}
	}
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	return nil
}

// ErrNotFound means no alert has the id given.
var ErrNotFound = errors.New("alerts: no such alert")
