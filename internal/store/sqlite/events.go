package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

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
	args, _ := json.Marshal(e.Args)
	if e.Args == nil {
		args = []byte("[]")
	}
	_, err := l.DB.db.ExecContext(ctx, `INSERT INTO events (time, kind, severity, username, remote, detail, args) VALUES (?,?,?,?,?,?,?)`,
		ts(e.Time), string(e.Kind), string(e.Severity), e.User, e.Remote, e.Detail, string(args))
	if err == nil {
		_, err = l.DB.db.ExecContext(ctx, `DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?`, l.DB.maxEvents)
	}
	if err != nil && l.Log != nil {
		l.Log.Error("security event not stored", "kind", string(e.Kind), "err", err)
	}
}

// Events implements events.Log.
func (l *EventLog) Events(ctx context.Context, q events.Query) ([]events.Event, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	query := `SELECT id, time, kind, severity, username, remote, detail, args FROM events`
	var args []any
	if len(q.Kinds) > 0 {
		query += ` WHERE kind IN (?` + strings.Repeat(",?", len(q.Kinds)-1) + `)`
		for _, k := range q.Kinds {
			args = append(args, string(k))
		}
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
