package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"hearth/internal/events"
)

// Attempt is one password check: who claims to be whom, from where.
type Attempt struct {
	Username string
	Password string
	Source   netip.Addr
	// DeviceCookie is the trusted-client secret the client presented, if any.
	DeviceCookie string
}

// LoginResult is a successful login.
type LoginResult struct {
	User User
	// Secret is the session secret for the cookie; DeviceCookie the trusted-client
	// secret to store in the browser.
	Secret       string
	Session      Session
	DeviceCookie string
}

// Login checks a password and opens a browser session.
//
// TS-0045 5.1.2.2: throttled per source, then per-account lockout, then the hash.
func (s *Service) Login(ctx context.Context, a Attempt) (LoginResult, error) {
	u, err := s.verify(ctx, a)
	if err != nil {
		return LoginResult{}, err
	}
	secret, sess, err := s.openSession(ctx, u.Username, KindCookie, "", s.cfg.CookieMax)
	if err != nil {
		return LoginResult{}, err
	}
	dc, err := s.trustClient(ctx, u.Username)
	if err != nil {
		return LoginResult{}, err
	}
	s.publish(ctx, events.LoginSucceeded, events.Info, u.Username, a.Source, "")
	return LoginResult{User: u, Secret: secret, Session: sess, DeviceCookie: dc}, nil
}

// verify runs the whole guarded password check. It is the only place a password is
// compared with a stored hash.
//
// Order: a trusted client (device cookie from an earlier sign-in to this account) skips
// the per-source throttle, so an owner who shares an address with an attacker is not
// turned away; everyone else spends the source's budget first. Then the account's lock
// state is checked and an evaluation slot is reserved: failures so far plus evaluations
// under way never exceed MaxFailures, so parallel guesses cannot slip past the lock, yet
// no lock is held while waiting for the hashing gate.
func (s *Service) verify(ctx context.Context, a Attempt) (User, error) {
	name := strings.ToLower(a.Username)
	trusted := s.trusted(ctx, name, a.DeviceCookie)
	if !trusted {
		if ok, wait := s.throttle.Allow(a.Source); !ok {
			return User{}, &RateLimitedError{RetryAfter: wait}
		}
		if !s.throttle.Begin(a.Source) {
			return User{}, &RateLimitedError{RetryAfter: time.Second}
		}
		defer s.throttle.End(a.Source)
	}
	if err := s.reserve(ctx, name); err != nil {
		return User{}, err
	}
	prio := PriorityTrusted
	if !trusted {
		prio = PriorityClean
		if s.throttle.Suspect(a.Source) {
			prio = PrioritySuspect
		}
	}
	ok, u, err := s.checkHash(ctx, name, a, prio)
	if err != nil {
		s.unreserve(name)
		return User{}, err
	}
	return u, s.settle(ctx, name, ok, a.Source)
}

func (s *Service) trusted(ctx context.Context, name, cookie string) bool {
	if cookie == "" || len(cookie) > 128 {
		return false
	}
	ok, err := s.store.ClientTrusted(ctx, SecretID(cookie), name, s.cfg.Now())
	return err == nil && ok
}

// reserve admits one evaluation for name, or says why not.
func (s *Service) reserve(ctx context.Context, name string) error {
	unlock, err := s.userMu.lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.store.LockState(ctx, name)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	now := s.cfg.Now()
	if locked, wait := s.cfg.Lockout.Locked(st, now); locked {
		return &LockedError{RetryAfter: wait}
	}
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	if s.cfg.Lockout.Visible(st, now).Failures+s.pending[name] >= s.cfg.Lockout.MaxFailures {
		return ErrBusy
	}
	s.pending[name]++
	return nil
}

func (s *Service) unreserve(name string) {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	if s.pending[name]--; s.pending[name] <= 0 {
		delete(s.pending, name)
	}
}

// settle records an evaluation's outcome against the account's current state.
func (s *Service) settle(ctx context.Context, name string, ok bool, src netip.Addr) error {
	ctx = context.WithoutCancel(ctx) // an outcome is recorded even if the client left
	unlock, err := s.userMu.lock(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	defer s.unreserve(name)
	st, err := s.store.LockState(ctx, name)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if !ok {
		return s.recordFailure(ctx, name, st, src)
	}
	if st != (LockState{}) {
		if err := s.store.SetLockState(ctx, name, s.cfg.Lockout.Succeeded(st)); err != nil {
			return fmt.Errorf("login: %w", err)
		}
	}
	return nil
}

// checkHash waits for a hashing slot and compares the password with the user's hash, or
// with the dummy hash when there is no such user (same cost, same answer).
func (s *Service) checkHash(ctx context.Context, name string, a Attempt, prio Priority) (bool, User, error) {
	release, err := s.gate.Acquire(ctx, prio)
	if err != nil {
		return false, User{}, err
	}
	defer release()
	u, err := s.store.User(ctx, name)
	hash := u.PasswordHash
	switch {
	case errors.Is(err, ErrNoUser) || !ValidUsername(name):
		hash = s.dummy
	case err != nil:
		return false, User{}, fmt.Errorf("login: %w", err)
	}
	ok, err := s.cfg.Hasher.Verify(hash, a.Password)
	if err != nil {
		s.cfg.Log.Error("stored password hash unusable", "user", name, "err", err)
		return false, User{}, nil
	}
	return ok && hash != s.dummy, u, nil
}

func (s *Service) recordFailure(ctx context.Context, name string, st LockState, src netip.Addr) error {
	s.throttle.Failed(src)
	next, locked := s.cfg.Lockout.Failed(st, s.cfg.Now())
	if err := s.store.SetLockState(ctx, name, next); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	s.publish(ctx, events.LoginFailed, events.Warning, name, src, fmt.Sprintf("failure %d of %d", next.Failures, s.cfg.Lockout.MaxFailures),
		strconv.Itoa(next.Failures), strconv.Itoa(s.cfg.Lockout.MaxFailures))
	if locked {
		s.publish(ctx, events.AccountLocked, events.Critical, name, src,
			fmt.Sprintf("locked until %s after %d failed logins", next.LockedUntil.UTC().Format(time.RFC3339), next.Failures),
			strconv.Itoa(next.Failures), strconv.Itoa(int(math.Ceil(s.cfg.Lockout.LockPeriod.Minutes()))))
	}
	return ErrInvalidCredentials
}

func (s *Service) openSession(ctx context.Context, username string, kind SessionKind, name string, ttl time.Duration) (string, Session, error) {
	secret, id, err := s.newSecret()
	if err != nil {
		return "", Session{}, err
	}
	now := s.cfg.Now().UTC()
	sess := Session{ID: id, Username: username, Kind: kind, Name: name, CreatedAt: now, ExpiresAt: now.Add(ttl), LastSeen: now, AuthTime: now}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", Session{}, fmt.Errorf("open session: %w", err)
	}
	return secret, sess, nil
}

func (s *Service) trustClient(ctx context.Context, username string) (string, error) {
	secret, id, err := s.newSecret()
	if err != nil {
		return "", err
	}
	if err := s.store.TrustClient(ctx, id, username, s.cfg.Now().Add(s.cfg.TrustedClientTTL)); err != nil {
		return "", fmt.Errorf("trust client: %w", err)
	}
	return secret, nil
}

// Principal is an authenticated caller.
type Principal struct {
	User    User
	Session Session
}

// Can reports whether the principal's role holds p.
func (p Principal) Can(perm Permission) bool { return Allowed(p.User.Role, perm) }

// Authenticate resolves a session cookie or bearer token secret of the given kind.
func (s *Service) Authenticate(ctx context.Context, secret string, kind SessionKind) (Principal, error) {
	if secret == "" || len(secret) > 128 {
		return Principal{}, ErrUnauthenticated
	}
	sess, err := s.store.Session(ctx, SecretID(secret))
	if errors.Is(err, ErrNoSession) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	now := s.cfg.Now()
	if sess.Kind != kind || !now.Before(sess.ExpiresAt) || (kind == KindCookie && now.Sub(sess.LastSeen) >= s.cfg.CookieIdle) {
		return Principal{}, ErrUnauthenticated
	}
	u, err := s.store.User(ctx, sess.Username)
	if errors.Is(err, ErrNoUser) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if now.Sub(sess.LastSeen) > time.Minute {
		sess.LastSeen = now.UTC()
		if err := s.store.TouchSession(ctx, sess.ID, sess.LastSeen, sess.AuthTime); err != nil {
			return Principal{}, fmt.Errorf("authenticate: %w", err)
		}
	}
	return Principal{User: u, Session: sess}, nil
}

// Logout ends the principal's current session.
func (s *Service) Logout(ctx context.Context, p Principal, src netip.Addr) error {
	if err := s.store.DeleteSession(ctx, p.User.Username, p.Session.PublicID()); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.publish(ctx, events.Logout, events.Info, p.User.Username, src, "")
	return nil
}

// Reauthenticate confirms the principal's password, opening the re-authentication window
// for security settings. A wrong password counts toward the lockout like a failed login.
func (s *Service) Reauthenticate(ctx context.Context, p Principal, password string, src netip.Addr) error {
	if _, err := s.verify(ctx, Attempt{Username: p.User.Username, Password: password, Source: src}); err != nil {
		return err
	}
	p.Session.AuthTime = s.cfg.Now().UTC()
	if err := s.store.TouchSession(ctx, p.Session.ID, p.Session.LastSeen, p.Session.AuthTime); err != nil {
		return fmt.Errorf("reauthenticate: %w", err)
	}
	return nil
}

// requireRecentAuth enforces the re-authentication window for security settings.
//
// TS-0045 5.4.2.5: changing security settings needs authentication.
func (s *Service) requireRecentAuth(p Principal) error {
	if p.Session.Kind != KindCookie || s.cfg.Now().Sub(p.Session.AuthTime) > s.cfg.ReauthWindow {
		return ErrReauthRequired
	}
	return nil
}

// ReauthUntil reports until when the principal may change security settings without
// confirming their password again.
func (s *Service) ReauthUntil(p Principal) (time.Time, bool) {
	until := p.Session.AuthTime.Add(s.cfg.ReauthWindow)
	return until, p.Session.Kind == KindCookie && s.cfg.Now().Before(until)
}
