package auth

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Store errors.
var (
	ErrNoUser     = errors.New("auth: no such user")
	ErrUserExists = errors.New("auth: user already exists")
	ErrNoSession  = errors.New("auth: no such session")
)

// User is an account.
type User struct {
	Username     string
	Role         Role
	PasswordHash string
	// MustChange is set for the factory default password and for passwords set by an
	// owner's reset: the user must choose their own before doing anything else.
	MustChange        bool
	CreatedAt         time.Time
	PasswordChangedAt time.Time
}

// String and LogValue keep the password hash out of logs.
func (u User) String() string { return "User(" + u.Username + ", " + string(u.Role) + ")" }

func (u User) LogValue() slog.Value { return slog.StringValue(u.String()) }

// SessionKind tells browser sessions from API tokens.
type SessionKind string

const (
	KindCookie SessionKind = "cookie"
	KindToken  SessionKind = "token"
)

// Session is a browser session or an API token. Only the SHA-256 of the secret is
// stored (ID); the secret itself exists only in the client.
type Session struct {
	ID        string // hex SHA-256 of the secret
	Username  string
	Kind      SessionKind
	Name      string // tokens: the name the user gave it
	CreatedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
	// AuthTime is when the user last proved their password in this session.
	AuthTime time.Time
}

// PublicID is the short id shown to users and used to revoke a session or token.
func (s Session) PublicID() string { return s.ID[:16] }

// UserStore keeps accounts.
type UserStore interface {
	CreateUser(ctx context.Context, u User) error
	User(ctx context.Context, username string) (User, error)
	Users(ctx context.Context) ([]User, error)
	SetPassword(ctx context.Context, username, hash string, mustChange bool, at time.Time) error
	DeleteUser(ctx context.Context, username string) error
}

// LockStore keeps brute-force state per user name, known or not, durably: a lock must
// survive a restart or power loss.
type LockStore interface {
	LockState(ctx context.Context, username string) (LockState, error)
	SetLockState(ctx context.Context, username string, s LockState) error
	PruneLockStates(ctx context.Context, quietSince time.Time, now time.Time) error
}

// SessionStore keeps sessions, tokens and trusted-client marks.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, id string) (Session, error)
	TouchSession(ctx context.Context, id string, lastSeen, authTime time.Time) error
	DeleteSession(ctx context.Context, username, publicID string) error
	DeleteSessions(ctx context.Context, username string) error
	Sessions(ctx context.Context, username string) ([]Session, error)
	PruneSessions(ctx context.Context, now time.Time) error
}

// TrustStore remembers clients that logged in successfully (device cookies), so their
// logins are served before unknown clients' during a guessing flood.
type TrustStore interface {
	TrustClient(ctx context.Context, id, username string, expires time.Time) error
	ClientTrusted(ctx context.Context, id, username string, now time.Time) (bool, error)
	ForgetClients(ctx context.Context, username string) error
}

// Store is everything the auth service keeps.
type Store interface {
	UserStore
	LockStore
	SessionStore
	TrustStore
}
