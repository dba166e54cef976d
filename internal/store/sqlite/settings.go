package sqlite

import (
	"context"
	"fmt"

	"hearth/internal/settings"
)

var _ settings.Store = (*DB)(nil)

// Settings implements settings.Store.
func (d *DB) Settings(ctx context.Context) (map[string]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT key, value FROM settings`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// SetSettings implements settings.Store: all values change in one transaction.
func (d *DB) SetSettings(ctx context.Context, values map[string]string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for k, v := range values {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return tx.Commit()
}
