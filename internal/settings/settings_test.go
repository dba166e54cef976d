package settings_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/events"
	"hearth/internal/settings"
	"hearth/internal/store/sqlite"
)

type authz struct{ err error }

func (a authz) Authorize(auth.Principal, auth.Permission) error { return a.err }

type rec struct{ ev []events.Event }

func (r *rec) Publish(_ context.Context, e events.Event) { r.ev = append(r.ev, e) }

func newService(t *testing.T, a authz) (*settings.Service, *rec) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &rec{}
	return settings.New(db, a, r, func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }), r
}

// TS-0045 5.2.1.4, 5.3.1.6, 5.7.1.9: secure defaults before anyone touches a setting.
func TestSecureDefaults(t *testing.T) {
	s, _ := newService(t, authz{})
	st, err := s.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Values[settings.AutoUpdate] || !st.Values[settings.UpdateNotifications] || st.SetupCompleted {
		t.Fatalf("defaults %+v", st)
	}
	for _, d := range settings.Defs {
		if len(d.Clauses) == 0 {
			t.Errorf("%s serves no TS-0045 item", d.Key)
		}
	}
}

func TestChangeAndCompleteSetup(t *testing.T) {
	s, r := newService(t, authz{})
	ctx := context.Background()
	src := netip.MustParseAddr("192.0.2.1")
	st, err := s.Change(ctx, auth.Principal{User: auth.User{Username: "owner"}}, map[settings.Key]bool{settings.AutoUpdate: false, settings.UpdateNotifications: true}, true, src)
	if err != nil {
		t.Fatal(err)
	}
	if st.Values[settings.AutoUpdate] || !st.SetupCompleted {
		t.Fatalf("after change %+v", st)
	}
	if len(r.ev) != 1 || r.ev[0].Kind != events.SettingChanged {
		t.Fatalf("events %+v, want one change (auto_update); unchanged values raise none", r.ev)
	}
	if _, err := s.Change(ctx, auth.Principal{}, map[settings.Key]bool{"debug_shell": true}, false, src); !errors.Is(err, settings.ErrUnknown) {
		t.Fatalf("unknown setting: %v", err)
	}
}

func TestChangeNeedsAuthorization(t *testing.T) {
	s, _ := newService(t, authz{err: auth.ErrForbidden})
	if _, err := s.Change(context.Background(), auth.Principal{}, map[settings.Key]bool{settings.AutoUpdate: false}, false, netip.Addr{}); !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("unauthorised change: %v", err)
	}
	st, _ := s.Get(context.Background())
	if !st.Values[settings.AutoUpdate] {
		t.Fatal("an unauthorised change took effect")
	}
}

// TS-0045 5.3.1.6: updates and notifications can be postponed, within bounds.
func TestDefer(t *testing.T) {
	s, _ := newService(t, authz{})
	ctx := context.Background()
	week, zero, tooLong := 7*24*time.Hour, time.Duration(0), 31*24*time.Hour
	st, err := s.Defer(ctx, auth.Principal{}, &week, nil, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if !st.UpdatesDeferred(now) || st.NotificationsDeferred(now) || st.UpdatesDeferred(now.Add(8*24*time.Hour)) {
		t.Fatalf("after deferring updates a week: %+v", st)
	}
	if st, _ = s.Defer(ctx, auth.Principal{}, &zero, nil, netip.Addr{}); st.UpdatesDeferred(now) {
		t.Fatal("postponement not ended")
	}
	if _, err := s.Defer(ctx, auth.Principal{}, &tooLong, nil, netip.Addr{}); !errors.Is(err, settings.ErrDeferral) {
		t.Fatalf("31 days: %v", err)
	}
}
