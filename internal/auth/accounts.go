package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"hearth/internal/events"
)

// EnsureOwner creates the factory owner account on first start: username with the
// label password's hash, which must be changed before anything else. It does nothing
// when any account exists.
//
// TS-0045 5.1.1.1: the default password is accepted only to replace it.
func (s *Service) EnsureOwner(ctx context.Context, username, defaultHash string) error {
	users, err := s.store.Users(ctx)
	if err != nil {
		return fmt.Errorf("ensure owner: %w", err)
	}
	if len(users) > 0 {
		return nil
	}
	if !ValidUsername(username) {
		return ErrBadUsername
	}
	if _, err := ParseHash(defaultHash); err != nil {
		return fmt.Errorf("ensure owner: %w", err)
	}
	now := s.cfg.Now().UTC()
	return s.store.CreateUser(ctx, User{Username: username, Role: RoleOwner, PasswordHash: defaultHash, MustChange: true, CreatedAt: now, PasswordChangedAt: now})
}

// UsesLabelPassword reports whether u still signs in with the factory label password
// (as opposed to a temporary password an owner gave them).
func (s *Service) UsesLabelPassword(u User) bool {
	return s.cfg.DefaultPasswordHash != "" && u.PasswordHash == s.cfg.DefaultPasswordHash
}

// ChangePassword replaces the principal's password after checking the current one
// (a wrong current password counts toward the lockout). All the user's sessions, tokens
// and trusted clients are revoked; a fresh session for the caller is returned.
//
// TS-0045 5.1.2.1: users change their own authentication factor; the old one stops working.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string, src netip.Addr) (LoginResult, error) {
	u, err := s.verify(ctx, Attempt{Username: p.User.Username, Password: current, Source: src})
	if err != nil {
		return LoginResult{}, err
	}
	if err := s.checkNewPassword(ctx, u, next); err != nil {
		return LoginResult{}, err
	}
	hash, err := s.cfg.Hasher.Hash(next)
	if err != nil {
		return LoginResult{}, err
	}
	if err := s.store.SetPassword(ctx, u.Username, hash, false, s.cfg.Now().UTC()); err != nil {
		return LoginResult{}, fmt.Errorf("change password: %w", err)
	}
	if err := s.revokeAll(ctx, u.Username); err != nil {
		return LoginResult{}, err
	}
	s.publish(ctx, events.PasswordChanged, events.Info, u.Username, src, "")
	secret, sess, err := s.openSession(ctx, u.Username, KindCookie, "", s.cfg.CookieMax)
	if err != nil {
		return LoginResult{}, err
	}
	dc, err := s.trustClient(ctx, u.Username)
	if err != nil {
		return LoginResult{}, err
	}
	u.PasswordHash, u.MustChange = hash, false
	return LoginResult{User: u, Secret: secret, Session: sess, DeviceCookie: dc}, nil
}

// checkNewPassword applies the policy and refuses the current and the label password.
func (s *Service) checkNewPassword(ctx context.Context, u User, next string) error {
	if err := CheckPassword(next, PolicyContext{Username: u.Username, DeviceWords: s.cfg.DeviceWords}); err != nil {
		return err
	}
	for _, h := range []string{u.PasswordHash, s.cfg.DefaultPasswordHash} {
		if h == "" {
			continue
		}
		same, err := s.cfg.Hasher.Verify(h, next)
		if err != nil {
			continue
		}
		if same {
			return ErrPasswordReused
		}
	}
	return nil
}

func (s *Service) revokeAll(ctx context.Context, username string) error {
	if err := s.store.DeleteSessions(ctx, username); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	if err := s.store.ForgetClients(ctx, username); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// SignOutEverywhere ends all of the principal's sessions and tokens, this one included.
func (s *Service) SignOutEverywhere(ctx context.Context, p Principal, src netip.Addr) error {
	if err := s.store.DeleteSessions(ctx, p.User.Username); err != nil {
		return fmt.Errorf("sign out everywhere: %w", err)
	}
	s.publish(ctx, events.SessionsRevoked, events.Info, p.User.Username, src, "all sessions and tokens")
	return nil
}

// Sessions lists the principal's sessions and tokens.
func (s *Service) Sessions(ctx context.Context, p Principal) ([]Session, error) {
	return s.store.Sessions(ctx, p.User.Username)
}

// UserStatus is an account as its owner sees it.
type UserStatus struct {
	User
	Lock   LockState
	Locked bool
}

// Users lists accounts with their lock state (owner only).
func (s *Service) Users(ctx context.Context, p Principal) ([]UserStatus, error) {
	if !p.Can(PermUnlockUsers) {
		return nil, ErrForbidden
	}
	users, err := s.store.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]UserStatus, 0, len(users))
	now := s.cfg.Now()
	for _, u := range users {
		st, err := s.store.LockState(ctx, u.Username)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		st = s.cfg.Lockout.Visible(st, now)
		locked, _ := s.cfg.Lockout.Locked(st, now)
		out = append(out, UserStatus{User: u, Lock: st, Locked: locked})
	}
	return out, nil
}

// AddUser creates an account with a generated temporary password that its holder must
// change at first login. Owner only, with recent re-authentication.
func (s *Service) AddUser(ctx context.Context, p Principal, username string, role Role, src netip.Addr) (string, error) {
	if err := s.securityAction(p, PermManageUsers); err != nil {
		return "", err
	}
	if !ValidUsername(username) {
		return "", ErrBadUsername
	}
	if !role.Valid() {
		return "", fmt.Errorf("%w: %q", ErrBadRole, role)
	}
	temp, hash, err := s.temporaryPassword()
	if err != nil {
		return "", err
	}
	now := s.cfg.Now().UTC()
	if err := s.store.CreateUser(ctx, User{Username: username, Role: role, PasswordHash: hash, MustChange: true, CreatedAt: now, PasswordChangedAt: now}); err != nil {
		return "", err
	}
	s.publish(ctx, events.UserAdded, events.Info, p.User.Username, src, fmt.Sprintf("added %s as %s", username, role), username, "@role."+string(role))
	return temp, nil
}

// RemoveUser deletes an account and everything that signs it in. Owner only; an owner
// cannot remove themself, so the device always keeps an owner.
func (s *Service) RemoveUser(ctx context.Context, p Principal, username string, src netip.Addr) error {
	if err := s.securityAction(p, PermManageUsers); err != nil {
		return err
	}
	if username == p.User.Username {
		return ErrSelf
	}
	if _, err := s.store.User(ctx, username); err != nil {
		return err
	}
	if err := s.revokeAll(ctx, username); err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, username); err != nil {
		return fmt.Errorf("remove user: %w", err)
	}
	s.publish(ctx, events.UserRemoved, events.Warning, p.User.Username, src, "removed "+username, username)
	return nil
}

// ResetPassword gives another account a new temporary password, signs it out everywhere
// and lifts any lock. Owner only, with recent re-authentication.
func (s *Service) ResetPassword(ctx context.Context, p Principal, username string, src netip.Addr) (string, error) {
	if err := s.securityAction(p, PermManageUsers); err != nil {
		return "", err
	}
	if username == p.User.Username {
		return "", ErrSelf
	}
	if _, err := s.store.User(ctx, username); err != nil {
		return "", err
	}
	temp, hash, err := s.temporaryPassword()
	if err != nil {
		return "", err
	}
	if err := s.store.SetPassword(ctx, username, hash, true, s.cfg.Now().UTC()); err != nil {
		return "", fmt.Errorf("reset password: %w", err)
	}
	if err := s.revokeAll(ctx, username); err != nil {
		return "", err
	}
	if err := s.store.SetLockState(ctx, username, LockState{}); err != nil {
		return "", fmt.Errorf("reset password: %w", err)
	}
	s.publish(ctx, events.PasswordReset, events.Warning, p.User.Username, src, "reset password of "+username, username)
	return temp, nil
}

// Unlock lifts a lock on an account before its period ends. Owner only.
func (s *Service) Unlock(ctx context.Context, p Principal, username string, src netip.Addr) error {
	if !p.Can(PermUnlockUsers) {
		return ErrForbidden
	}
	if _, err := s.store.User(ctx, username); err != nil {
		return err
	}
	if err := s.store.SetLockState(ctx, username, LockState{}); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	s.publish(ctx, events.AccountUnlocked, events.Info, p.User.Username, src, "unlocked "+username, username)
	return nil
}

func (s *Service) securityAction(p Principal, perm Permission) error {
	if !p.Can(perm) {
		return ErrForbidden
	}
	return s.requireRecentAuth(p)
}

// Authorize checks that p may use perm now: the role holds it and, for operations that
// change security settings, the password was entered recently in this browser session.
// Other packages' services call it before acting for a user.
func (s *Service) Authorize(p Principal, perm Permission) error {
	if !p.Can(perm) {
		return ErrForbidden
	}
	if NeedsReauth(perm) {
		return s.requireRecentAuth(p)
	}
	return nil
}

func (s *Service) temporaryPassword() (plain, hash string, err error) {
	plain, err = GeneratePassword(s.cfg.Rand)
	if err != nil {
		return "", "", err
	}
	hash, err = s.cfg.Hasher.Hash(plain)
	return plain, hash, err
}

// ErrTokenLifetime reports a token lifetime outside (0, TokenMax].
var ErrTokenLifetime = errors.New("auth: token lifetime out of range")

// Token is a newly created API token; Secret is shown once.
type Token struct {
	Session
	Secret string
}

// CreateToken issues a bearer token for apps, valid for ttl (capped by TokenMax).
// Requires a recent password entry.
func (s *Service) CreateToken(ctx context.Context, p Principal, name string, ttl time.Duration, src netip.Addr) (Token, error) {
	if err := s.securityAction(p, PermOwnTokens); err != nil {
		return Token{}, err
	}
	if ttl <= 0 || ttl > s.cfg.TokenMax {
		return Token{}, ErrTokenLifetime
	}
	secret, sess, err := s.openSession(ctx, p.User.Username, KindToken, name, ttl)
	if err != nil {
		return Token{}, err
	}
	s.publish(ctx, events.TokenCreated, events.Info, p.User.Username, src, "token "+sess.PublicID()+" "+name, name)
	return Token{Session: sess, Secret: secret}, nil
}

// RevokeSession ends one of the principal's sessions or tokens by its public id.
func (s *Service) RevokeSession(ctx context.Context, p Principal, publicID string, src netip.Addr) error {
	if err := s.store.DeleteSession(ctx, p.User.Username, publicID); err != nil {
		if errors.Is(err, ErrNoSession) {
			return err
		}
		return fmt.Errorf("revoke: %w", err)
	}
	s.publish(ctx, events.TokenRevoked, events.Info, p.User.Username, src, "session "+publicID, publicID)
	return nil
}

// Prune drops expired sessions and stale lock states; call it periodically.
func (s *Service) Prune(ctx context.Context) error {
	now := s.cfg.Now()
	if err := s.store.PruneSessions(ctx, now); err != nil {
		return err
	}
	return s.store.PruneLockStates(ctx, now.Add(-s.cfg.Lockout.ResetWindow), now)
}
