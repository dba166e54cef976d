// Package gateway wires hearthd together: keystore, device identity, database, account
// service and HTTPS API, and runs them until told to stop. cmd/hearthd is a thin flag
// parser around it; end-to-end tests and hearth-demo start the same code.
//
// The gateway listens on one TCP port (HTTPS), plus the sensor broker's MQTTS port while
// at least one sensor is paired, and opens no other socket: no plaintext listener, no
// debug endpoint, no discovery protocol.
//
// TS-0045 5.2.2.1, 5.2.2.5: only the services the product needs are enabled.
package gateway

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hearth/internal/alerts"
	"hearth/internal/api"
	"hearth/internal/atomicfile"
	"hearth/internal/auth"
	"hearth/internal/buildinfo"
	"hearth/internal/events"
	"hearth/internal/identity"
	"hearth/internal/keystore"
	"hearth/internal/keystore/tpm"
	"hearth/internal/outbox"
	"hearth/internal/privacy"
	"hearth/internal/settings"
	"hearth/internal/store/sqlite"
	"hearth/internal/tlspolicy"
	"hearth/internal/update"
)

// Config configures the gateway.
type Config struct {
	// DataDir holds the factory data written by provisioning and the gateway's state.
	DataDir string
	// HTTPSAddr is the listen address; ":0" picks a free port.
	HTTPSAddr string
	// MQTTSAddr is the sensor broker's listen address; empty means no sensors. Its
	// socket is open only while at least one sensor is paired and active.
	MQTTSAddr string
	// InsecureUnlimitedSensorRate lifts the per-sensor rate limit (benchmarks only;
	// refused in release builds).
	InsecureUnlimitedSensorRate bool
	// ReadyFile, when set, receives {"https_addr": ..., "mqtt_addr": ...} once the
	// gateway serves, and again whenever the MQTTS socket opens or closes.
	ReadyFile string
	// TPM is the TPM 2.0 that wraps the keystore's data key (a device such as
	// /dev/tpmrm0, or a swtpm socket); empty means the keystore uses its host key.
	TPM string
	// IntegrityInterval is how often the installed programs are checked against their
	// signed release metadata; zero means DefaultIntegrityInterval.
	IntegrityInterval time.Duration
	// AlertCA is a PEM file of a CA that alert deliveries (webhooks, the mail relay) trust
	// besides the system's, for an owner's own servers; empty: the system's only.
	AlertCA string
	// CloudURL is the vendor services (https://host:port); empty means none: the device
	// works locally and does not renew its certificates.
	CloudURL string
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
	// Lockout is the brute-force policy; zero means auth.DefaultLockout.
	Lockout auth.LockoutPolicy
	// InsecureAllowShortLockout allows lock periods under a minute (tests only; refused
	// in release builds).
	InsecureAllowShortLockout bool
	Log                       *slog.Logger
}

// DefaultHTTPSAddr is where hearthd listens unless told otherwise.
const DefaultHTTPSAddr = ":8443"

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("gateway: data directory is required")
	}
	if c.IntegrityInterval != 0 && c.IntegrityInterval < MinIntegrityInterval {
		return fmt.Errorf("gateway: integrity check interval must be at least %s", MinIntegrityInterval)
	}
	if c.InsecureUnlimitedSensorRate {
		if err := buildinfo.RefuseInsecure("--insecure-unlimited-sensor-rate"); err != nil {
			return err
		}
	}
	if c.InsecureAllowShortLockout {
		if err := buildinfo.RefuseInsecure("--insecure-allow-short-lockout"); err != nil {
			return err
		}
	}
	return nil
}

// Main is a running gateway.
type Main struct {
	cfg   Config
	log   *slog.Logger
	db    *sqlite.DB
	evlog *sqlite.EventLog
	// events is evlog plus the copy of warnings for the vendor cloud.
	events *eventLog
	// outbox is nil without vendor services.
	outbox *outbox.Outbox
	auth   *auth.Service
	// id is the current identity; renewal replaces it.
	id     atomic.Pointer[identity.Identity]
	server *http.Server
	ln     net.Listener
	ks     *keystore.Store
	// consents are the owner's choices per purpose; eraser deletes user data.
	consents *privacy.ConsentService
	eraser   *privacy.Eraser
	backupMu sync.Mutex // one backup run at a time
	// alerts delivers alerts on security events.
	alerts *alerts.Alerter
	// integrity watches the installed programs.
	integrity integrityMonitor
	// updates is nil when the device has no A/B slots or no vendor services.
	updates *update.Scheduler
	restart chan struct{}
	// sensors is nil when the gateway runs without sensors.
	sensors *sensorsPart
	readyMu sync.Mutex
	// closers release what Close must release besides the database.
	closers []func() error
}

// New opens everything the gateway needs without listening yet. It refuses to start on a
// tampered identity or, in release builds, outside FIPS mode.
func New(ctx context.Context, cfg Config) (*Main, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.HTTPSAddr == "" {
		cfg.HTTPSAddr = DefaultHTTPSAddr
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	fips, module := buildinfo.FIPS()
	if buildinfo.Release() && !fips {
		return nil, errors.New("gateway: release builds run only in FIPS 140-3 mode (GODEBUG=fips140=on)")
	}
	m := &Main{cfg: cfg, log: cfg.Log, restart: make(chan struct{}, 1)}
	m.integrity.m = m
	if err := m.open(ctx); err != nil {
		m.Close()
		return nil, err
	}
	m.log.Info("gateway initialised", "version", buildinfo.Version(), "fips140", fips, "crypto_module", module, "serial", m.identity().Info.Serial)
	return m, nil
}

func (m *Main) open(ctx context.Context) error {
	var err error
	if m.db, err = sqlite.Open(ctx, filepath.Join(m.cfg.DataDir, "hearthd.db")); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	m.evlog = &sqlite.EventLog{DB: m.db, Log: m.log}
	m.events = &eventLog{EventLog: m.evlog}
	ks, err := m.openKeystore()
	if err != nil {
		m.alarm(ctx, events.KeystoreUnreadable, err)
		return fmt.Errorf("gateway: %w", err)
	}
	id, err := identity.Load(m.cfg.DataDir, ks)
	if err != nil {
		m.alarm(ctx, events.IdentityMismatch, err)
		return fmt.Errorf("gateway: %w", err)
	}
	m.id.Store(id)
	m.ks = ks
	fields, err := ks.Field(fieldKey)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	m.db.SealFields(fields)
	info := id.Info
	m.auth, err = auth.New(auth.Config{
		Lockout: m.cfg.Lockout, InsecureAllowShortLockout: m.cfg.InsecureAllowShortLockout,
		DefaultPasswordHash: id.DefaultPasswordHash, DeviceWords: []string{info.Model, info.Name, info.Serial, info.Vendor},
		Log: m.log,
	}, m.db, m.events)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	if err := m.auth.EnsureOwner(ctx, info.Username, id.DefaultPasswordHash); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	if err := m.openSensors(ctx); err != nil {
		return err
	}
	if err := m.buildServer(ctx); err != nil {
		return err
	}
	// A deletion of user data that a power loss interrupted is finished before the
	// gateway serves anyone.
	return m.eraser.Resume(ctx)
}

// identity returns the current device identity.
func (m *Main) identity() *identity.Identity { return m.id.Load() }

// setIdentity switches to a renewed identity; new TLS handshakes present it at once.
func (m *Main) setIdentity(id *identity.Identity) { m.id.Store(id) }

func (m *Main) now() time.Time {
	if m.cfg.Now != nil {
		return m.cfg.Now()
	}
	return time.Now()
}

// alarm records why the gateway refuses to start, in the persistent security event log,
// so the owner sees it once the cause is repaired.
//
// TS-0045 5.4.1.2: a changed serial, swapped key or certificate is raised as an event.
func (m *Main) alarm(ctx context.Context, kind events.Kind, cause error) {
	m.evlog.Publish(ctx, events.Event{Time: time.Now().UTC(), Kind: kind, Severity: events.Critical, Detail: cause.Error()})
}

// openKeystore unlocks the keystore with the TPM when one is configured, else the host key.
func (m *Main) openKeystore() (*keystore.Store, error) {
	dir := filepath.Join(m.cfg.DataDir, identity.KeystoreDir)
	if m.cfg.TPM == "" {
		return keystore.Open(dir, keystore.NewHostKey(dir))
	}
	w, err := tpm.Open(m.cfg.TPM)
	if err != nil {
		return nil, err
	}
	m.closers = append(m.closers, w.Close)
	return keystore.Open(dir, w)
}

func (m *Main) buildServer(ctx context.Context) error {
	fips, module := buildinfo.FIPS()
	info := m.identity().Info
	set := settings.New(m.db, m.auth, m.events, nil)
	if err := m.openPrivacy(ctx); err != nil {
		return err
	}
	if err := m.openAlerts(); err != nil {
		return err
	}
	if err := m.openOutbox(); err != nil {
		return err
	}
	if err := m.newUpdates(set); err != nil {
		return err
	}
	a, err := api.New(api.Config{Auth: m.auth, Settings: set, Events: m.events, Log: m.log, Updates: m.updatesOrNil(), Sensors: m.sensorsOrNil(), SensorsAddr: m.mqttAddr,
		Consents: m.consents, Eraser: m.eraser, ExportEvents: m.exportEvents,
		Alerts: &api.Alerts{Alerter: m.alerts, Save: m.SetAlertSettings}, Device: api.Device{
			Vendor: info.Vendor, Model: info.Model, Name: info.Name, Serial: info.Serial,
			FirmwareVersion: buildinfo.Version(), SupportEnd: info.SupportEnd, FIPSMode: fips, CryptoModule: module,
		}})
	if err != nil {
		return err
	}
	tlsCfg, err := tlspolicy.Server(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return m.identity().ServerCertificate(), nil })
	if err != nil {
		return err
	}
	m.server = &http.Server{
		Handler:           a.Handler(),
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		// Handshake failures from scanners are routine; keep them out of the error log.
		ErrorLog: log.New(slogWriter{m.log}, "", 0),
	}
	return nil
}

// Run listens and serves until ctx is done, then shuts down gracefully.
func (m *Main) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", m.cfg.HTTPSAddr)
	if err != nil {
		return fmt.Errorf("gateway: listen: %w", err)
	}
	m.ln = newLimitListener(ln, perSourceConns, totalConns)
	m.evlog.Publish(ctx, events.Event{Time: time.Now().UTC(), Kind: events.GatewayStarted, Severity: events.Info, Detail: "firmware " + buildinfo.Version(), Args: []string{buildinfo.Version()}})
	errc := make(chan error, 1)
	go func() { errc <- m.server.ServeTLS(m.ln, "", "") }()
	go m.janitor(ctx)
	if m.cfg.CloudURL != "" {
		r, err := newRenewer(m, m.cfg.CloudURL, m.now, renewTick)
		if err != nil {
			m.server.Close()
			return err
		}
		go r.run(ctx, renewTick)
	}
	if m.updates != nil {
		go m.updates.Run(ctx)
	}
	go m.eraser.Run(ctx)
	go m.alerts.Run(ctx)
	m.collectCrashes(ctx)
	every := m.cfg.IntegrityInterval
	if every == 0 {
		every = DefaultIntegrityInterval
	}
	go m.integrity.run(ctx, every)
	octx, stopOutbox := context.WithCancel(ctx)
	outboxDone := make(chan struct{})
	go func() {
		m.runOutbox(octx)
		close(outboxDone)
	}()
	defer func() {
		stopOutbox()
		<-outboxDone
	}()
	sctx, stopSensors := context.WithCancel(ctx)
	defer m.stopSensors(stopSensors)
	if err := m.startSensors(sctx); err != nil {
		m.server.Close()
		return err
	}
	if err := m.writeReady(); err != nil {
		m.server.Close()
		return err
	}
	m.log.Info("gateway ready", "https_addr", m.Addr(), "mqtt_addr", m.mqttAddr())
	// What starting left behind (parsed templates' and API document's scaffolding,
	// migration work) is garbage now: collect it and give the memory back at once
	// rather than keep it until the runtime gets round to it.
	debug.FreeOSMemory()
	var stopped error
	select {
	case err := <-errc:
		return fmt.Errorf("gateway: serve: %w", err)
	case <-ctx.Done():
	case <-m.restart:
		stopped = ErrRestart
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return errors.Join(m.server.Shutdown(shut), stopped)
}

// ErrRestart is returned by Run when an update was installed and hearthd must end so
// the launcher starts the new slot.
var ErrRestart = errors.New("gateway: restarting into an installed update")

// requestRestart asks Run to end with ErrRestart.
func (m *Main) requestRestart() {
	select {
	case m.restart <- struct{}{}:
	default:
	}
}

// newUpdates sets up the update agent when the device runs from A/B slots and knows its
// vendor services.
func (m *Main) newUpdates(set *settings.Service) error {
	if m.cfg.CloudURL == "" {
		return nil
	}
	if _, err := update.LoadState(m.cfg.DataDir); err != nil {
		m.log.Info("updates unavailable: not running from A/B slots", "err", err)
		return nil
	}
	_, client, err := m.vendorClient(m.cfg.CloudURL)
	if err != nil {
		return err
	}
	agent, err := update.NewAgent(update.AgentConfig{DataDir: m.cfg.DataDir, RepositoryURL: strings.TrimSuffix(m.cfg.CloudURL, "/") + "/tuf",
		Client: client, Vault: m.ks, Serial: m.identity().Info.Serial, Current: buildinfo.Version(), Log: m.log, Now: m.now})
	if err != nil {
		return err
	}
	m.updates = update.NewScheduler(agent, set, m.events, m.requestRestart)
	return nil
}

// updatesOrNil returns the scheduler as the API's interface, or a nil interface.
func (m *Main) updatesOrNil() api.Updates {
	if m.updates == nil {
		return nil
	}
	return m.updates
}

// Addr is the address the gateway listens on, once Run has started.
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

func (m *Main) writeReady() error {
	if m.cfg.ReadyFile == "" {
		return nil
	}
	m.readyMu.Lock()
	defer m.readyMu.Unlock()
	b, _ := json.Marshal(map[string]any{"https_addr": m.Addr(), "mqtt_addr": m.mqttAddr(), "pid": os.Getpid()})
	return atomicfile.Write(m.cfg.ReadyFile, append(b, '\n'), 0o644)
}

// exportEvents is the signed event log for the owner.
func (m *Main) exportEvents(ctx context.Context) (events.Export, error) {
	id := m.identity()
	return m.evlog.Export(ctx, id.Signer, id.Info.Serial, id.Chain, m.now())
}

// janitor prunes expired sessions and stale lock states, and signs the event log's
// head every ten minutes.
//
// TS-0045 5.8.1.1: the device vouches for its log periodically, so entries altered
// later are told apart from what it signed.
func (m *Main) janitor(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.auth.Prune(ctx); err != nil {
				m.log.Warn("prune failed", "err", err)
			}
			if err := m.evlog.SignHead(ctx, m.identity().Signer, m.now()); err != nil {
				m.log.Warn("event log head not signed", "err", err)
			}
		}
	}
}

// Close releases the database and the TPM connection.
func (m *Main) Close() error {
	var errs []error
	if m.outbox != nil {
		errs = append(errs, m.outbox.Close())
	}
	if m.db != nil {
		errs = append(errs, m.db.Close())
	}
	for _, c := range m.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug("http server", "msg", string(p))
	return len(p), nil
}
