package privacy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/auth"
	"hearth/internal/backoff"
	"hearth/internal/events"
)

// ErasureFile is the deletion journal in the data directory.
const ErasureFile = "erasure.json"

// States of each side of an erasure.
const (
	StatePending       = "pending"
	StateCompleted     = "completed"
	StateNotApplicable = "not_applicable" // the device has no vendor services
)

// Requesters of an erasure. The user name is not kept: it is user data too.
const (
	ByOwner   = "owner"
	ByConsole = "console"
)

// Erasure is the journal of the latest "delete my data": what was asked, and how far
// each side is. It holds no user data, so it survives the deletion it describes.
type Erasure struct {
	Request     string    `json:"request"` // 32 hex, also sent to the vendor
	RequestedAt time.Time `json:"requested_at"`
	RequestedBy string    `json:"requested_by"` // ByOwner or ByConsole
	// TokenHash is SHA-256 of the status token handed to the requester, which shows
	// this status without signing in (the requester's account is gone by then).
	TokenHash string     `json:"token_sha256"`
	Device    DeviceSide `json:"device"`
	Cloud     CloudSide  `json:"cloud"`
}

// DeviceSide is the progress on the gateway.
type DeviceSide struct {
	State       string    `json:"state"`
	Done        []string  `json:"done,omitempty"` // parts completed, in order
	CompletedAt time.Time `json:"completed_at,omitzero"`
}

// CloudSide is the progress at the vendor.
type CloudSide struct {
	State       string        `json:"state"`
	Attempts    int           `json:"attempts,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
	LastAttempt time.Time     `json:"last_attempt,omitzero"`
	Receipt     *EraseReceipt `json:"receipt,omitempty"`
	// Verified is true once the vendor's export of this device, fetched after the
	// receipt, held no data.
	Verified    bool      `json:"verified"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
}

// Complete reports whether both sides are done.
func (e Erasure) Complete() bool {
	return e.Device.State == StateCompleted && e.Cloud.State != StatePending
}

// Part is one piece of the gateway's user data and how to delete it. Erase must be
// idempotent: after a power loss the deletion starts again from the first part not
// recorded as done.
type Part struct {
	Name  string
	Erase func(ctx context.Context) error
}

// VendorEraser asks the vendor to delete what it holds for this device.
type VendorEraser interface {
	// Erase sends the request and returns the vendor's receipt once it completed.
	Erase(ctx context.Context, request string) (EraseReceipt, error)
	// Held returns how many records the vendor still holds for this device (its
	// export), to verify the receipt.
	Held(ctx context.Context) (int, error)
	// Export writes the vendor's export of everything it holds about this device
	// (JSON) to w.
	Export(ctx context.Context, w io.Writer) error
}

// ErrNoVendor reports that the device has no vendor services.
var ErrNoVendor = errors.New("privacy: this gateway has no vendor services")

// VendorExport writes everything the vendor holds about this device to w, for the
// owner p to see and take along (data portability).
func (e *Eraser) VendorExport(ctx context.Context, p auth.Principal, w io.Writer) error {
	if err := e.cfg.Authz.Authorize(p, auth.PermManageConsent); err != nil {
		return err
	}
	if e.cfg.Vendor == nil {
		return ErrNoVendor
	}
	return e.cfg.Vendor.Export(ctx, w)
}

// HasVendor reports whether the device has vendor services.
func (e *Eraser) HasVendor() bool { return e.cfg.Vendor != nil }

// EraserConfig configures an Eraser.
type EraserConfig struct {
	// Path is the journal (ErasureFile in the data directory).
	Path  string
	Parts []Part
	// Vendor is nil when the device has no vendor services.
	Vendor VendorEraser
	Authz  Authorizer
	Events events.Publisher // nil: events.Discard
	Log    *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
	// Policy spaces retries of the vendor request.
	Policy backoff.Policy
	// After waits between retries; nil means time.After.
	After func(time.Duration) <-chan time.Time
}

// Eraser deletes all user data on the gateway and at the vendor, and tells the
// requester how far it got until both sides confirmed.
//
// TS-0045 5.7.1.4: one action deletes all user data on the device. TS-0045 5.7.1.5:
// the same action has the vendor delete what it holds. TS-0045 5.7.1.7: the status of
// each side is shown until both are confirmed complete.
//
// Crash safety: the journal is written (atomically, synced) before anything is
// deleted and after each part; Resume at the next start finishes a deletion that a
// power loss interrupted, and the vendor request is retried until it is confirmed.
type Eraser struct {
	cfg  EraserConfig
	kick chan struct{}

	mu  sync.Mutex // serialises erasures and guards cur
	cur *Erasure   // nil: never erased
}

// NewEraser loads the journal.
func NewEraser(cfg EraserConfig) (*Eraser, error) {
	if cfg.Path == "" || cfg.Authz == nil {
		return nil, errors.New("privacy: eraser needs a journal path and an authorizer")
	}
	if cfg.Events == nil {
		cfg.Events = events.Discard
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	e := &Eraser{cfg: cfg, kick: make(chan struct{}, 1)}
	raw, err := os.ReadFile(cfg.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("privacy: %w", err)
	default:
		var j Erasure
		if err := json.Unmarshal(raw, &j); err != nil || !IsID(j.Request) {
			return nil, fmt.Errorf("privacy: erasure journal %s is unreadable: %v", cfg.Path, err)
		}
		e.cur = &j
	}
	return e, nil
}

// Status returns the latest erasure; ok is false if there never was one.
func (e *Eraser) Status() (Erasure, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil {
		return Erasure{}, false
	}
	return *e.cur, true
}

// StatusByToken returns the latest erasure if token is its status token.
func (e *Eraser) StatusByToken(token string) (Erasure, bool) {
	st, ok := e.Status()
	if !ok || len(token) != 32 {
		return Erasure{}, false
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(st.TokenHash)) != 1 {
		return Erasure{}, false
	}
	return st, true
}

// Request deletes all user data on the gateway now, as the owner p asked, and starts
// the request to the vendor. It returns the status and the status token (shown once).
// A failed part leaves the deletion pending: it is finished by the next Request or by
// Resume at the next start.
func (e *Eraser) Request(ctx context.Context, p auth.Principal) (Erasure, string, error) {
	if err := e.cfg.Authz.Authorize(p, auth.PermEraseData); err != nil {
		return Erasure{}, "", err
	}
	return e.request(ctx, ByOwner)
}

// RequestFromConsole is Request for a factory reset from the local console, where
// physical access is the authority.
func (e *Eraser) RequestFromConsole(ctx context.Context) (Erasure, string, error) {
	return e.request(ctx, ByConsole)
}

func (e *Eraser) request(ctx context.Context, by string) (Erasure, string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	tok := make([]byte, 16)
	req := make([]byte, 16)
	rand.Read(tok)
	rand.Read(req)
	token := hex.EncodeToString(tok)
	sum := sha256.Sum256([]byte(token))
	j := &Erasure{Request: hex.EncodeToString(req), RequestedAt: e.cfg.Now().UTC(), RequestedBy: by, TokenHash: hex.EncodeToString(sum[:]),
		Device: DeviceSide{State: StatePending}, Cloud: CloudSide{State: StatePending}}
	if e.cfg.Vendor == nil {
		j.Cloud.State = StateNotApplicable
	}
	if e.cur != nil && e.cur.Device.State == StatePending {
		// An interrupted deletion is finished under its own request id; the new
		// requester gets a new token for it.
		j.Request, j.RequestedAt, j.Device, j.Cloud = e.cur.Request, e.cur.RequestedAt, e.cur.Device, e.cur.Cloud
	}
	if err := e.save(j); err != nil {
		return Erasure{}, "", err
	}
	e.cur = j
	err := e.eraseDevice(ctx)
	e.wake()
	return *e.cur, token, err
}

// Resume finishes a deletion of the gateway's data that was interrupted. Call it at
// start, before serving.
func (e *Eraser) Resume(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil || e.cur.Device.State != StatePending {
		return nil
	}
	e.cfg.Log.Warn("finishing an interrupted deletion of user data", "request", e.cur.Request, "done", e.cur.Device.Done)
	return e.eraseDevice(ctx)
}

// eraseDevice runs the parts not yet done, recording each. Called with mu held.
func (e *Eraser) eraseDevice(ctx context.Context) error {
	j := *e.cur
	j.Device.Done = append([]string(nil), j.Device.Done...)
	for _, p := range e.cfg.Parts {
		if slices.Contains(j.Device.Done, p.Name) {
			continue
		}
		if err := p.Erase(ctx); err != nil {
			return fmt.Errorf("privacy: deleting %s: %w", p.Name, err)
		}
		j.Device.Done = append(j.Device.Done, p.Name)
		if err := e.save(&j); err != nil {
			return err
		}
		e.cur = &j
	}
	j.Device.State, j.Device.CompletedAt = StateCompleted, e.cfg.Now().UTC()
	if err := e.save(&j); err != nil {
		return err
	}
	e.cur = &j
	// The first event of the emptied log.
	e.cfg.Events.Publish(ctx, events.Event{Time: j.Device.CompletedAt, Kind: events.DataErased, Severity: events.Warning,
		Detail: "requested from " + j.RequestedBy, Args: []string{"@privacy.by." + j.RequestedBy}})
	e.cfg.Log.Info("user data deleted on the gateway", "request", j.Request, "parts", len(j.Device.Done))
	return nil
}

func (e *Eraser) save(j *Erasure) error {
	b, _ := json.MarshalIndent(j, "", "  ")
	if err := atomicfile.Write(e.cfg.Path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("privacy: write erasure journal: %w", err)
	}
	return nil
}

func (e *Eraser) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Run asks the vendor to delete its data whenever an erasure's vendor side is pending,
// retrying with backoff until the vendor confirms, until ctx ends.
func (e *Eraser) Run(ctx context.Context) {
	if e.cfg.Vendor == nil {
		return
	}
	failures := 0
	for {
		var wait <-chan time.Time
		if pending, ok := e.pendingCloud(); ok {
			// This attempt answers any wake-up already signalled.
			select {
			case <-e.kick:
			default:
			}
			if err := e.askVendor(ctx, pending); err != nil {
				failures++
				d := e.cfg.Policy.Delay(failures)
				e.cfg.Log.Info("vendor deletion not confirmed yet, will retry", "request", pending, "delay", d, "err", err)
				wait = e.cfg.After(d)
			} else {
				failures = 0
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-e.kick:
		case <-wait:
		}
	}
}

// pendingCloud returns the request whose vendor side waits, if any: only once the
// gateway's side is done, so nothing queued for the vendor is left to send.
func (e *Eraser) pendingCloud() (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil || e.cur.Device.State != StateCompleted || e.cur.Cloud.State != StatePending {
		return "", false
	}
	return e.cur.Request, true
}

// askVendor sends the request and verifies the result, recording the outcome.
func (e *Eraser) askVendor(ctx context.Context, request string) error {
	rec, err := e.cfg.Vendor.Erase(ctx, request)
	if err == nil && (rec.Request != request || rec.Status != EraseCompleted) {
		err = fmt.Errorf("vendor answered request %q with status %q", rec.Request, rec.Status)
	}
	var held int
	if err == nil {
		held, err = e.cfg.Vendor.Held(ctx)
		if err == nil && held > 0 {
			err = fmt.Errorf("vendor confirmed deletion but still holds %d records", held)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil || e.cur.Request != request {
		return nil // superseded meanwhile
	}
	j := *e.cur
	j.Cloud.Attempts++
	j.Cloud.LastAttempt = e.cfg.Now().UTC()
	if err != nil {
		j.Cloud.LastError = err.Error()
	} else {
		j.Cloud.State, j.Cloud.Receipt, j.Cloud.Verified, j.Cloud.LastError = StateCompleted, &rec, true, ""
		j.Cloud.CompletedAt = j.Cloud.LastAttempt
	}
	if serr := e.save(&j); serr != nil {
		return errors.Join(err, serr)
	}
	e.cur = &j
	if err == nil {
		e.cfg.Events.Publish(ctx, events.Event{Time: j.Cloud.CompletedAt, Kind: events.ErasureConfirmed, Severity: events.Info,
			Detail: "request " + request, Args: []string{request[:8]}})
	}
	return err
}
