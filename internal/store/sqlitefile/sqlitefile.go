// Package sqlitefile opens the gateway's SQLite files (hearthd.db, readings.db,
// outbox.db) under one durability policy and brings their schemas up to date.
//
// Durability: WAL with synchronous=FULL. Every commit is fsynced before it returns, so
// what a caller was told is stored survives power loss, and a commit torn by power loss
// fails the WAL frame checksums and is discarded on the next open without touching
// earlier ones. synchronous=NORMAL would survive a crash of the process but could lose
// the last commits on power loss.
//
// TS-0045 5.6.1.1: stored state survives power loss and is never left corrupt.
package sqlitefile

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Open opens (creating if needed) the database at path with WAL, synchronous=FULL and
// the further pragmas given, such as "busy_timeout(5000)".
func Open(path string, pragmas ...string) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range append([]string{"journal_mode(WAL)", "synchronous(FULL)"}, pragmas...) {
		q.Add("_pragma", p)
	}
	return sql.Open("sqlite", "file:"+path+"?"+q.Encode())
}

// Migrate applies the migrations the database has not had yet, each in one transaction
// with the schema version (PRAGMA user_version) it reaches. A database newer than the
// migrations is refused.
func Migrate(ctx context.Context, db *sql.DB, migrations []string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var v int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema %d is newer than this program (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]+fmt.Sprintf("; PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to %d: %w", i+1, err)
		}
	}
	return nil
}
