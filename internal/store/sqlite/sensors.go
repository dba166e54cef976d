package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"hearth/internal/sensors"
)

var _ sensors.Store = (*DB)(nil)

// sealCredential seals a sensor's credential hash bound to its ID, like password hashes:
// a copy of the database without the keystore holds nothing a sensor could log in with
// or be impersonated from.
//
// TS-0045 5.4.1.1: sensor credentials at rest are protected.
func (d *DB) sealCredential(id string, hash []byte) ([]byte, bool, error) {
	if d.fields == nil {
		return hash, false, nil
	}
	ct, err := d.fields.Seal("sensors.credential:"+id, hash)
	if err != nil {
		return nil, false, fmt.Errorf("seal sensor credential: %w", err)
	}
	return ct, true, nil
}

// Sensors implements sensors.Store.
func (d *DB) Sensors(ctx context.Context) ([]sensors.Stored, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id, name, model, state, credential, sealed, created_at, created_by, replaces, replaced_by FROM sensors`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sensors.Stored
	for rows.Next() {
		var s sensors.Stored
		var state string
		var sealed bool
		var created int64
		if err := rows.Scan(&s.ID, &s.Name, &s.Model, &state, &s.CredentialHash, &sealed, &created, &s.CreatedBy, &s.Replaces, &s.ReplacedBy); err != nil {
			return nil, err
		}
		s.State, s.CreatedAt = sensors.State(state), fromTS(created)
		if sealed {
			if d.fields == nil {
				return nil, fmt.Errorf("credential of sensor %s is sealed and no keystore is open", s.ID)
			}
			if s.CredentialHash, err = d.fields.Open("sensors.credential:"+s.ID, s.CredentialHash); err != nil {
				return nil, fmt.Errorf("credential of sensor %s: %w", s.ID, err)
			}
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (d *DB) insertSensor(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, s sensors.Stored) error {
	cred, sealed, err := d.sealCredential(s.ID, s.CredentialHash)
	if err != nil {
		return err
	}
	_, err = ex.ExecContext(ctx, `INSERT INTO sensors (id, name, model, state, credential, sealed, created_at, created_by, replaces, replaced_by) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		s.ID, s.Name, s.Model, string(s.State), cred, sealed, ts(s.CreatedAt), s.CreatedBy, s.Replaces, s.ReplacedBy)
	return err
}

// CreateSensor implements sensors.Store.
func (d *DB) CreateSensor(ctx context.Context, s sensors.Stored) error {
	return d.insertSensor(ctx, d.db, s)
}

// SetSensorState implements sensors.Store.
func (d *DB) SetSensorState(ctx context.Context, id string, st sensors.State) error {
	return sensorRow(d.db.ExecContext(ctx, `UPDATE sensors SET state = ? WHERE id = ?`, string(st), id))
}

// ReplaceSensor implements sensors.Store: the old sensor is retired and its credential
// erased in the same transaction that creates the replacement.
func (d *DB) ReplaceSensor(ctx context.Context, old string, next sensors.Stored) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := sensorRow(tx.ExecContext(ctx, `UPDATE sensors SET state = 'retired', replaced_by = ?, credential = x'', sealed = 0 WHERE id = ?`, next.ID, old)); err != nil {
		return err
	}
	if err := d.insertSensor(ctx, tx, next); err != nil {
		return err
	}
	return tx.Commit()
}

// DeleteSensor implements sensors.Store.
func (d *DB) DeleteSensor(ctx context.Context, id string) error {
	return sensorRow(d.db.ExecContext(ctx, `DELETE FROM sensors WHERE id = ?`, id))
}

func sensorRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return sensors.ErrNotFound
	}
	return nil
}
