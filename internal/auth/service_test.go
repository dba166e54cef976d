package auth_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/events"
	"hearth/internal/store/sqlite"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type recorder struct {
	mu sync.Mutex
	ev []events.Event
}

func (r *recorder) Publish(_ context.Context, e events.Event) {
	r.mu.Lock()
	r.ev = append(r.ev, e)
	r.mu.Unlock()
}

func (r *recorder) count(k events.Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.ev {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// labelPassword is this test run's label password, generated afresh: no credential is committed.
var labelPassword = mustGeneratePassword()

type fixture struct {
	svc   *auth.Service
	db    *sqlite.DB
	path  string
	clk   *clock
	ev    *recorder
	cfg   auth.Config
	label string
}

var fast = auth.Hasher{Iterations: auth.MinIterations}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "hearthd.db"), clk: &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}, ev: &recorder{}}
	hash, err := fast.Hash(labelPassword)
	if err != nil {
		t.Fatal(err)
	}
	f.cfg = auth.Config{Hasher: fast, Now: f.clk.Now, DefaultPasswordHash: hash, DeviceWords: []string{"HG-100"}}
	f.open(t)
	if err := f.svc.EnsureOwner(context.Background(), "owner", hash); err != nil {
		t.Fatal(err)
	}
	return f
}

// open (re)starts the service over the same database file, as a restart of hearthd does.
func (f *fixture) open(t *testing.T) {
	t.Helper()
	if f.db != nil {
		f.db.Close()
	}
	db, err := sqlite.Open(context.Background(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := auth.New(f.cfg, db, f.ev)
	if err != nil {
		t.Fatal(err)
	}
	f.db, f.svc = db, svc
}

var src = netip.MustParseAddr("192.0.2.10")

func (f *fixture) login(t *testing.T, user, pw string) (auth.LoginResult, error) {
	t.Helper()
	return f.svc.Login(context.Background(), auth.Attempt{Username: user, Password: pw, Source: src})
}

// ownerReady logs in with the label password and sets a real one.
func (f *fixture) ownerReady(t *testing.T) auth.Principal {
	p, _ := f.ownerSession(t)
	return p
}

// ownerSession is ownerReady that also returns the session secret.
func (f *fixture) ownerSession(t *testing.T) (auth.Principal, string) {
	t.Helper()
	ctx := context.Background()
	res, err := f.login(t, "owner", labelPassword)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.svc.Authenticate(ctx, res.Secret, auth.KindCookie)
	res, err = f.svc.ChangePassword(ctx, p, labelPassword, "a long garden secret", src)
	if err != nil {
		t.Fatal(err)
	}
	p, err = f.svc.Authenticate(ctx, res.Secret, auth.KindCookie)
	if err != nil {
		t.Fatal(err)
	}
	return p, res.Secret
}

// TS-0045 5.1.1.1: the default password only lets the owner replace it; it is refused as
// the new one; afterwards the old password fails and the new one works.
func TestDefaultPasswordForcedChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.login(t, "owner", labelPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !res.User.MustChange {
		t.Fatal("login with the label password did not demand a change")
	}
	p, err := f.svc.Authenticate(ctx, res.Secret, auth.KindCookie)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ChangePassword(ctx, p, labelPassword, labelPassword, src); !errors.Is(err, auth.ErrPasswordReused) && !errors.Is(err, auth.ErrPasswordTooShort) {
		t.Fatalf("label password as new password: %v", err)
	}
	if _, err := f.svc.ChangePassword(ctx, p, labelPassword, labelPassword+"-x", src); err != nil {
		t.Fatalf("a fresh password was refused: %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, res.Secret, auth.KindCookie); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("session survived the password change: %v", err)
	}
	if _, err := f.login(t, "owner", labelPassword); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("old password: %v", err)
	}
	res, err = f.login(t, "owner", labelPassword+"-x")
	if err != nil || res.User.MustChange {
		t.Fatalf("new password: %v, must change %v", err, res.User.MustChange)
	}
}

func TestLabelPasswordRefusedEvenWhenPolicyAllowsIt(t *testing.T) {
	f := newFixture(t)
	long := "correct horse battery staple"
	hash, _ := fast.Hash(long)
	f.cfg.DefaultPasswordHash = hash
	f.open(t)
	p := f.ownerReady(t)
	if _, err := f.svc.ChangePassword(context.Background(), p, "a long garden secret", long, src); !errors.Is(err, auth.ErrPasswordReused) {
		t.Fatalf("label password accepted as new password: %v", err)
	}
}

// TS-0045 5.1.2.2: 5 failures lock; the right password is then refused with a retry time;
// the lock survives a restart; it lifts after the lock period.
func TestLockoutSurvivesRestart(t *testing.T) {
	f := newFixture(t)
	f.ownerReady(t)
	for i := 0; i < 5; i++ {
		if _, err := f.login(t, "owner", "wrong guess number"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	var locked *auth.LockedError
	if _, err := f.login(t, "owner", "a long garden secret"); !errors.As(err, &locked) || locked.RetryAfter != 15*time.Minute {
		t.Fatalf("right password while locked: %v", err)
	}
	f.open(t) // restart
	f.clk.Advance(14 * time.Minute)
	if _, err := f.login(t, "owner", "a long garden secret"); !errors.As(err, &locked) {
		t.Fatalf("after restart: %v, want still locked", err)
	}
	f.clk.Advance(time.Minute)
	if _, err := f.login(t, "owner", "a long garden secret"); err != nil {
		t.Fatalf("after the lock period: %v", err)
	}
	if f.ev.count(events.AccountLocked) != 1 || f.ev.count(events.LoginFailed) != 5 {
		t.Fatalf("events: %d locks, %d failures", f.ev.count(events.AccountLocked), f.ev.count(events.LoginFailed))
	}
}

// Parallel guesses cannot slip past the lock: at most five are ever evaluated.
func TestParallelGuessesEvaluatedAtMostFiveTimes(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			a := netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})
			f.svc.Login(context.Background(), auth.Attempt{Username: "owner", Password: "guess", Source: a})
		}(i)
	}
	wg.Wait()
	if n := f.ev.count(events.LoginFailed); n != 5 {
		t.Fatalf("%d guesses evaluated, want 5", n)
	}
}

// Unknown user names answer like known ones: the same error, and a lock after 5 tries.
func TestUnknownUsersIndistinguishable(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 5; i++ {
		if _, err := f.login(t, "nobody", "whatever it is"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("unknown user: %v", err)
		}
	}
	var locked *auth.LockedError
	if _, err := f.login(t, "nobody", "whatever it is"); !errors.As(err, &locked) {
		t.Fatalf("unknown user after 5 tries: %v, want locked like a real one", err)
	}
}

// Unknown user names cost a full hash, like known ones. Samples of the two alternate, so
// a change in the machine's load affects both alike.
func TestUnknownUsersCostTheSame(t *testing.T) {
	f := newFixture(t)
	sample := func(user string, i int) time.Duration {
		a := netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1 + len(user)*10)})
		start := time.Now()
		f.svc.Login(context.Background(), auth.Attempt{Username: user, Password: "not it", Source: a})
		d := time.Since(start)
		f.clk.Advance(time.Hour) // no lock between samples
		return d
	}
	var known, unknown []time.Duration
	for i := 0; i < 11; i++ {
		known = append(known, sample("owner", i))
		unknown = append(unknown, sample("stranger", i))
	}
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	ratio := float64(median(unknown)) / float64(median(known))
	if ratio < 0.5 || ratio > 2 {
		t.Fatalf("unknown user takes %v, known %v (ratio %.2f): timing reveals accounts", median(unknown), median(known), ratio)
	}
}

func TestSourceRateLimit(t *testing.T) {
	f := newFixture(t)
	var limited *auth.RateLimitedError
	for i := 0; i < 12; i++ {
		_, err := f.svc.Login(context.Background(), auth.Attempt{Username: "user" + string(rune('a'+i)), Password: "x", Source: src})
		if errors.As(err, &limited) {
			if i < 10 {
				t.Fatalf("limited after %d attempts, want a burst of 10", i)
			}
			return
		}
	}
	t.Fatal("12 rapid attempts from one source were never limited")
}

// TS-0045 5.2.2.7, 5.4.2.5: role table and re-authentication for security settings.
func TestMembersAndReauth(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	owner, ownerSecret := f.ownerSession(t)
	temp, err := f.svc.AddUser(ctx, owner, "alice", auth.RoleMember, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddUser(ctx, owner, "alice", auth.RoleMember, src); !errors.Is(err, auth.ErrUserExists) {
		t.Fatalf("duplicate user: %v", err)
	}
	res, err := f.login(t, "alice", temp)
	if err != nil || !res.User.MustChange {
		t.Fatalf("member's first login: %v must change %v", err, res.User.MustChange)
	}
	alice, _ := f.svc.Authenticate(ctx, res.Secret, auth.KindCookie)
	if _, err := f.svc.Users(ctx, alice); !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("member listed users: %v", err)
	}
	if _, err := f.svc.AddUser(ctx, alice, "mallory", auth.RoleOwner, src); !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("member added a user: %v", err)
	}
	f.clk.Advance(11 * time.Minute)
	owner, _ = f.svc.Authenticate(ctx, ownerSecret, auth.KindCookie)
	if _, err := f.svc.ResetPassword(ctx, owner, "alice", src); !errors.Is(err, auth.ErrReauthRequired) {
		t.Fatalf("reset without recent auth: %v", err)
	}
	if err := f.svc.Reauthenticate(ctx, owner, "a long garden secret", src); err != nil {
		t.Fatal(err)
	}
	owner, _ = f.svc.Authenticate(ctx, ownerSecret, auth.KindCookie)
	temp2, err := f.svc.ResetPassword(ctx, owner, "alice", src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, res.Secret, auth.KindCookie); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatal("member's session survived the reset")
	}
	if _, err := f.login(t, "alice", temp2); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RemoveUser(ctx, owner, "owner", src); !errors.Is(err, auth.ErrSelf) {
		t.Fatalf("owner removed themself: %v", err)
	}
	if err := f.svc.RemoveUser(ctx, owner, "alice", src); err != nil {
		t.Fatal(err)
	}
	if _, err := f.login(t, "alice", temp2); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("removed user logged in: %v", err)
	}
}

func TestOwnerSeesAndLiftsLocks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	owner := f.ownerReady(t)
	temp, _ := f.svc.AddUser(ctx, owner, "bob", auth.RoleMember, src)
	for i := 0; i < 5; i++ {
		f.svc.Login(ctx, auth.Attempt{Username: "bob", Password: "nope", Source: netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})})
	}
	users, err := f.svc.Users(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	var bob auth.UserStatus
	for _, u := range users {
		if u.Username == "bob" {
			bob = u
		}
	}
	if !bob.Locked || bob.Lock.Failures != 5 {
		t.Fatalf("owner sees bob as %+v, want locked with 5 failures", bob.Lock)
	}
	if err := f.svc.Unlock(ctx, owner, "bob", src); err != nil {
		t.Fatal(err)
	}
	if _, err := f.login(t, "bob", temp); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ownerReady(t)
	res, _ := f.login(t, "owner", "a long garden secret")
	f.clk.Advance(29 * time.Minute)
	if _, err := f.svc.Authenticate(ctx, res.Secret, auth.KindCookie); err != nil {
		t.Fatalf("active session: %v", err)
	}
	f.clk.Advance(31 * time.Minute)
	if _, err := f.svc.Authenticate(ctx, res.Secret, auth.KindCookie); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatal("idle session still valid")
	}
	// Absolute lifetime: keep it busy for 12 hours.
	res, _ = f.login(t, "owner", "a long garden secret")
	for i := 0; i < 25; i++ {
		f.clk.Advance(29 * time.Minute)
		f.svc.Authenticate(ctx, res.Secret, auth.KindCookie)
	}
	if _, err := f.svc.Authenticate(ctx, res.Secret, auth.KindCookie); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatal("session outlived its absolute lifetime")
	}
}

func TestTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	owner := f.ownerReady(t)
	tok, err := f.svc.CreateToken(ctx, owner, "phone app", 30*24*time.Hour, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, tok.Secret, auth.KindToken); err != nil {
		t.Fatalf("token: %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, tok.Secret, auth.KindCookie); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatal("a token was accepted as a cookie")
	}
	tp, _ := f.svc.Authenticate(ctx, tok.Secret, auth.KindToken)
	if _, err := f.svc.AddUser(ctx, tp, "carol", auth.RoleMember, src); !errors.Is(err, auth.ErrReauthRequired) {
		t.Fatalf("token changed a security setting: %v", err)
	}
	if _, err := f.svc.CreateToken(ctx, owner, "forever", 400*24*time.Hour, src); !errors.Is(err, auth.ErrTokenLifetime) {
		t.Fatalf("token beyond the maximum: %v", err)
	}
	if err := f.svc.RevokeSession(ctx, owner, tok.PublicID(), src); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, tok.Secret, auth.KindToken); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatal("revoked token still valid")
	}
}

func TestSignOutEverywhere(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ownerReady(t)
	a, _ := f.login(t, "owner", "a long garden secret")
	b, _ := f.login(t, "owner", "a long garden secret")
	pa, _ := f.svc.Authenticate(ctx, a.Secret, auth.KindCookie)
	if err := f.svc.SignOutEverywhere(ctx, pa, src); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{a.Secret, b.Secret} {
		if _, err := f.svc.Authenticate(ctx, s, auth.KindCookie); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatal("a session survived sign-out everywhere")
		}
	}
}

func TestConfigRefusesShortLockoutUnlessInsecure(t *testing.T) {
	cfg := auth.Config{Lockout: auth.LockoutPolicy{MaxFailures: 5, LockPeriod: time.Second, ResetWindow: time.Second}}
	if err := cfg.Validate(); err == nil {
		t.Fatal("one-second lock accepted")
	}
	cfg.InsecureAllowShortLockout = true
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

// A client with a device cookie from an earlier sign-in is not turned away when its
// address has used up its attempts (an owner behind the same NAT as an attacker).
func TestTrustedClientSkipsSourceThrottle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ownerReady(t)
	res, err := f.login(t, "owner", "a long garden secret")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		f.svc.Login(ctx, auth.Attempt{Username: "intruder" + string(rune('a'+i)), Password: "x", Source: src})
	}
	var limited *auth.RateLimitedError
	if _, err := f.login(t, "owner", "a long garden secret"); !errors.As(err, &limited) {
		t.Fatalf("untrusted client from the flooded address: %v, want rate limited", err)
	}
	if _, err := f.svc.Login(ctx, auth.Attempt{Username: "owner", Password: "a long garden secret", Source: src, DeviceCookie: res.DeviceCookie}); err != nil {
		t.Fatalf("trusted client from the flooded address: %v", err)
	}
	if _, err := f.svc.Login(ctx, auth.Attempt{Username: "owner", Password: "a long garden secret", Source: src, DeviceCookie: "forged"}); !errors.As(err, &limited) {
		t.Fatalf("forged device cookie: %v, want rate limited", err)
	}
}

func mustGeneratePassword() string {
	p, err := auth.GeneratePassword(nil)
	if err != nil {
		panic(err)
	}
	return p
}
