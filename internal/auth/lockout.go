package auth

import (
	"errors"
	"time"
)

// LockoutPolicy is the brute-force protection of every password login (web form, REST
// API, and later MQTT): a fixed number of failures locks the account for LockPeriod, and
// the failure counter returns to zero only after ResetWindow has passed without a failure.
//
// TS-0045 5.1.2.2 (EN 303 645 5.1-5):
//
//	(a) at most 5 failed attempts lock the account   -> MaxFailures (<= 5)
//	(b) the lock holds for a set time                 -> LockPeriod
//	(c) the counter resets only after a set time      -> ResetWindow
//
// When ResetWindow is longer than LockPeriod, the counter survives the end of a lock, so
// one more failure after the lock locks again at once.
type LockoutPolicy struct {
	MaxFailures int
	LockPeriod  time.Duration
	ResetWindow time.Duration
}

// DefaultLockout: 5 failures, locked 15 minutes, counter reset after 15 quiet minutes.
var DefaultLockout = LockoutPolicy{MaxFailures: 5, LockPeriod: 15 * time.Minute, ResetWindow: 15 * time.Minute}

// MinLockPeriod is the shortest lock a release build accepts.
const MinLockPeriod = time.Minute

// Validate checks the policy against the standard. allowShort permits periods below
// MinLockPeriod (tests only; refused by release builds).
func (p LockoutPolicy) Validate(allowShort bool) error {
	switch {
	case p.MaxFailures < 1 || p.MaxFailures > 5:
		return errors.New("lockout: max failures must be between 1 and 5")
	case p.LockPeriod <= 0 || p.ResetWindow <= 0:
		return errors.New("lockout: lock period and reset window must be positive")
	case !allowShort && (p.LockPeriod < MinLockPeriod || p.ResetWindow < MinLockPeriod):
		return errors.New("lockout: lock period and reset window must be at least one minute")
	}
	return nil
}

// LockState is the persisted brute-force state of one user name. The zero value is a
// user with no recent failures.
type LockState struct {
	Failures    int
	LastFailure time.Time
	LockedUntil time.Time
}

// Locked reports whether the state is locked at now, and for how much longer.
func (p LockoutPolicy) Locked(s LockState, now time.Time) (bool, time.Duration) {
	if now.Before(s.LockedUntil) {
		return true, s.LockedUntil.Sub(now)
	}
	return false, 0
}

// current returns s with the counter reset if ResetWindow has passed since the last
// failure.
func (p LockoutPolicy) current(s LockState, now time.Time) LockState {
	if s.Failures > 0 && now.Sub(s.LastFailure) >= p.ResetWindow {
		s.Failures = 0
	}
	return s
}

// Failed records a failed attempt at now and returns the new state and whether this
// failure locked the account.
func (p LockoutPolicy) Failed(s LockState, now time.Time) (LockState, bool) {
	s = p.current(s, now)
	s.Failures++
	s.LastFailure = now
	if s.Failures >= p.MaxFailures {
		s.LockedUntil = now.Add(p.LockPeriod)
		return s, true
	}
	return s, false
}

// Succeeded returns the state after a successful login: no failures, no lock.
func (p LockoutPolicy) Succeeded(LockState) LockState { return LockState{} }

// Visible returns the state as an owner should see it at now (counter reset applied).
func (p LockoutPolicy) Visible(s LockState, now time.Time) LockState { return p.current(s, now) }
