package sqlite

import (
	"context"
	"crypto"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"hearth/internal/events"
)

var _ events.Log = (*EventLog)(nil)

// EventLog is the security event log kept in the database, bounded to the newest
// maxEvents entries.
type EventLog struct {
	DB  *DB
	Log *slog.Logger // where write errors and every event are also reported; nil: none
}

// Publish implements events.Publisher. A failed write is logged, never returned: an event
// must not fail the operation that raised it.
func (l *EventLog) Publish(ctx context.Context, e events.Event) {
	if l.Log != nil {
		l.Log.LogAttrs(ctx, slog.LevelInfo, "security event", slog.String("kind", string(e.Kind)),
			slog.String("severity", string(e.Severity)), slog.String("user", e.User),
			slog.String("remote", e.Remote), slog.String("detail", e.Detail))
	}
	ctx = context.WithoutCancel(ctx)
	if err := l.DB.appendEvent(ctx, e); err != nil && l.Log != nil {
		l.Log.Error("security event not stored", "kind", string(e.Kind), "err", err)
	}
}

// appendEvent stores e as the next entry of the hash chain and prunes the oldest
// entries beyond maxEvents, in one transaction.
func (d *DB) appendEvent(ctx context.Context, e events.Event) error {
	args, _ := json.Marshal(e.Args)
	if e.Args == nil {
		args = []byte("[]")
	}
	d.evMu.Lock()
	defer d.evMu.Unlock()
	prev, err := d.chainHead(ctx)
	if err != nil {
		return err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO events (time, kind, severity, username, remote, detail, args, prev) VALUES (?,?,?,?,?,?,?,?)`,
		ts(e.Time), string(e.Kind), string(e.Severity), e.User, e.Remote, e.Detail, string(args), prev)
	if err != nil {
		return err
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	e.Time = fromTS(ts(e.Time)) // as stored
	hash := events.ChainHash(prev, e)
	if _, err := tx.ExecContext(ctx, `UPDATE events SET hash = ? WHERE id = ?`, hash, e.ID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id <= ? - ?`, e.ID, d.maxEvents); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	d.head = hash
	return nil
}

// chainHead returns the last entry's hash (zeros for an empty log), loading it once.
// Called with evMu held.
func (d *DB) chainHead(ctx context.Context) ([]byte, error) {
	if d.head != nil {
		return d.head, nil
	}
	var h []byte
	err := d.db.QueryRowContext(ctx, `SELECT hash FROM events ORDER BY id DESC LIMIT 1`).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) || err == nil && len(h) == 0 {
		h = make([]byte, events.HashSize)
	} else if err != nil {
		return nil, err
	}
	d.head = h
	return h, nil
}

// chainUnchained gives the entries stored before the log was chained their hashes, in
// order, once.
func (d *DB) chainUnchained(ctx context.Context) error {
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE length(hash) = 0`).Scan(&n); err != nil || n == 0 {
		return err
	}
	all, err := d.readEntries(ctx, 0, 1<<62)
	if err != nil {
		return err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	prev := make([]byte, events.HashSize)
	for _, en := range all {
		h := events.ChainHash(prev, en.Event)
		if _, err := tx.ExecContext(ctx, `UPDATE events SET prev = ?, hash = ? WHERE id = ?`, prev, h, en.ID); err != nil {
			return err
		}
		prev = h
	}
	return tx.Commit()
}

// storedEntry is an event with its chain hashes as stored.
type storedEntry struct {
	events.Event
	prev, hash []byte
}

// readEntries returns the entries with from <= id <= to, oldest first.
func (d *DB) readEntries(ctx context.Context, from, to int64) ([]storedEntry, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, time, kind, severity, username, remote, detail, args, prev, hash FROM events
		WHERE id >= ? AND id <= ? ORDER BY id`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedEntry
	for rows.Next() {
		var en storedEntry
		var t int64
		var kind, sev, args string
		if err := rows.Scan(&en.ID, &t, &kind, &sev, &en.User, &en.Remote, &en.Detail, &args, &en.prev, &en.hash); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(args), &en.Args); err != nil {
			return nil, fmt.Errorf("event %d: args: %w", en.ID, err)
		}
		en.Time, en.Kind, en.Severity = fromTS(t), events.Kind(kind), events.Severity(sev)
		out = append(out, en)
	}
	return out, rows.Err()
}

// SignHead signs the chain's current head with key and keeps it: a later export shows
// the entries the device vouched for then. Nothing is signed for an empty log or a
// head already signed.
func (l *EventLog) SignHead(ctx context.Context, key crypto.Signer, now time.Time) error {
	d := l.DB
	d.evMu.Lock()
	defer d.evMu.Unlock()
	h, err := d.currentHead(ctx, now)
	if err != nil || h.Count == 0 {
		return err
	}
	var last int64
	err = d.db.QueryRowContext(ctx, `SELECT coalesce(max(last_id), 0) FROM event_heads`).Scan(&last)
	if err != nil || last == h.LastID {
		return err
	}
	if err := h.Sign(key); err != nil {
		return err
	}
	fp, _ := hex.DecodeString(h.FirstPrev)
	lh, _ := hex.DecodeString(h.LastHash)
	_, err = d.db.ExecContext(ctx, `INSERT INTO event_heads (first_id, first_prev, last_id, last_hash, count, time, signature) VALUES (?,?,?,?,?,?,?)`,
		h.FirstID, fp, h.LastID, lh, h.Count, ts(h.Time), h.Signature)
	return err
}

// currentHead describes the stored chain (unsigned). Called with evMu held.
func (d *DB) currentHead(ctx context.Context, now time.Time) (events.Head, error) {
	h := events.Head{Time: now.UTC()}
	var first, last sql.NullInt64
	if err := d.db.QueryRowContext(ctx, `SELECT min(id), max(id), count(*) FROM events`).Scan(&first, &last, &h.Count); err != nil {
		return h, err
	}
	if h.Count == 0 {
		h.FirstPrev, h.LastHash = hex.EncodeToString(make([]byte, events.HashSize)), hex.EncodeToString(make([]byte, events.HashSize))
		return h, nil
	}
	var fp, lh []byte
	if err := d.db.QueryRowContext(ctx, `SELECT prev FROM events WHERE id = ?`, first.Int64).Scan(&fp); err != nil {
		return h, err
	}
	if err := d.db.QueryRowContext(ctx, `SELECT hash FROM events WHERE id = ?`, last.Int64).Scan(&lh); err != nil {
		return h, err
	}
	h.FirstID, h.LastID, h.FirstPrev, h.LastHash = first.Int64, last.Int64, hex.EncodeToString(fp), hex.EncodeToString(lh)
	return h, nil
}

// Export returns the whole log, with the heads signed while it was kept and a final
// head signed now by key, for offline verification (events.Verify).
func (l *EventLog) Export(ctx context.Context, key crypto.Signer, serial string, certs []*x509.Certificate, now time.Time) (events.Export, error) {
	d := l.DB
	d.evMu.Lock()
	defer d.evMu.Unlock()
	x := events.Export{Format: events.ExportFormat, Serial: serial, Certificates: events.EncodeCertificates(certs), Entries: []events.Entry{}}
	h, err := d.currentHead(ctx, now)
	if err != nil {
		return x, err
	}
	all, err := d.readEntries(ctx, h.FirstID, h.LastID)
	if err != nil {
		return x, err
	}
	for _, en := range all {
		x.Entries = append(x.Entries, events.Entry{Event: en.Event, Prev: hex.EncodeToString(en.prev), Hash: hex.EncodeToString(en.hash)})
	}
	h.Count = int64(len(all))
	if err := h.Sign(key); err != nil {
		return x, err
	}
	x.Final = h
	rows, err := d.db.QueryContext(ctx, `SELECT first_id, first_prev, last_id, last_hash, count, time, signature FROM event_heads WHERE last_id >= ? ORDER BY id`, h.FirstID)
	if err != nil {
		return x, err
	}
	defer rows.Close()
	for rows.Next() {
		var sh events.Head
		var fp, lh []byte
		var t int64
		if err := rows.Scan(&sh.FirstID, &fp, &sh.LastID, &lh, &sh.Count, &t, &sh.Signature); err != nil {
			return x, err
		}
		sh.FirstPrev, sh.LastHash, sh.Time = hex.EncodeToString(fp), hex.EncodeToString(lh), fromTS(t)
		x.Heads = append(x.Heads, sh)
	}
	return x, rows.Err()
}

// Events implements events.Log.
func (l *EventLog) Events(ctx context.Context, q events.Query) ([]events.Event, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	query := `SELECT id, time, kind, severity, username, remote, detail, args FROM events WHERE 1=1`
	var args []any
	if len(q.Kinds) > 0 {
		query += ` AND kind IN (?` + strings.Repeat(",?", len(q.Kinds)-1) + `)`
		for _, k := range q.Kinds {
			args = append(args, string(k))
		}
	}
	if len(q.Severities) > 0 {
		query += ` AND severity IN (?` + strings.Repeat(",?", len(q.Severities)-1) + `)`
		for _, s := range q.Severities {
			args = append(args, string(s))
		}
	}
	if !q.From.IsZero() {
		query += ` AND time >= ?`
		args = append(args, ts(q.From))
	}
	if !q.To.IsZero() {
		query += ` AND time < ?`
		args = append(args, ts(q.To))
	}
	if q.Before > 0 {
		query += ` AND id < ?`
		args = append(args, q.Before)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := l.DB.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []events.Event
	for rows.Next() {
		var e events.Event
		var t int64
		var kind, sev, args string
		if err := rows.Scan(&e.ID, &t, &kind, &sev, &e.User, &e.Remote, &e.Detail, &args); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(args), &e.Args); err != nil {
			return nil, fmt.Errorf("event %d: args: %w", e.ID, err)
		}
		e.Time, e.Kind, e.Severity = fromTS(t), events.Kind(kind), events.Severity(sev)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Counts returns how many events of each kind happened at or after from.
func (l *EventLog) Counts(ctx context.Context, from time.Time) (map[events.Kind]int, error) {
	rows, err := l.DB.db.QueryContext(ctx, `SELECT kind, count(*) FROM events WHERE time >= ? GROUP BY kind`, ts(from))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[events.Kind]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[events.Kind(k)] = n
	}
	return out, rows.Err()
}
