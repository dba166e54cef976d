// Package auth holds Hearth's accounts, passwords, brute-force protection, sessions and
// roles. It is pure domain logic: storage comes in through the Store interface, the
// clock and randomness are injected, and HTTP lives in internal/api.
//
// Threat model: a network attacker who guesses passwords (one account or many, from one
// address or many), replays or steals session cookies, or tries to enumerate accounts;
// and a member who tries to exceed their role. Defences:
//
//   - passwords stored only as PBKDF2-HMAC-SHA256 hashes (password.go);
//   - at most 5 failures lock an account for a period, durably (lockout.go);
//   - per-source throttling before any hashing, and a bounded, prioritised hashing gate,
//     so floods cannot starve the CPU or the owner (throttle.go, gate.go);
//   - known and unknown user names cost the same time and look the same;
//   - sessions are random 256-bit secrets of which only a hash is stored, with idle and
//     absolute expiry, revoked on password change;
//   - the factory default password only allows choosing a new one;
//   - a role table checked on every call, and recent re-authentication for security
//     settings.
//
// A *Service is safe for concurrent use.
//
// TS-0045 5.1.1.1, 5.1.2.1, 5.1.2.2, 5.2.2.7, 5.4.2.4, 5.4.2.5.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"regexp"
	"runtime"
	"sync"
	"time"

	"hearth/internal/events"
)

// Errors callers branch on. Login failures of every kind (no such user, wrong password)
// are ErrInvalidCredentials so accounts cannot be enumerated.
var (
	ErrInvalidCredentials = errors.New("auth: invalid user name or password")
	ErrUnauthenticated    = errors.New("auth: not signed in")
	ErrForbidden          = errors.New("auth: not allowed for this role")
	ErrMustChangePassword = errors.New("auth: the password must be changed first")
	ErrReauthRequired     = errors.New("auth: confirm your password to change security settings")
	ErrLastOwner          = errors.New("auth: the last owner cannot be removed")
	ErrSelf               = errors.New("auth: use your own account settings for this")
	ErrBadRole            = errors.New("auth: unknown role")
	ErrBadUsername        = errors.New("auth: user names are 3-32 characters: a-z, 0-9, '.', '_', '-', starting with a letter")
)

// LockedError is returned while an account is locked, whatever the password.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string {
	return fmt.Sprintf("auth: account locked, retry in %s", e.RetryAfter.Round(time.Second))
}

// RateLimitedError is returned when a source has used up its login attempts.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("auth: too many attempts from this address, retry in %s", e.RetryAfter.Round(time.Second))
}

var usernameRE = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,31}$`)

// ValidUsername reports whether name is a syntactically valid user name.
func ValidUsername(name string) bool { return usernameRE.MatchString(name) }

// Config configures a Service. Zero durations take the documented defaults.
type Config struct {
	Lockout LockoutPolicy // zero means DefaultLockout
	// InsecureAllowShortLockout permits lock periods under a minute (tests only; release
	// builds refuse it at the command line).
	InsecureAllowShortLockout bool
	CookieIdle                time.Duration // 0: 30 min
	CookieMax                 time.Duration // 0: 12 h
	TokenMax                  time.Duration // 0: 365 days
	TrustedClientTTL          time.Duration // 0: 365 days
	ReauthWindow              time.Duration // 0: 10 min
	Hasher                    Hasher
	Throttle                  ThrottleConfig
	// HashSlots is how many hashes run at once (0: GOMAXPROCS); HashQueue the queue per
	// priority class (0: 32).
	HashSlots, HashQueue int
	// DefaultPasswordHash is the factory label password's hash, refused as a new password.
	DefaultPasswordHash string
	// DeviceWords (model, name, serial) may not appear in passwords.
	DeviceWords []string
	Now         func() time.Time // nil: time.Now
	Rand        io.Reader        // nil: crypto/rand
	Log         *slog.Logger     // nil: discard
}

func (c *Config) setDefaults() {
	if c.Lockout == (LockoutPolicy{}) {
		c.Lockout = DefaultLockout
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.CookieIdle, 30*time.Minute)
	def(&c.CookieMax, 12*time.Hour)
	def(&c.TokenMax, 365*24*time.Hour)
	def(&c.TrustedClientTTL, 365*24*time.Hour)
	def(&c.ReauthWindow, 10*time.Minute)
	if c.HashSlots == 0 {
		c.HashSlots = runtime.GOMAXPROCS(0)
	}
	if c.HashQueue == 0 {
		c.HashQueue = 32
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Throttle.Now == nil {
		c.Throttle.Now = c.Now
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	c.setDefaults()
	if err := c.Lockout.Validate(c.InsecureAllowShortLockout); err != nil {
		return err
	}
	if c.CookieIdle > c.CookieMax {
		return errors.New("auth: cookie idle timeout exceeds its lifetime")
	}
	return nil
}

// Service is the account service.
type Service struct {
	cfg      Config
	store    Store
	events   events.Publisher
	throttle *Throttle
	gate     *Gate
	dummy    string // a hash of nothing, verified for unknown users to equalise timing
	userMu   keyedMutex
	// pending counts evaluations under way per user name.
	pendingMu sync.Mutex
	pending   map[string]int
}

// New returns a Service over store, publishing to pub (nil: events.Discard).
func New(cfg Config, store Store, pub events.Publisher) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if pub == nil {
		pub = events.Discard
	}
	dummy, err := dummyHash(cfg.Rand, cfg.Hasher.iterations())
	if err != nil {
		return nil, err
	}
	return &Service{
		cfg: cfg, store: store, events: pub,
		throttle: NewThrottle(cfg.Throttle),
		gate:     NewGate(cfg.HashSlots, cfg.HashQueue),
		dummy:    dummy,
		userMu:   keyedMutex{m: make(map[string]*keyedEntry)},
		pending:  map[string]int{},
	}, nil
}

// dummyHash is a well-formed hash with random salt and key: verifying against it costs
// exactly as much as a real hash and never succeeds.
func dummyHash(r io.Reader, iter int) (string, error) {
	buf := make([]byte, saltLen+keyLen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	return fmt.Sprintf("%s%d$%s$%s", hashPrefix, iter, b64.EncodeToString(buf[:saltLen]), b64.EncodeToString(buf[saltLen:])), nil
}

// Lockout returns the effective lockout policy.
func (s *Service) Lockout() LockoutPolicy { return s.cfg.Lockout }

// newSecret returns a 256-bit random secret (base64url) and its storage id (hex SHA-256).
func (s *Service) newSecret() (secret, id string, err error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
		return "", "", fmt.Errorf("auth: session secret: %w", err)
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, SecretID(secret), nil
}

// SecretID is the storage id of a session, token or device-cookie secret.
func SecretID(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func (s *Service) publish(ctx context.Context, kind events.Kind, sev events.Severity, user string, src netip.Addr, detail string, args ...string) {
	e := events.Event{Time: s.cfg.Now().UTC(), Kind: kind, Severity: sev, User: user, Detail: detail, Args: args}
	if src.IsValid() {
		e.Remote = src.String()
	}
	s.events.Publish(ctx, e)
}

// keyedMutex serialises the short check-and-reserve and record steps per user name.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	ch   chan struct{}
	refs int
}

func (k *keyedMutex) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	e, ok := k.m[key]
	if !ok {
		e = &keyedEntry{ch: make(chan struct{}, 1)}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	done := func() {
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
