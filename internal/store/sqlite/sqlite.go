// Package sqlite is Hearth's embedded database: one SQLite file in the gateway's data
// directory, through the pure-Go modernc.org/sqlite driver.
//
// Durability: WAL journal with synchronous=FULL, so every committed transaction (a lock
// after the fifth failed login, a password change) is on disk before the call returns
// and survives power loss; WAL keeps readers from blocking the writer. One connection
// serialises access, which is ample for a home gateway and removes SQLITE_BUSY.
//
// TS-0045 5.6.1.1: state survives power loss.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"hearth/internal/store/sqlitefile"
)

// DB is an open database. It is safe for concurrent use.
type DB struct {
	db *sql.DB
	// maxEvents bounds the security event log.
	maxEvents int
	// fields, when set, seals password hashes before they are written.
	fields FieldSealer
	// evMu serialises appends to the event log's hash chain; head is the last entry's
	// hash (nil: not loaded yet).
	evMu sync.Mutex
	head []byte
}

// FieldSealer seals values bound to an associated-data string (keystore.FieldSealer).
type FieldSealer interface {
	Seal(ad string, plain []byte) ([]byte, error)
	Open(ad string, sealed []byte) ([]byte, error)
}

// SealFields makes the database store password hashes sealed by f: a copy of the
// database file, without the device's keystore, holds no verifier to attack offline.
// Hashes written before are resealed on their next change and read as they are until then.
//
// TS-0045 5.4.1.1: sensitive security parameters in persistent storage are encrypted.
func (d *DB) SealFields(f FieldSealer) { d.fields = f }

// Open opens (creating if needed) the database at path and brings its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	db, err := sqlitefile.Open(path, "foreign_keys(1)", "busy_timeout(5000)", "secure_delete(1)")
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	d := &DB{db: db, maxEvents: 10_000}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// migrations are applied in order; PRAGMA user_version records how many ran.
var migrations = []string{
	`CREATE TABLE users (
		username TEXT PRIMARY KEY,
		role TEXT NOT NULL CHECK (role IN ('owner','member')),
		password_hash TEXT NOT NULL,
		must_change INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		password_changed_at INTEGER NOT NULL
	);
	CREATE TABLE lock_states (
		username TEXT PRIMARY KEY,
		failures INTEGER NOT NULL,
		last_failure INTEGER NOT NULL,
		locked_until INTEGER NOT NULL
	);
	CREATE TABLE sessions (
		id TEXT PRIMARY KEY,
		public_id TEXT NOT NULL,
		username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
		kind TEXT NOT NULL CHECK (kind IN ('cookie','token')),
		name TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		auth_time INTEGER NOT NULL
	);
	CREATE INDEX sessions_user ON sessions(username, public_id);
	CREATE TABLE trusted_clients (
		id TEXT PRIMARY KEY,
		username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
		expires_at INTEGER NOT NULL
	);
	CREATE INDEX trusted_clients_user ON trusted_clients(username);
	CREATE TABLE events (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		time INTEGER NOT NULL,
		kind TEXT NOT NULL,
		severity TEXT NOT NULL,
		username TEXT NOT NULL,
		remote TEXT NOT NULL,
		detail TEXT NOT NULL
	);`,
	`CREATE TABLE settings (
		key TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);`,
	`ALTER TABLE events ADD COLUMN args TEXT NOT NULL DEFAULT '[]';`,
	`CREATE TABLE sensors (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		model TEXT NOT NULL,
		state TEXT NOT NULL CHECK (state IN ('active','quarantined','retired')),
		credential BLOB NOT NULL,
		sealed INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		created_by TEXT NOT NULL,
		replaces TEXT NOT NULL DEFAULT '',
		replaced_by TEXT NOT NULL DEFAULT ''
	);`,
	`CREATE TABLE consents (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		purpose TEXT NOT NULL,
		granted INTEGER NOT NULL,
		version TEXT NOT NULL,
		time INTEGER NOT NULL,
		username TEXT NOT NULL
	);`,
	// The event log's hash chain: each entry's hash and the hash before it (kept for
	// the first entry left after the oldest were pruned), and the heads the device
	// signed. Entries from before this version are chained once, at the next open.
	`ALTER TABLE events ADD COLUMN prev BLOB NOT NULL DEFAULT x'';
	ALTER TABLE events ADD COLUMN hash BLOB NOT NULL DEFAULT x'';
	CREATE TABLE event_heads (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		first_id INTEGER NOT NULL,
		first_prev BLOB NOT NULL,
		last_id INTEGER NOT NULL,
		last_hash BLOB NOT NULL,
		count INTEGER NOT NULL,
		time INTEGER NOT NULL,
		signature TEXT NOT NULL
	);`,
}

func (d *DB) migrate(ctx context.Context) error {
	if err := sqlitefile.Migrate(ctx, d.db, migrations); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return d.chainUnchained(ctx)
}

// Times are stored as Unix nanoseconds (UTC); zero time is 0.
func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromTS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func notFound(err, sentinel error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return sentinel
	}
	return err
}
