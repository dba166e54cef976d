package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hearth/internal/backoff"
	"hearth/internal/privacy"
)

// Kinds of documents the cloud accepts (privacy's kinds, named here for callers).
const (
	KindSecurityEvent = privacy.KindSecurityEvent
	KindTelemetry     = privacy.KindTelemetry
	KindCrashReport   = privacy.KindCrashReport
	KindBackup        = privacy.KindBackup
	KindConsent       = privacy.KindConsent
)

// Limits that keep every batch within what the cloud accepts (256 KiB, 256 items).
const (
	MaxDocBytes    = 64 << 10
	maxBatchItems  = 100
	maxBatchBytes  = 160 << 10
	defaultItems   = 10_000
	defaultBytes   = 16 << 20
	defaultRecheck = time.Minute
)

// Errors returned by Enqueue.
var (
	// ErrNotAllowed means the owner has not consented to sending; nothing was queued.
	ErrNotAllowed = errors.New("outbox: sending not allowed")
	// ErrInvalid means the kind or document is not acceptable; nothing was queued.
	ErrInvalid = errors.New("outbox: invalid item")
)

// Config configures an outbox. Sender and Allowed are required.
type Config struct {
	// MaxItems and MaxBytes bound the queue (bytes count documents); zero means 10,000
	// items and 16 MiB. When an Enqueue would exceed either, the oldest items are dropped.
	MaxItems int
	MaxBytes int64
	// Sender delivers batches, normally NewHTTPSender with the device's mTLS client.
	Sender Sender
	// Allowed reports whether the owner consents to sending documents of a kind (the
	// consent for the kind's purpose; privacy.KindConsent is normally always allowed).
	// It is called before every Enqueue and before every batch; while it returns false
	// for a kind, nothing of that kind is queued or sent and queued items of it are
	// deleted. Required: there is no default consent.
	Allowed func(kind string) bool
	// Policy spaces reconnect attempts; its zero value is one second growing to five
	// minutes with full jitter.
	Policy backoff.Policy
	// Recheck is how often an idle Run loop without consent asks Allowed again; zero
	// means one minute. Wake makes it ask at once.
	Recheck time.Duration
	// Now stamps items and Stats; nil means time.Now.
	Now func() time.Time
	// After waits between attempts; nil means time.After. Tests pass a fake clock.
	After func(time.Duration) <-chan time.Time
	// Log receives drops, refusals and outages; nil discards.
	Log *slog.Logger
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Sender == nil:
		return errors.New("outbox: no sender")
	case c.Allowed == nil:
		return errors.New("outbox: no consent check")
	case c.MaxItems < 0, c.MaxBytes < 0:
		return errors.New("outbox: negative bound")
	case c.MaxBytes > 0 && c.MaxBytes < MaxDocBytes:
		return fmt.Errorf("outbox: MaxBytes below one document (%d)", MaxDocBytes)
	}
	return nil
}

func (c *Config) defaults() {
	if c.MaxItems == 0 {
		c.MaxItems = defaultItems
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = defaultBytes
	}
	if c.Recheck <= 0 {
		c.Recheck = defaultRecheck
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.After == nil {
		c.After = time.After
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Outbox is an open queue. Close it when Run has returned.
type Outbox struct {
	cfg  Config
	wake chan struct{}

	mu          sync.Mutex // guards q and the fields below
	q           *queue
	lastSuccess time.Time
	lastError   string
	lastErrorAt time.Time
}

// Open opens (creating if needed) the queue database at path.
func Open(path string, cfg Config) (*Outbox, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	q, err := openQueue(context.Background(), path)
	if err != nil {
		return nil, err
	}
	return &Outbox{cfg: cfg, q: q, wake: make(chan struct{}, 1)}, nil
}

// Close closes the database.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.q.close()
}

// Wake makes Run look at the queue and the consent now, e.g. after the owner changed
// the telemetry setting.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Enqueue stores doc durably for sending; it returns once the item is on disk.
// doc must be a JSON object of at most MaxDocBytes.
//
// TS-0045 5.6.1.2: the gateway never waits for the cloud; Enqueue only touches disk.
func (o *Outbox) Enqueue(ctx context.Context, kind string, doc json.RawMessage) error {
	if !privacy.KnownKind(kind) {
		return fmt.Errorf("%w: kind %q", ErrInvalid, kind)
	}
	if !o.cfg.Allowed(kind) {
		return ErrNotAllowed
	}
	compact, err := compactObject(doc)
	if err != nil {
		return err
	}
	// TS-0045 5.7.1.11: only the fields the data inventory declares for the kind leave
	// the device; anything else is refused here, whoever the caller.
	if err := privacy.CheckFields(kind, compact); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	o.mu.Lock()
	// TS-0045 5.7.1.11: the time an item is sent with is the minute it was queued; the
	// vendor needs no finer one.
	dropped, err := o.q.push(ctx, kind, o.cfg.Now().UTC().Truncate(time.Minute), compact, int64(o.cfg.MaxItems), o.cfg.MaxBytes)
	o.mu.Unlock()
	if err != nil {
		return err
	}
	if dropped > 0 {
		o.cfg.Log.Warn("outbox full, oldest items dropped", "dropped", dropped)
	}
	o.Wake()
	return nil
}

// compactObject checks that doc is one JSON object within MaxDocBytes and compacts it.
func compactObject(doc json.RawMessage) ([]byte, error) {
	if len(doc) > MaxDocBytes {
		return nil, fmt.Errorf("%w: document of %d bytes exceeds %d", ErrInvalid, len(doc), MaxDocBytes)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(doc, &probe); err != nil || probe == nil {
		return nil, fmt.Errorf("%w: document is not a JSON object", ErrInvalid)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return buf.Bytes(), nil
}

// Reset deletes every queued item and starts a new stream: the cloud sees the device
// under a new pseudonymous id, unlinked to the old one. It is part of deleting the
// owner's data.
//
// TS-0045 5.7.1.4: queued documents are user data too.
func (o *Outbox) Reset(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.q.reset(ctx)
}

// PurgeWithdrawn deletes at once the queued items whose consent was withdrawn, rather
// than at the Run loop's next look, and wakes the loop.
func (o *Outbox) PurgeWithdrawn(ctx context.Context) {
	o.purge(ctx)
	o.Wake()
}

// Stream is the queue's current stream id, the device's pseudonymous id at the vendor.
func (o *Outbox) Stream() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.q.stream
}

// Stats is the outbox's state for the UI and API.
type Stats struct {
	Queued      int64     `json:"queued"`
	QueuedBytes int64     `json:"queued_bytes"`
	Dropped     int64     `json:"dropped"`  // dropped for lack of space, ever
	Rejected    int64     `json:"rejected"` // refused by the cloud and dropped, ever
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Stats returns the current state.
func (o *Outbox) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return Stats{
		Queued: o.q.count, QueuedBytes: o.q.bytes,
		Dropped: o.q.DroppedTotal, Rejected: o.q.Rejected,
		LastSuccess: o.lastSuccess, LastError: o.lastError, LastErrorAt: o.lastErrorAt,
	}
}
