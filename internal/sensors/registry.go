package sensors

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"hearth/internal/buildinfo"
	"hearth/internal/events"
)

// State is where a sensor is in its life.
type State string

const (
	// Active sensors may connect and publish.
	Active State = "active"
	// Quarantined sensors are disconnected and refused until the owner releases them.
	Quarantined State = "quarantined"
	// Retired sensors were replaced; their credentials no longer work, their readings
	// stay until retention removes them.
	Retired State = "retired"
)

// Sensor is one paired sensor.
type Sensor struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Model     string    `json:"model"`
	State     State     `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	// Replaces and ReplacedBy link a sensor to the one it replaced or that replaced it.
	Replaces   string `json:"replaces,omitempty"`
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// Stored is a sensor with the hash of its credential, as kept by a Store.
type Stored struct {
	Sensor
	// CredentialHash is SHA-256 of the credential: the credential is 256 random bits, so
	// a fast hash is as strong as a slow one; the store seals it at rest.
	CredentialHash []byte
}

// Store persists the registry.
type Store interface {
	Sensors(ctx context.Context) ([]Stored, error)
	CreateSensor(ctx context.Context, s Stored) error
	SetSensorState(ctx context.Context, id string, st State) error
	// ReplaceSensor retires old and creates its replacement in one transaction.
	ReplaceSensor(ctx context.Context, old string, next Stored) error
	DeleteSensor(ctx context.Context, id string) error
}

// Credential is a sensor's secret, shown to the owner once at pairing.
type Credential string

// String keeps credentials out of logs.
func (Credential) String() string { return "REDACTED" }

// LogValue keeps credentials out of structured logs.
func (Credential) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// Reveal returns the secret itself, for the one response that hands it to the owner.
func (c Credential) Reveal() string { return string(c) }

func newCredential() (Credential, []byte) {
	var b [32]byte
	rand.Read(b[:])
	c := base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(c))
	return Credential(c), h[:]
}

// Errors callers branch on.
var (
	ErrNotFound      = errors.New("no such sensor")
	ErrUnknownModel  = errors.New("unknown sensor model")
	ErrInvalidName   = errors.New("invalid sensor name")
	ErrRefused       = errors.New("sensor refused")
	ErrState         = errors.New("sensor is not in a state that allows this")
	ErrRateExceeded  = errors.New("sensor exceeds its reading rate")
	ErrTooManySensor = errors.New("too many sensors")
)

// MaxSensors bounds the registry.
const MaxSensors = 2000

// Config configures the Service.
type Config struct {
	Store    Store
	Readings ReadingStore
	Events   events.Publisher
	Log      *slog.Logger     // nil: discard
	Now      func() time.Time // nil: time.Now
	// Retention is how long readings are kept; zero means DefaultRetention.
	Retention time.Duration
	// MaxReadings caps the number of stored readings; zero means DefaultMaxReadings.
	MaxReadings int64
	// InsecureUnlimitedRate lifts the per-sensor reading rate limit (benchmarks only;
	// refused in release builds).
	InsecureUnlimitedRate bool
}

// Defaults.
const (
	DefaultRetention   = 30 * 24 * time.Hour
	DefaultMaxReadings = 5_000_000
)

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Store == nil || c.Readings == nil || c.Events == nil {
		return errors.New("sensors: store, readings store and event publisher are required")
	}
	if c.Retention < 0 || c.MaxReadings < 0 {
		return errors.New("sensors: retention and reading cap must not be negative")
	}
	if c.InsecureUnlimitedRate {
		if err := buildinfo.RefuseInsecure("--insecure-unlimited-sensor-rate"); err != nil {
			return err
		}
	}
	return nil
}

// Service is the registry of paired sensors and the entry point of their readings.
type Service struct {
	cfg    Config
	log    *slog.Logger
	ingest *ingest
	alarms *alarms

	mu   sync.RWMutex
	byID map[string]*entry
	kick func(id string) // disconnects a sensor from the broker; may be nil
	// observe learns the number of active sensors after every change; may be nil.
	observe func(active int)
	opMu    sync.Mutex // serialises registry changes
	closed  bool
}

// entry is the in-memory view of one sensor used on every connect and publish.
type entry struct {
	Sensor
	hash  []byte
	model Model
	limit *rate.Limiter
	// lastSeen is the Unix nanoseconds of the last accepted reading (0: never).
	lastSeen atomic.Int64
}

// New loads the registry.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.MaxReadings == 0 {
		cfg.MaxReadings = DefaultMaxReadings
	}
	s := &Service{cfg: cfg, log: cfg.Log, byID: map[string]*entry{}, alarms: newAlarms(cfg.Events, cfg.Now)}
	all, err := cfg.Store.Sensors(ctx)
	if err != nil {
		return nil, fmt.Errorf("sensors: load: %w", err)
	}
	ids := make([]string, len(all))
	for i, st := range all {
		ids[i] = st.ID
	}
	seen, err := cfg.Readings.LastSeen(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("sensors: load: %w", err)
	}
	for _, st := range all {
		e, err := s.newEntry(st)
		if err != nil {
			return nil, err
		}
		if t, ok := seen[st.ID]; ok {
			e.lastSeen.Store(t.UnixNano())
		}
		s.byID[st.ID] = e
	}
	s.ingest = newIngest(cfg.Readings, cfg.Log)
	return s, nil
}

func (s *Service) newEntry(st Stored) (*entry, error) {
	m, ok := LookupModel(st.Model)
	if !ok {
		return nil, fmt.Errorf("sensors: sensor %s has unknown model %q", st.ID, st.Model)
	}
	return &entry{Sensor: st.Sensor, hash: st.CredentialHash, model: m, limit: s.limiter(m)}, nil
}

// limiter allows a sensor ten times its model's normal rate, and a burst large enough
// for the backlog a sensor buffers while the gateway is away. Beyond that a sensor is
// misbehaving (or is not what it claims) and is slowed down, not stored without bound.
//
// TS-0045 5.5.2.1, 5.6.1.1: the gateway's storage and CPU are protected from a flood.
func (s *Service) limiter(m Model) *rate.Limiter {
	if s.cfg.InsecureUnlimitedRate {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(max(10*m.MaxRate, 5)), 2000)
}

// SetDisconnector tells the service how to disconnect a sensor (the broker's hook).
func (s *Service) SetDisconnector(kick func(id string)) {
	s.mu.Lock()
	s.kick = kick
	s.mu.Unlock()
}

// SetObserver registers a function told the number of active sensors now and after
// every change of the registry (the gateway opens its MQTTS port only while a sensor
// may connect). Calls are serialised, in the order of the changes.
func (s *Service) SetObserver(observe func(active int)) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	s.observe = observe
	s.mu.Unlock()
	s.changed()
}

// Active is the number of sensors allowed to connect.
func (s *Service) Active() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, e := range s.byID {
		if e.State == Active {
			n++
		}
	}
	return n
}

// changed tells the observer; the caller holds opMu.
func (s *Service) changed() {
	s.mu.RLock()
	observe := s.observe
	s.mu.RUnlock()
	if observe != nil {
		observe(s.Active())
	}
}

func (s *Service) disconnect(id string) {
	s.mu.RLock()
	kick := s.kick
	s.mu.RUnlock()
	if kick != nil {
		kick(id)
	}
}

// View is a sensor as the API and UI show it.
type View struct {
	Sensor
	LastSeen time.Time `json:"last_seen"`
	Spec     Model     `json:"-"`
}

// List returns every sensor, newest first.
func (s *Service) List() []View {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]View, 0, len(s.byID))
	for _, e := range s.byID {
		out = append(out, e.view())
	}
	slices.SortFunc(out, func(a, b View) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func (e *entry) view() View {
	v := View{Sensor: e.Sensor, Spec: e.model}
	if n := e.lastSeen.Load(); n != 0 {
		v.LastSeen = time.Unix(0, n).UTC()
	}
	return v
}

// entry returns the registry's entry of sensor id. The caller holds opMu when it reads
// the fields that only registry changes write (state, name).
func (s *Service) entry(id string) (*entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.byID[id]
	if !ok {
		return nil, ErrNotFound
	}
	return e, nil
}

// Get returns one sensor.
func (s *Service) Get(id string) (View, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.byID[id]
	if !ok {
		return View{}, ErrNotFound
	}
	return e.view(), nil
}

// ValidateName checks a sensor's display name: 1-64 printable characters.
func ValidateName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 64 || !utf8.ValidString(name) || strings.TrimSpace(name) != name {
		return fmt.Errorf("%w: 1 to 64 characters without leading or trailing spaces", ErrInvalidName)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: control characters are not allowed", ErrInvalidName)
		}
	}
	return nil
}

// Pair registers a new sensor of the given model and returns its credential, which is
// not kept and cannot be shown again.
//
// TS-0045 5.1.1.1-5.1.1.2 (no shared or default credential: each sensor gets its own
// random one), 5.4.1.1 (only its hash is stored, sealed).
func (s *Service) Pair(ctx context.Context, by, name, modelID string) (View, Credential, error) {
	if err := ValidateName(name); err != nil {
		return View{}, "", err
	}
	m, ok := LookupModel(modelID)
	if !ok {
		return View{}, "", fmt.Errorf("%w %.32q", ErrUnknownModel, modelID)
	}
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.count() >= MaxSensors {
		return View{}, "", ErrTooManySensor
	}
	cred, hash := newCredential()
	st := Stored{Sensor: Sensor{ID: NewID(), Name: name, Model: m.ID, State: Active, CreatedAt: s.cfg.Now().UTC().Truncate(time.Second), CreatedBy: by}, CredentialHash: hash}
	if err := s.cfg.Store.CreateSensor(ctx, st); err != nil {
		return View{}, "", err
	}
	e, _ := s.newEntry(st)
	s.mu.Lock()
	s.byID[st.ID] = e
	s.mu.Unlock()
	s.changed()
	s.event(ctx, events.SensorPaired, events.Info, by, "", st.ID+" "+name, st.ID, name, m.ID)
	return e.view(), cred, nil
}

func (s *Service) count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}

// Quarantine disconnects a sensor and refuses it until Release.
//
// TS-0045 5.3.1.15: a constrained sensor that cannot be updated can be isolated.
func (s *Service) Quarantine(ctx context.Context, by, id string) (View, error) {
	v, err := s.setState(ctx, id, Active, Quarantined)
	if err != nil {
		return View{}, err
	}
	s.disconnect(id)
	s.event(ctx, events.SensorQuarantined, events.Warning, by, "", id+" "+v.Name, id, v.Name)
	return v, nil
}

// Release lets a quarantined sensor connect again.
func (s *Service) Release(ctx context.Context, by, id string) (View, error) {
	v, err := s.setState(ctx, id, Quarantined, Active)
	if err != nil {
		return View{}, err
	}
	s.event(ctx, events.SensorReleased, events.Info, by, "", id+" "+v.Name, id, v.Name)
	return v, nil
}

func (s *Service) setState(ctx context.Context, id string, from, to State) (View, error) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	e, err := s.entry(id)
	if err != nil {
		return View{}, err
	}
	if e.State != from {
		return View{}, fmt.Errorf("%w: sensor is %s", ErrState, e.State)
	}
	if err := s.cfg.Store.SetSensorState(ctx, id, to); err != nil {
		return View{}, err
	}
	s.mu.Lock()
	e.State = to
	v := e.view()
	s.mu.Unlock()
	s.changed()
	return v, nil
}

// Replace retires a sensor and pairs its replacement, of the given model (empty: the
// model's declared replacement), under the same name. The old sensor's readings stay.
//
// TS-0045 5.3.1.15: the hardware of a sensor that cannot be updated can be replaced.
func (s *Service) Replace(ctx context.Context, by, id, modelID string) (View, Credential, error) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	old, err := s.entry(id)
	if err != nil {
		return View{}, "", err
	}
	if old.State == Retired {
		return View{}, "", fmt.Errorf("%w: sensor was already replaced", ErrState)
	}
	if modelID == "" {
		modelID = old.model.Replacement
	}
	m, ok := LookupModel(modelID)
	if !ok {
		return View{}, "", fmt.Errorf("%w %.32q", ErrUnknownModel, modelID)
	}
	cred, hash := newCredential()
	next := Stored{Sensor: Sensor{ID: NewID(), Name: old.Name, Model: m.ID, State: Active, CreatedAt: s.cfg.Now().UTC().Truncate(time.Second), CreatedBy: by, Replaces: id}, CredentialHash: hash}
	if err := s.cfg.Store.ReplaceSensor(ctx, id, next); err != nil {
		return View{}, "", err
	}
	e, _ := s.newEntry(next)
	s.mu.Lock()
	old.State, old.ReplacedBy, old.hash = Retired, next.ID, nil
	s.byID[next.ID] = e
	s.mu.Unlock()
	s.disconnect(id)
	s.changed()
	s.event(ctx, events.SensorReplaced, events.Info, by, "", id+" -> "+next.ID, old.Name, id, next.ID)
	return e.view(), cred, nil
}

// Remove unpairs a sensor and deletes its readings.
func (s *Service) Remove(ctx context.Context, by, id string) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	e, err := s.entry(id)
	if err != nil {
		return err
	}
	if err := s.unpair(ctx, id); err != nil {
		return err
	}
	s.changed()
	if err := s.cfg.Readings.DeleteSensor(ctx, id); err != nil {
		s.log.Error("readings of removed sensor not deleted", "sensor", id, "err", err)
	}
	s.event(ctx, events.SensorRemoved, events.Info, by, "", id+" "+e.Name, id, e.Name)
	return nil
}

// unpair deletes a sensor's pairing and disconnects it; its readings stay. Called with
// opMu held.
func (s *Service) unpair(ctx context.Context, id string) error {
	if err := s.cfg.Store.DeleteSensor(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
	s.disconnect(id)
	return nil
}

// EraseAll unpairs every sensor, disconnecting each, and deletes all readings,
// including those accepted but not yet committed. It raises no per-sensor events: it is
// part of deleting all user data, which empties the event log too.
//
// TS-0045 5.7.1.4: sensor pairings and readings are user data.
func (s *Service) EraseAll(ctx context.Context) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.RLock()
	ids := make([]string, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	s.mu.RUnlock()
	for _, id := range ids {
		if err := s.unpair(ctx, id); err != nil {
			return err
		}
	}
	s.changed()
	// Readings accepted before the disconnects are committed first, then deleted with
	// the rest: none can arrive later, as no sensor is known any more.
	if err := s.ingest.barrier(ctx); err != nil {
		return err
	}
	return s.cfg.Readings.DeleteAll(ctx)
}

// Authenticate checks a connecting sensor: a known, active sensor presenting its own
// credential, with the MQTT client ID equal to its sensor ID (so no sensor can take over
// another's session). Every refusal is a security event (rate-limited per source).
//
// TS-0045 5.4.2.4: a sensor is authenticated before it may publish.
func (s *Service) Authenticate(id, clientID string, credential []byte, remote string) error {
	// reason is for the log and the API; key says it in the reader's language.
	reason, key := "", ""
	switch {
	case id == "" && len(credential) == 0:
		reason, key = "anonymous", "@sensor.refused.anonymous"
	case !ValidID(id):
		reason, key = "unknown sensor", "@sensor.refused.unknown"
	case clientID != id:
		reason, key = "client ID differs from sensor ID", "@sensor.refused.client_id"
	}
	if reason == "" {
		s.mu.RLock()
		e, ok := s.byID[id]
		var hash []byte
		var st State
		if ok {
			hash, st = e.hash, e.State
		}
		s.mu.RUnlock()
		got := sha256.Sum256(credential)
		switch {
		case !ok:
			reason, key = "unknown sensor", "@sensor.refused.unknown"
		case subtle.ConstantTimeCompare(got[:], hash) != 1:
			reason, key = "wrong credential", "@sensor.refused.credential"
			if st == Retired {
				reason, key = "sensor was replaced", "@sensor.refused.replaced"
			}
		case st == Quarantined:
			reason, key = "sensor is quarantined", "@sensor.refused.quarantined"
		case st != Active:
			reason, key = "sensor is "+string(st), "@sensor.refused.replaced"
		}
	}
	if reason == "" {
		return nil
	}
	shown := id
	if !ValidID(id) {
		shown = strconv.QuoteToASCII(truncate(id, 32))
	}
	s.alarms.raise(events.SensorConnectRefused, events.Warning, remote, shown+": "+reason, shown, key)
	return fmt.Errorf("%w: %s", ErrRefused, reason)
}

// AllowTopic reports whether sensor id may publish to topic (write) or subscribe to a
// filter (!write). Sensors publish only their own readings and subscribe to nothing.
//
// TS-0045 5.4.2.4: each sensor reaches only its own topic.
func (s *Service) AllowTopic(id, topic string, write bool, remote string) bool {
	if write {
		if got, err := ParseTopic(topic); err == nil && got == id {
			return true
		}
	}
	verb, key := "publish to", "@sensor.refused.publish"
	if !write {
		verb, key = "subscribe to", "@sensor.refused.subscribe"
	}
	t := strconv.QuoteToASCII(truncate(topic, 64))
	s.alarms.raise(events.SensorTopicRefused, events.Warning, remote, id+": "+verb+" "+t, id, key, t)
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Accept validates a reading published by sensor id and queues it for storage. done
// runs exactly once, in the order readings were accepted: with nil once the reading is
// durably stored, or with why it was not (ErrInvalid wrapped: malformed, refused for
// good; ErrRateExceeded: the sensor is over its rate; any other error: storage failed).
// Accept blocks while the storage queue is full, which slows the publisher down rather
// than dropping its readings. It returns an error, and never calls done, when the
// sensor is not active or ctx ends.
func (s *Service) Accept(ctx context.Context, id string, payload []byte, remote string, done func(error)) error {
	now := s.cfg.Now()
	s.mu.RLock()
	e, ok := s.byID[id]
	var st State
	var m Model
	if ok {
		st, m = e.State, e.model
	}
	s.mu.RUnlock()
	if !ok || st != Active {
		return fmt.Errorf("%w: sensor is not active", ErrRefused)
	}
	if !e.limit.AllowN(now, 1) {
		s.alarms.raise(events.SensorRateExceeded, events.Warning, remote, id+": more readings than its model sends", id)
		return s.ingest.refuse(ctx, ErrRateExceeded, done)
	}
	r, err := ParseReading(payload, now)
	if err == nil && !m.Reports(r.Kind) {
		err = fmt.Errorf("%w: a %s does not measure %s", ErrInvalid, m.ID, r.Kind)
	}
	if err != nil {
		// The reason is in the detail (English, for the log and the API); the UI says
		// it in the reader's language without the parser's particulars.
		s.alarms.raise(events.SensorReadingRejected, events.Warning, remote, id+": "+err.Error(), id, "@sensor.refused.reading")
		return s.ingest.refuse(ctx, err, done)
	}
	e.lastSeen.Store(now.UnixNano())
	return s.ingest.submit(ctx, Record{Sensor: id, Reading: r, Received: now.UTC()}, done)
}

// Readings returns sensor id's readings with from <= time < to, oldest first, at most
// limit of them.
func (s *Service) Readings(ctx context.Context, id string, from, to time.Time, limit int) ([]Reading, error) {
	if _, err := s.Get(id); err != nil {
		return nil, err
	}
	return s.cfg.Readings.Readings(ctx, id, from, to, limit)
}

// Series returns sensor id's readings of one kind averaged over buckets of step, for
// charts.
func (s *Service) Series(ctx context.Context, id string, k Kind, from, to time.Time, step time.Duration) ([]Point, error) {
	if _, err := s.Get(id); err != nil {
		return nil, err
	}
	return s.cfg.Readings.Series(ctx, id, k, from, to, step)
}

// Run stores readings and applies retention until ctx ends; it then stores what was
// already accepted and returns.
func (s *Service) Run(ctx context.Context) {
	retained := make(chan struct{})
	go func() {
		defer close(retained)
		s.retain(ctx)
	}()
	s.ingest.run(ctx)
	// Returning means the stores are no longer used: the caller may close them.
	<-retained
}

// retain deletes readings past their retention hourly.
//
// TS-0045 5.6.1.1: storage stays bounded, so a full disk never stops the gateway.
func (s *Service) retain(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := s.cfg.Readings.Prune(ctx, s.cfg.Now().Add(-s.cfg.Retention), s.cfg.MaxReadings)
		if err != nil && ctx.Err() == nil {
			s.log.Error("readings retention failed", "err", err)
		} else if n > 0 {
			s.log.Info("readings past retention deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) event(ctx context.Context, k events.Kind, sev events.Severity, user, remote, detail string, args ...string) {
	s.cfg.Events.Publish(ctx, events.Event{Time: s.cfg.Now().UTC(), Kind: k, Severity: sev, User: user, Remote: remote, Detail: detail, Args: args})
}
