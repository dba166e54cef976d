package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"hearth/internal/privacy"
)

var _ privacy.ConsentStore = (*DB)(nil)

// Consents implements privacy.ConsentStore.
func (d *DB) Consents(ctx context.Context) ([]privacy.Consent, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT purpose, granted, version, time, username FROM consents ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []privacy.Consent
	for rows.Next() {
		var c privacy.Consent
		var t int64
		if err := rows.Scan(&c.Purpose, &c.Granted, &c.Version, &t, &c.By); err != nil {
			return nil, err
		}
		c.Time = fromTS(t)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddConsent implements privacy.ConsentStore.
func (d *DB) AddConsent(ctx context.Context, c privacy.Consent) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO consents(purpose, granted, version, time, username) VALUES (?,?,?,?,?)`,
		string(c.Purpose), c.Granted, c.Version, ts(c.Time), c.By)
	return err
}

// userTables are the tables holding user data, children before parents; everything
// the gateway keeps about its users and their choices. The schema version
// (user_version) is all that stays.
var userTables = []string{"trusted_clients", "sessions", "lock_states", "users", "events", "event_heads", "settings", "sensors", "consents"}

// EraseUserData deletes every row of user data in one transaction, then rewrites the
// file (VACUUM) and empties the write-ahead log, so the deleted rows leave no copy in
// free pages or in the log. The database was opened with secure_delete, so deleted
// content is overwritten with zeros as it goes.
//
// TS-0045 5.7.1.4: deleting user data is complete, not a flag.
func (d *DB) EraseUserData(ctx context.Context) error {
	// The event log starts a new chain.
	d.evMu.Lock()
	defer d.evMu.Unlock()
	d.head = nil
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	defer tx.Rollback()
	for _, t := range userTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("erase %s: %w", t, err)
		}
	}
	// AUTOINCREMENT counters would tell how many events and consents there were.
	if _, err := tx.ExecContext(ctx, "DELETE FROM sqlite_sequence"); err != nil {
		return fmt.Errorf("erase counters: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	return Compact(ctx, d.db)
}

// Compact rewrites a database file without free pages and truncates its write-ahead
// log to zero bytes.
func Compact(ctx context.Context, db interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}) error {
	if _, err := db.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
