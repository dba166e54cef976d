package privacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/auth"
	"hearth/internal/events"
	"hearth/internal/i18n"
)

// memConsents is a ConsentStore in memory.
type memConsents struct {
	mu   sync.Mutex
	hist []Consent
	fail error
}

func (m *memConsents) Consents(context.Context) ([]Consent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.hist), nil
}

func (m *memConsents) AddConsent(_ context.Context, c Consent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.hist = append(m.hist, c)
	return nil
}

// ownerOnly authorizes owners, as auth.Service does for the privacy permissions
// (re-authentication is auth's business and tested there).
type ownerOnly struct{}

func (ownerOnly) Authorize(p auth.Principal, perm auth.Permission) error {
	if !p.Can(perm) {
		return auth.ErrForbidden
	}
	return nil
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

func (r *recorder) kinds() []events.Kind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var k []events.Kind
	for _, e := range r.ev {
		k = append(k, e.Kind)
	}
	return k
}

var (
	owner  = auth.Principal{User: auth.User{Username: "alice", Role: auth.RoleOwner}}
	member = auth.Principal{User: auth.User{Username: "bob", Role: auth.RoleMember}}
)

// TS-0045 5.7.1.9: every purpose starts without consent, and only the owner gives it.
func TestConsentsStartOffAndOnlyOwnersChange(t *testing.T) {
	store := &memConsents{}
	var changed []Consent
	rec := &recorder{}
	now := time.Date(2026, 11, 27, 10, 30, 45, 0, time.UTC)
	s, err := NewConsentService(t.Context(), ConsentConfig{Store: store, Authz: ownerOnly{}, Events: rec, Now: func() time.Time { return now },
		Changed: func(_ context.Context, c Consent) { changed = append(changed, c) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Purposes {
		if s.Allowed(p) || s.Current()[p].Granted || s.Current()[p].Version != ConsentVersion[p] {
			t.Fatalf("%s: %+v, want off with the current text version", p, s.Current()[p])
		}
	}
	for _, k := range []string{KindTelemetry, KindSecurityEvent, KindCrashReport, KindBackup, "debug"} {
		if s.AllowedKind(k) {
			t.Errorf("%s allowed without consent", k)
		}
	}
	if !s.AllowedKind(KindConsent) {
		t.Error("consent documents must always be sendable: they stop the vendor's processing")
	}
	if _, err := s.Set(t.Context(), member, map[Purpose]bool{PurposeTelemetry: true}, netip.Addr{}); !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("member: %v", err)
	}
	if _, err := s.Set(t.Context(), owner, map[Purpose]bool{"advertising": true}, netip.Addr{}); !errors.Is(err, ErrUnknownPurpose) {
		t.Fatalf("unknown purpose: %v", err)
	}
	if len(store.hist) != 0 {
		t.Fatalf("refused changes recorded: %+v", store.hist)
	}
	cur, err := s.Set(t.Context(), owner, map[Purpose]bool{PurposeTelemetry: true, PurposeCrashReports: false}, netip.MustParseAddr("192.0.2.7"))
	if err != nil {
		t.Fatal(err)
	}
	if !cur[PurposeTelemetry].Granted || cur[PurposeCrashReports].Granted || !s.AllowedKind(KindSecurityEvent) || s.AllowedKind(KindCrashReport) {
		t.Fatalf("after opting into telemetry: %+v", cur)
	}
	if len(store.hist) != 1 || store.hist[0].By != "alice" || !store.hist[0].Time.Equal(now) || store.hist[0].Version != ConsentVersion[PurposeTelemetry] {
		t.Fatalf("record %+v, want one with who, when and the text version (an unchanged choice is not recorded)", store.hist)
	}
	// TS-0045 5.7.1.10: withdrawal takes effect before Set returns.
	if _, err := s.Set(t.Context(), owner, map[Purpose]bool{PurposeTelemetry: false}, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if s.Allowed(PurposeTelemetry) || s.AllowedKind(KindTelemetry) {
		t.Fatal("withdrawn consent still allows sending")
	}
	if len(changed) != 2 || !changed[0].Granted || changed[1].Granted {
		t.Fatalf("Changed calls %+v", changed)
	}
	if got := rec.kinds(); len(got) != 2 || got[0] != events.ConsentChanged {
		t.Fatalf("events %v", got)
	}
	doc := changed[1].Doc()
	if doc.Time != "2026-11-27T10:30:00Z" || doc.Granted || doc.Purpose != PurposeTelemetry {
		t.Fatalf("consent document %+v: want the minute, no user name", doc)
	}
	// A new service reads the history back.
	s2, err := NewConsentService(t.Context(), ConsentConfig{Store: store, Authz: ownerOnly{}})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Allowed(PurposeTelemetry) {
		t.Fatal("withdrawal not durable")
	}
	if h, err := s2.History(t.Context(), owner); err != nil || len(h) != 2 {
		t.Fatalf("history %v %v", h, err)
	}
	if _, err := s2.History(t.Context(), member); !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("member reads history: %v", err)
	}
}

func TestConsentNotRecordedIsNotApplied(t *testing.T) {
	store := &memConsents{fail: errors.New("disk full")}
	s, err := NewConsentService(t.Context(), ConsentConfig{Store: store, Authz: ownerOnly{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(t.Context(), owner, map[Purpose]bool{PurposeCloudBackup: true}, netip.Addr{}); err == nil {
		t.Fatal("a consent that could not be recorded was accepted")
	}
	if s.Allowed(PurposeCloudBackup) {
		t.Fatal("consent applied without a record")
	}
}

// consentTextHashes pins the consent texts to their versions: changing a text the owner
// agrees to without raising its version in ConsentVersion fails here.
var consentTextHashes = map[Purpose]map[string]string{
	PurposeTelemetry:    {"1": "37971bb61d7299e5"},
	PurposeCrashReports: {"1": "1e7750b045132282"},
	PurposeCloudBackup:  {"1": "86d3f58743fa3a0c"},
}

func TestConsentTextsMatchTheirVersion(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Purposes {
		var text strings.Builder
		for _, lang := range []string{"en", "zh-TW"} {
			text.WriteString(cat.Printer(i18n.Match(lang, "")).T("privacy.consent." + string(p)))
			text.WriteByte(0)
		}
		sum := sha256.Sum256([]byte(text.String()))
		got := hex.EncodeToString(sum[:8])
		if want := consentTextHashes[p][ConsentVersion[p]]; got != want {
			t.Errorf("consent text of %s is %s, pinned to version %s as %s: a changed text needs a new version (and a new line here)", p, got, ConsentVersion[p], want)
		}
	}
}

func TestInventoryIsComplete(t *testing.T) {
	ids := map[string]bool{}
	stores := map[string]string{}
	for _, c := range Inventory {
		if ids[c.ID] {
			t.Errorf("duplicate category %s", c.ID)
		}
		ids[c.ID] = true
		for _, x := range []Text{c.Name, c.Fields, c.Purpose, c.Retention, c.Location, c.Recipients} {
			if x.EN == "" || x.ZH == "" {
				t.Errorf("%s: text missing in a language: %+v", c.ID, x)
			}
		}
		if c.Class != Personal && c.Class != Sensitive && c.Class != NotPersonal {
			t.Errorf("%s: class %q", c.ID, c.Class)
		}
		if c.Consent != "" && !c.Consent.Valid() {
			t.Errorf("%s: consent %q", c.ID, c.Consent)
		}
		if c.Sends != "" {
			if p, ok := PurposeOf(c.Sends); ok && p != c.Consent {
				t.Errorf("%s: sends %s (purpose %s) but asks consent for %q", c.ID, c.Sends, p, c.Consent)
			}
		}
		for _, s := range c.Stores {
			if prev, dup := stores[s]; dup && prev != c.ID {
				// One table may hold several categories (the outbox's items); that is fine.
				continue
			}
			stores[s] = c.ID
		}
	}
	for _, k := range []string{KindSecurityEvent, KindTelemetry, KindCrashReport, KindBackup, KindConsent} {
		if sendFields(k) == nil {
			t.Errorf("kind %s is sent but the inventory does not list it", k)
		}
	}
	for _, p := range Purposes {
		if ConsentVersion[p] == "" || !validVersion(ConsentVersion[p]) {
			t.Errorf("purpose %s has no valid consent version", p)
		}
	}
}

func TestCheckFields(t *testing.T) {
	for _, tc := range []struct {
		kind, doc string
		ok        bool
	}{
		{KindSecurityEvent, `{"kind":"login.failed","severity":"warning","time":"2026-11-27T10:30:00Z"}`, true},
		{KindSecurityEvent, `{"kind":"login.failed","user":"alice"}`, false},
		{KindSecurityEvent, `{"kind":"login.failed","remote":"192.0.2.1"}`, false},
		{KindTelemetry, `{"firmware":"1.0.0","sensors":{}}`, true},
		{KindTelemetry, `{"firmware":"1.0.0","serial":"HRT-1"}`, false},
		{KindCrashReport, `{"firmware":"1","day":"2026-11-27","reason":"panic","functions":[]}`, true},
		{"debug", `{}`, false},
		{KindTelemetry, `[1]`, false},
	} {
		if err := CheckFields(tc.kind, []byte(tc.doc)); (err == nil) != tc.ok {
			t.Errorf("%s %s: %v", tc.kind, tc.doc, err)
		}
	}
}

// fakeVendor is a VendorEraser whose answers the test sets.
type fakeVendor struct {
	mu    sync.Mutex
	fails int // the next calls to Erase that fail
	held  int
	calls int
}

func (v *fakeVendor) Erase(_ context.Context, request string) (EraseReceipt, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	if v.fails > 0 {
		v.fails--
		return EraseReceipt{}, errors.New("vendor unreachable")
	}
	v.held = 0
	return EraseReceipt{Request: request, Status: EraseCompleted, Deleted: map[string]int64{"telemetry_records": 3}}, nil
}

func (v *fakeVendor) Export(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, `{"records":[]}`)
	return err
}

func (v *fakeVendor) Held(context.Context) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.held, nil
}

// parts records the parts run; the one named in failAt fails once.
type parts struct {
	mu     sync.Mutex
	ran    []string
	failAt string
}

func (p *parts) list(names ...string) []Part {
	var out []Part
	for _, n := range names {
		out = append(out, Part{Name: n, Erase: func(context.Context) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.failAt == n {
				p.failAt = ""
				return errors.New("power cut")
			}
			p.ran = append(p.ran, n)
			return nil
		}})
	}
	return out
}

// TS-0045 5.7.1.4, 5.7.1.7: a deletion interrupted half-way finishes at the next
// start, from where it stopped, and the status says so.
func TestErasureResumesAfterInterruption(t *testing.T) {
	path := filepath.Join(t.TempDir(), ErasureFile)
	p := &parts{failAt: "database"}
	rec := &recorder{}
	e, err := NewEraser(EraserConfig{Path: path, Parts: p.list("sensors", "queue", "database", "keys"), Authz: ownerOnly{}, Events: rec})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Request(t.Context(), member); !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("member: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused request wrote the journal")
	}
	st, token, err := e.Request(t.Context(), owner)
	if err == nil || token == "" || st.Device.State != StatePending || !slices.Equal(st.Device.Done, []string{"sensors", "queue"}) {
		t.Fatalf("interrupted request: %+v %q %v", st, token, err)
	}
	if st.Cloud.State != StateNotApplicable {
		t.Fatalf("without a vendor the vendor side is %q", st.Cloud.State)
	}
	// The next start: a new Eraser over the same journal.
	p2 := &parts{}
	e2, err := NewEraser(EraserConfig{Path: path, Parts: p2.list("sensors", "queue", "database", "keys"), Authz: ownerOnly{}, Events: rec})
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p2.ran, []string{"database", "keys"}) {
		t.Fatalf("resumed parts %v, want the two not done", p2.ran)
	}
	st2, ok := e2.StatusByToken(token)
	if !ok || st2.Device.State != StateCompleted || !st2.Complete() || st2.Request != st.Request {
		t.Fatalf("status after resume %+v %v", st2, ok)
	}
	if _, ok := e2.StatusByToken(strings.Repeat("0", 32)); ok {
		t.Fatal("a wrong token shows the status")
	}
	if _, ok := e2.StatusByToken("short"); ok {
		t.Fatal("a malformed token shows the status")
	}
	if k := rec.kinds(); len(k) != 1 || k[0] != events.DataErased {
		t.Fatalf("events %v, want one data_erased once the device side completed", k)
	}
	// Resume with nothing pending does nothing.
	if err := e2.Resume(t.Context()); err != nil || len(p2.ran) != 2 {
		t.Fatalf("second resume ran parts: %v %v", p2.ran, err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "alice") || strings.Contains(string(raw), token) {
		t.Fatalf("the journal holds user data or the token itself: %s", raw)
	}
}

// TS-0045 5.7.1.5, 5.7.1.7: the vendor is asked until it confirms, and the confirmation
// is checked against what the vendor still holds.
func TestErasureAsksTheVendorUntilConfirmed(t *testing.T) {
	path := filepath.Join(t.TempDir(), ErasureFile)
	v := &fakeVendor{fails: 2, held: 5}
	p := &parts{}
	rec := &recorder{}
	tick := make(chan time.Time)
	e, err := NewEraser(EraserConfig{Path: path, Parts: p.list("database"), Vendor: v, Authz: ownerOnly{}, Events: rec,
		After: func(time.Duration) <-chan time.Time { return tick }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	st, _, err := e.Request(t.Context(), owner)
	if err != nil || st.Device.State != StateCompleted || st.Cloud.State != StatePending || st.Complete() {
		t.Fatalf("request: %+v %v", st, err)
	}
	waitFor(t, func() bool { s, _ := e.Status(); return s.Cloud.Attempts == 1 })
	if s, _ := e.Status(); s.Cloud.LastError == "" || s.Cloud.State != StatePending {
		t.Fatalf("after a failure: %+v", s.Cloud)
	}
	tick <- time.Now()
	waitFor(t, func() bool { s, _ := e.Status(); return s.Cloud.Attempts == 2 })
	tick <- time.Now()
	waitFor(t, func() bool { s, _ := e.Status(); return s.Cloud.State == StateCompleted })
	s, _ := e.Status()
	if !s.Complete() || !s.Cloud.Verified || s.Cloud.Receipt == nil || s.Cloud.Receipt.Request != st.Request || s.Cloud.LastError != "" {
		t.Fatalf("completed status %+v", s.Cloud)
	}
	var exp strings.Builder
	if err := e.VendorExport(t.Context(), member, &exp); !errors.Is(err, auth.ErrForbidden) {
		t.Fatalf("member exports: %v", err)
	}
	if err := e.VendorExport(t.Context(), owner, &exp); err != nil || exp.String() != `{"records":[]}` {
		t.Fatalf("export %q %v", exp.String(), err)
	}
	if k := rec.kinds(); !slices.Contains(k, events.ErasureConfirmed) {
		t.Fatalf("events %v", k)
	}
	// The journal on disk says the same (a restart shows the confirmation).
	e2, err := NewEraser(EraserConfig{Path: path, Authz: ownerOnly{}})
	if err != nil {
		t.Fatal(err)
	}
	if s2, _ := e2.Status(); !s2.Complete() || !s2.Cloud.Verified {
		t.Fatalf("reloaded %+v", s2)
	}
}

// A vendor that confirms but still holds data is not believed.
func TestErasureVendorStillHoldingDataIsNotConfirmed(t *testing.T) {
	v := &heldVendor{}
	e, err := NewEraser(EraserConfig{Path: filepath.Join(t.TempDir(), ErasureFile), Vendor: v, Authz: ownerOnly{}})
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := e.Request(t.Context(), owner)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.askVendor(t.Context(), st.Request); err == nil {
		t.Fatal("confirmation accepted although the vendor still holds records")
	}
	if s, _ := e.Status(); s.Cloud.State != StatePending || s.Cloud.Verified {
		t.Fatalf("status %+v", s.Cloud)
	}
}

type heldVendor struct{}

func (heldVendor) Erase(_ context.Context, r string) (EraseReceipt, error) {
	return EraseReceipt{Request: r, Status: EraseCompleted}, nil
}
func (heldVendor) Held(context.Context) (int, error)       { return 2, nil }
func (heldVendor) Export(context.Context, io.Writer) error { return nil }

func TestErasureJournalUnreadableIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), ErasureFile)
	os.WriteFile(path, []byte(`{"request":"x"`), 0o600)
	if _, err := NewEraser(EraserConfig{Path: path, Authz: ownerOnly{}}); err == nil {
		t.Fatal("a torn journal was accepted")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
