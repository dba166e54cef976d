package sqlite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/events"
	"hearth/internal/sensors"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	db := open(t, path)
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := db.CreateUser(ctx, auth.User{Username: "owner", Role: auth.RoleOwner, PasswordHash: "h", MustChange: true, CreatedAt: now, PasswordChangedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetLockState(ctx, "owner", auth.LockState{Failures: 5, LastFailure: now, LockedUntil: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, path)
	u, err := db.User(ctx, "owner")
	if err != nil || !u.MustChange || !u.CreatedAt.Equal(now) || u.Role != auth.RoleOwner {
		t.Fatalf("user after reopen: %+v, %v", u, err)
	}
	st, err := db.LockState(ctx, "owner")
	if err != nil || st.Failures != 5 || !st.LockedUntil.Equal(now.Add(time.Hour)) {
		t.Fatalf("lock after reopen: %+v, %v", st, err)
	}
	var mode string
	db.db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	var sync int
	db.db.QueryRow("PRAGMA synchronous").Scan(&sync)
	if mode != "wal" || sync != 2 {
		t.Fatalf("journal %s synchronous %d, want wal and FULL (2)", mode, sync)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db := open(t, path)
	db.db.Exec("PRAGMA user_version = 99")
	db.Close()
	if _, err := Open(context.Background(), path); err == nil {
		t.Fatal("a database from a newer program was opened")
	}
}

func TestStoreErrors(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "h.db"))
	u := auth.User{Username: "a", Role: auth.RoleMember, PasswordHash: "h"}
	db.CreateUser(ctx, u)
	if err := db.CreateUser(ctx, u); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := db.User(ctx, "b"); !errors.Is(err, auth.ErrNoUser) {
		t.Errorf("missing user: %v", err)
	}
	if err := db.SetPassword(ctx, "b", "h", false, time.Now()); !errors.Is(err, auth.ErrNoUser) {
		t.Errorf("set password of missing user: %v", err)
	}
	if _, err := db.Session(ctx, "nope"); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("missing session: %v", err)
	}
	if err := db.DeleteSession(ctx, "a", "0123456789abcdef"); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("delete missing session: %v", err)
	}
	if err := db.CreateUser(ctx, auth.User{Username: "x", Role: "root", PasswordHash: "h"}); err == nil {
		t.Error("unknown role stored")
	}
}

func TestDeletingUserDropsSessionsAndTrust(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "h.db"))
	now := time.Now()
	db.CreateUser(ctx, auth.User{Username: "a", Role: auth.RoleMember, PasswordHash: "h"})
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if err := db.CreateSession(ctx, auth.Session{ID: id, Username: "a", Kind: auth.KindCookie, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	db.TrustClient(ctx, "dev", "a", now.Add(time.Hour))
	if err := db.DeleteUser(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, id); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("session survived its user: %v", err)
	}
	if ok, _ := db.ClientTrusted(ctx, "dev", "a", now); ok {
		t.Fatal("trusted client survived its user")
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "h.db"))
	now := time.Now()
	db.SetLockState(ctx, "old", auth.LockState{Failures: 2, LastFailure: now.Add(-time.Hour)})
	db.SetLockState(ctx, "locked", auth.LockState{Failures: 5, LastFailure: now.Add(-time.Hour), LockedUntil: now.Add(time.Hour)})
	db.SetLockState(ctx, "recent", auth.LockState{Failures: 1, LastFailure: now})
	if err := db.PruneLockStates(ctx, now.Add(-15*time.Minute), now); err != nil {
		t.Fatal(err)
	}
	for name, kept := range map[string]bool{"old": false, "locked": true, "recent": true} {
		st, _ := db.LockState(ctx, name)
		if (st != auth.LockState{}) != kept {
			t.Errorf("%s kept=%v after prune", name, !kept)
		}
	}
}

func TestEventLogBounded(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "h.db"))
	db.maxEvents = 5
	l := &EventLog{DB: db}
	for i := 0; i < 8; i++ {
		kind := events.LoginFailed
		if i%2 == 0 {
			kind = events.LoginSucceeded
		}
		l.Publish(ctx, events.Event{Time: time.Now(), Kind: kind, Severity: events.Info, User: "u"})
	}
	all, err := l.Events(ctx, events.Query{})
	if err != nil || len(all) != 5 {
		t.Fatalf("%d events kept, want 5 (%v)", len(all), err)
	}
	if all[0].ID < all[1].ID {
		t.Fatal("events not newest first")
	}
	failed, _ := l.Events(ctx, events.Query{Kinds: []events.Kind{events.LoginFailed}})
	for _, e := range failed {
		if e.Kind != events.LoginFailed {
			t.Fatalf("filter returned %s", e.Kind)
		}
	}
}

type xorSealer struct{}

func (xorSealer) Seal(ad string, p []byte) ([]byte, error) {
	out := append([]byte(ad+"|"), p...)
	for i := range out {
		out[i] ^= 0x5a
	}
	return out, nil
}

func (xorSealer) Open(ad string, c []byte) ([]byte, error) {
	out := append([]byte(nil), c...)
	for i := range out {
		out[i] ^= 0x5a
	}
	pre := ad + "|"
	if !strings.HasPrefix(string(out), pre) {
		return nil, errors.New("wrong row")
	}
	return out[len(pre):], nil
}

// TS-0045 5.4.1.1: with a field sealer, no password hash is stored in clear.
func TestPasswordHashesSealed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	db := open(t, path)
	db.SealFields(xorSealer{})
	const hash = "$pbkdf2-sha256$i=600000$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA"
	db.CreateUser(ctx, auth.User{Username: "a", Role: auth.RoleOwner, PasswordHash: hash})
	db.CreateUser(ctx, auth.User{Username: "b", Role: auth.RoleMember, PasswordHash: hash})
	if err := db.SetPassword(ctx, "b", hash, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	u, err := db.User(ctx, "a")
	if err != nil || u.PasswordHash != hash {
		t.Fatalf("sealed hash read back as %q, %v", u.PasswordHash, err)
	}
	db.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "pbkdf2") {
		t.Fatal("a password hash is in the database file in clear")
	}
	// A sealed value moved to another row does not open.
	db.db.Exec(`UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'a') WHERE username = 'b'`)
	if _, err := db.User(ctx, "b"); err == nil {
		t.Fatal("a hash moved between rows opened")
	}
}

// TS-0045 5.4.1.1: sensor credential hashes are sealed too, bound to their sensor.
func TestSensorCredentialsSealed(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "h.db"))
	db.SealFields(xorSealer{})
	hash := []byte("0123456789abcdef0123456789abcdef")
	for _, id := range []string{"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"} {
		if err := db.CreateSensor(ctx, sensors.Stored{Sensor: sensors.Sensor{ID: id, Name: "n", Model: "HS-D1", State: sensors.Active}, CredentialHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	var raw []byte
	db.db.QueryRow(`SELECT credential FROM sensors WHERE id = 'aaaaaaaaaaaaaaaa'`).Scan(&raw)
	if bytes.Contains(raw, hash) {
		t.Fatal("credential hash stored in clear")
	}
	all, err := db.Sensors(ctx)
	if err != nil || len(all) != 2 || !bytes.Equal(all[0].CredentialHash, hash) {
		t.Fatalf("read back: %+v, %v", all, err)
	}
	db.db.Exec(`UPDATE sensors SET credential = (SELECT credential FROM sensors WHERE id = 'aaaaaaaaaaaaaaaa') WHERE id = 'bbbbbbbbbbbbbbbb'`)
	if _, err := db.Sensors(ctx); err == nil {
		t.Fatal("a credential moved between sensors opened")
	}
	if err := db.SetSensorState(ctx, "cccccccccccccccc", sensors.Quarantined); !errors.Is(err, sensors.ErrNotFound) {
		t.Fatalf("unknown sensor: %v", err)
	}
}
