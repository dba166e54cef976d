package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"hearth/internal/auth"
)

var _ auth.Store = (*DB)(nil)

// sealedPrefix marks a password hash sealed by the field sealer.
const sealedPrefix = "sealed:v1:"

func (d *DB) sealHash(username, hash string) (string, error) {
	if d.fields == nil {
		return hash, nil
	}
	ct, err := d.fields.Seal("users.password_hash:"+username, []byte(hash))
	if err != nil {
		return "", fmt.Errorf("seal password hash: %w", err)
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(ct), nil
}

func (d *DB) openHash(username, stored string) (string, error) {
	rest, sealed := strings.CutPrefix(stored, sealedPrefix)
	if !sealed {
		return stored, nil
	}
	if d.fields == nil {
		return "", fmt.Errorf("password hash of %s is sealed and no keystore is open", username)
	}
	ct, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("password hash of %s: %w", username, err)
	}
	plain, err := d.fields.Open("users.password_hash:"+username, ct)
	if err != nil {
		return "", fmt.Errorf("password hash of %s: %w", username, err)
	}
	return string(plain), nil
}

// CreateUser implements auth.UserStore.
func (d *DB) CreateUser(ctx context.Context, u auth.User) error {
	hash, err := d.sealHash(u.Username, u.PasswordHash)
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO users VALUES (?,?,?,?,?,?)`,
		u.Username, string(u.Role), hash, u.MustChange, ts(u.CreatedAt), ts(u.PasswordChangedAt))
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint") {
		return auth.ErrUserExists
	}
	return err
}

const userCols = `username, role, password_hash, must_change, created_at, password_changed_at`

func (d *DB) scanUser(row interface{ Scan(...any) error }) (auth.User, error) {
	var u auth.User
	var role, stored string
	var created, changed int64
	if err := row.Scan(&u.Username, &role, &stored, &u.MustChange, &created, &changed); err != nil {
		return auth.User{}, err
	}
	hash, err := d.openHash(u.Username, stored)
	if err != nil {
		return auth.User{}, err
	}
	u.PasswordHash = hash
	u.Role, u.CreatedAt, u.PasswordChangedAt = auth.Role(role), fromTS(created), fromTS(changed)
	return u, nil
}

// User implements auth.UserStore.
func (d *DB) User(ctx context.Context, username string) (auth.User, error) {
	u, err := d.scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, username))
	return u, notFound(err, auth.ErrNoUser)
}

// Users implements auth.UserStore.
func (d *DB) Users(ctx context.Context) ([]auth.User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.User
	for rows.Next() {
		u, err := d.scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetPassword implements auth.UserStore.
func (d *DB) SetPassword(ctx context.Context, username, hash string, mustChange bool, at time.Time) error {
	stored, err := d.sealHash(username, hash)
	if err != nil {
		return err
	}
	return d.exactlyOne(d.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change = ?, password_changed_at = ? WHERE username = ?`,
		stored, mustChange, ts(at), username))
}

// DeleteUser implements auth.UserStore. Sessions and trusted clients go with the user.
func (d *DB) DeleteUser(ctx context.Context, username string) error {
	return d.exactlyOne(d.db.ExecContext(ctx, `DELETE FROM users WHERE username = ?`, username))
}

func (d *DB) exactlyOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return auth.ErrNoUser
	}
	return nil
}

// LockState implements auth.LockStore.
func (d *DB) LockState(ctx context.Context, username string) (auth.LockState, error) {
	var f int
	var last, until int64
	err := d.db.QueryRowContext(ctx, `SELECT failures, last_failure, locked_until FROM lock_states WHERE username = ?`, username).Scan(&f, &last, &until)
	if err == sql.ErrNoRows {
		return auth.LockState{}, nil
	}
	if err != nil {
		return auth.LockState{}, fmt.Errorf("lock state: %w", err)
	}
	return auth.LockState{Failures: f, LastFailure: fromTS(last), LockedUntil: fromTS(until)}, nil
}

// SetLockState implements auth.LockStore. The zero state deletes the row.
func (d *DB) SetLockState(ctx context.Context, username string, s auth.LockState) error {
	if s == (auth.LockState{}) {
		_, err := d.db.ExecContext(ctx, `DELETE FROM lock_states WHERE username = ?`, username)
		return err
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO lock_states VALUES (?,?,?,?)
		ON CONFLICT(username) DO UPDATE SET failures = excluded.failures, last_failure = excluded.last_failure, locked_until = excluded.locked_until`,
		username, s.Failures, ts(s.LastFailure), ts(s.LockedUntil))
	return err
}

// PruneLockStates implements auth.LockStore: it drops states whose last failure is older
// than quietSince and that are not locked at now.
func (d *DB) PruneLockStates(ctx context.Context, quietSince, now time.Time) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM lock_states WHERE last_failure < ? AND locked_until <= ?`, ts(quietSince), ts(now))
	return err
}

// CreateSession implements auth.SessionStore.
func (d *DB) CreateSession(ctx context.Context, s auth.Session) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?,?)`,
		s.ID, s.PublicID(), s.Username, string(s.Kind), s.Name, ts(s.CreatedAt), ts(s.ExpiresAt), ts(s.LastSeen), ts(s.AuthTime))
	return err
}

const sessionCols = `id, username, kind, name, created_at, expires_at, last_seen, auth_time`

func scanSession(row interface{ Scan(...any) error }) (auth.Session, error) {
	var s auth.Session
	var kind string
	var c, e, l, a int64
	if err := row.Scan(&s.ID, &s.Username, &kind, &s.Name, &c, &e, &l, &a); err != nil {
		return auth.Session{}, err
	}
	s.Kind, s.CreatedAt, s.ExpiresAt, s.LastSeen, s.AuthTime = auth.SessionKind(kind), fromTS(c), fromTS(e), fromTS(l), fromTS(a)
	return s, nil
}

// Session implements auth.SessionStore.
func (d *DB) Session(ctx context.Context, id string) (auth.Session, error) {
	s, err := scanSession(d.db.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
	return s, notFound(err, auth.ErrNoSession)
}

// TouchSession implements auth.SessionStore.
func (d *DB) TouchSession(ctx context.Context, id string, lastSeen, authTime time.Time) error {
	_, err := d.db.ExecContext(ctx, `UPDATE sessions SET last_seen = ?, auth_time = ? WHERE id = ?`, ts(lastSeen), ts(authTime), id)
	return err
}

// DeleteSession implements auth.SessionStore.
func (d *DB) DeleteSession(ctx context.Context, username, publicID string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE username = ? AND public_id = ?`, username, publicID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return auth.ErrNoSession
	}
	return nil
}

// DeleteSessions implements auth.SessionStore.
func (d *DB) DeleteSessions(ctx context.Context, username string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE username = ?`, username)
	return err
}

// Sessions implements auth.SessionStore.
func (d *DB) Sessions(ctx context.Context, username string) ([]auth.Session, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE username = ? ORDER BY created_at`, username)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auth.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// PruneSessions implements auth.SessionStore.
func (d *DB) PruneSessions(ctx context.Context, now time.Time) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ts(now)); err != nil {
		return err
	}
	_, err := d.db.ExecContext(ctx, `DELETE FROM trusted_clients WHERE expires_at <= ?`, ts(now))
	return err
}

// TrustClient implements auth.TrustStore.
func (d *DB) TrustClient(ctx context.Context, id, username string, expires time.Time) error {
	_, err := d.db.ExecContext(ctx, `INSERT OR REPLACE INTO trusted_clients VALUES (?,?,?)`, id, username, ts(expires))
	return err
}

// ClientTrusted implements auth.TrustStore.
func (d *DB) ClientTrusted(ctx context.Context, id, username string, now time.Time) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM trusted_clients WHERE id = ? AND username = ? AND expires_at > ?`, id, username, ts(now)).Scan(&n)
	return n > 0, err
}

// ForgetClients implements auth.TrustStore.
func (d *DB) ForgetClients(ctx context.Context, username string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM trusted_clients WHERE username = ?`, username)
	return err
}
