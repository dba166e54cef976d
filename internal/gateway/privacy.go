package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hearth/internal/outbox"
	"hearth/internal/privacy"
	"hearth/internal/store/sqlite"
)

// fieldKey is the keystore record whose key seals password hashes and sensor
// credentials in the database.
const fieldKey = "db-fields"

// openPrivacy sets up the owner's consents and the deletion of user data.
func (m *Main) openPrivacy(ctx context.Context) error {
	var err error
	m.consents, err = privacy.NewConsentService(ctx, privacy.ConsentConfig{Store: m.db, Authz: m.auth, Events: m.events, Now: m.cfg.Now,
		Changed: m.consentChanged})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	var vendor privacy.VendorEraser
	if m.cfg.CloudURL != "" {
		_, client, err := m.vendorClient(m.cfg.CloudURL)
		if err != nil {
			return err
		}
		vendor = &vendorPrivacy{client: client, base: strings.TrimSuffix(m.cfg.CloudURL, "/") + "/v1/privacy"}
	}
	m.eraser, err = privacy.NewEraser(privacy.EraserConfig{Path: filepath.Join(m.cfg.DataDir, privacy.ErasureFile), Parts: m.erasureParts(),
		Vendor: vendor, Authz: m.auth, Events: m.events, Log: m.log, Now: m.cfg.Now})
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// consentChanged applies a choice at once: a withdrawal deletes what is queued for the
// purpose, and the vendor is told of every change (the consent document itself needs
// no consent).
//
// TS-0045 5.7.1.10: a withdrawal reaches the vendor, which then refuses the purpose's
// data.
func (m *Main) consentChanged(ctx context.Context, c privacy.Consent) {
	if m.outbox == nil {
		return
	}
	if !c.Granted {
		m.outbox.PurgeWithdrawn(ctx)
	}
	doc, _ := json.Marshal(c.Doc())
	if err := m.outbox.Enqueue(context.WithoutCancel(ctx), outbox.KindConsent, doc); err != nil {
		m.log.Error("consent change not queued for the vendor", "purpose", c.Purpose, "err", err)
	}
	if c.Purpose == privacy.PurposeCloudBackup && c.Granted {
		go func() {
			if err := m.queueBackup(context.WithoutCancel(ctx)); err != nil {
				m.log.Warn("backup of readings not queued", "err", err)
			}
		}()
	}
}

// erasureParts are the gateway's user data, in the order "delete my data" removes
// them: first what could still be sent or written (sensors and their readings, the
// queue for the vendor), then the database rows, then the key that sealed secrets in
// them, and finally the factory owner account again. Every part is idempotent.
//
// TS-0045 5.7.1.4: the device keeps its identity, firmware and anti-rollback state;
// everything of its users goes.
func (m *Main) erasureParts() []privacy.Part {
	return []privacy.Part{
		{Name: "sensors", Erase: m.eraseSensors},
		{Name: "vendor_queue", Erase: m.eraseQueue},
		{Name: "crash_reports", Erase: func(context.Context) error { return os.RemoveAll(filepath.Join(m.cfg.DataDir, CrashDir)) }},
		{Name: "alerts", Erase: m.eraseAlerts},
		{Name: "database", Erase: m.db.EraseUserData},
		{Name: "sealing_key", Erase: m.rotateFieldKey},
		{Name: "factory_accounts", Erase: m.factoryAccounts},
	}
}

// eraseSensors unpairs every sensor and deletes all readings; without a running broker
// the readings file, if any, is emptied directly.
func (m *Main) eraseSensors(ctx context.Context) error {
	m.backupMu.Lock() // no backup run reads the readings while they go
	defer m.backupMu.Unlock()
	if s := m.sensorsOrNil(); s != nil {
		return s.EraseAll(ctx)
	}
	path := filepath.Join(m.cfg.DataDir, ReadingsFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	r, err := sqlite.OpenReadings(ctx, path)
	if err != nil {
		return err
	}
	return errors.Join(r.DeleteAll(ctx), r.Close())
}

// eraseQueue empties the queue for the vendor and gives the device a new pseudonym.
func (m *Main) eraseQueue(ctx context.Context) error {
	if m.outbox != nil {
		return m.outbox.Reset(ctx)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(m.cfg.DataDir, OutboxFile+suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// rotateFieldKey destroys the key that sealed password hashes and sensor credentials
// and starts using a new one, and destroys the key of the readings backed up at the
// vendor: any copy of a sealed value left in a free block of the flash, or at the
// vendor, is unreadable from now on (crypto-erase).
func (m *Main) rotateFieldKey(context.Context) error {
	if err := m.ks.Delete(backupKey); err != nil {
		return err
	}
	if err := m.ks.Delete(fieldKey); err != nil {
		return err
	}
	fields, err := m.ks.Field(fieldKey)
	if err != nil {
		return err
	}
	m.db.SealFields(fields)
	return nil
}

// factoryAccounts recreates the owner account as provisioned (the label's user name
// and password, to be changed at first sign-in) and forgets the consents.
func (m *Main) factoryAccounts(ctx context.Context) error {
	id := m.identity()
	if err := m.auth.EnsureOwner(ctx, id.Info.Username, id.DefaultPasswordHash); err != nil {
		return err
	}
	return m.consents.Reload(ctx)
}

// FactoryReset deletes all user data of the gateway in dataDir, as "delete my data"
// does, for the local console: hearthd must not be running. The vendor is asked to
// delete its copy the next time the gateway runs with its vendor services.
func FactoryReset(ctx context.Context, cfg Config) (privacy.Erasure, error) {
	m, err := New(ctx, cfg)
	if err != nil {
		return privacy.Erasure{}, err
	}
	defer m.Close()
	st, _, err := m.eraser.RequestFromConsole(ctx)
	return st, err
}

// vendorPrivacy is the vendor's privacy service over the device's mutual TLS.
type vendorPrivacy struct {
	client *http.Client
	base   string // https://host:port/v1/privacy
}

// Erase implements privacy.VendorEraser.
func (v *vendorPrivacy) Erase(ctx context.Context, request string) (privacy.EraseReceipt, error) {
	var rec privacy.EraseReceipt
	body, _ := json.Marshal(privacy.EraseRequest{Request: request})
	err := v.call(ctx, http.MethodPost, "/erase", body, &rec)
	return rec, err
}

// Held implements privacy.VendorEraser: the records and consents in the vendor's
// export of this device.
func (v *vendorPrivacy) Held(ctx context.Context) (int, error) {
	var exp struct {
		Consents []json.RawMessage `json:"consents"`
		Records  []json.RawMessage `json:"records"`
	}
	if err := v.call(ctx, http.MethodGet, "/export", nil, &exp); err != nil {
		return 0, err
	}
	return len(exp.Consents) + len(exp.Records), nil
}

// maxVendorExport bounds the export passed on to the owner (the vendor refuses larger
// ones with 413).
const maxVendorExport = 32 << 20

// Export implements privacy.VendorEraser: the vendor's answer is streamed to w, not
// held in memory.
func (v *vendorPrivacy) Export(ctx context.Context, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.base+"/export", nil)
	if err != nil {
		return err
	}
	res, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 200))
		return fmt.Errorf("vendor export: %s: %s", res.Status, bytes.TrimSpace(msg))
	}
	_, err = io.Copy(w, io.LimitReader(res.Body, maxVendorExport))
	return err
}

// maxVendorAnswer bounds what is read of an answer; an export of a device whose data
// was deleted is small.
const maxVendorAnswer = 4 << 20

func (v *vendorPrivacy) call(ctx context.Context, method, path string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, v.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxVendorAnswer+1))
	if err != nil {
		return err
	}
	if len(raw) > maxVendorAnswer {
		return fmt.Errorf("vendor %s %s: answer too large", method, path)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("vendor %s %s: %s: %s", method, path, res.Status, bytes.TrimSpace(raw[:min(len(raw), 200)]))
	}
	return json.Unmarshal(raw, out)
}
