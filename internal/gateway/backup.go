package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"hearth/internal/outbox"
	"hearth/internal/privacy"
)

// backupKey is the keystore record whose key seals the readings sent to the vendor as
// backup: it never leaves the gateway, so the vendor holds ciphertext only.
const backupKey = "backup-key"

// backupCursor is the settings row holding the id of the last reading backed up. It is
// user data: deleting all data empties it with the rest.
const backupCursor = "backup_cursor"

// Backup documents: at most backupRows readings each (well under outbox.MaxDocBytes
// once sealed and base64-encoded), at most backupDocs per run.
const (
	backupRows = 600
	backupDocs = 200
)

// backupDoc is a KindBackup document: the readings with ids from..to, sealed.
type backupDoc struct {
	V      int    `json:"v"`
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Count  int    `json:"count"`
	Sealed string `json:"sealed"` // base64 of AES-256-GCM, bound to the range
}

// queueBackup queues the readings stored since the last backup, sealed under the
// backup key, when the owner consents to cloud backup. It runs with the hourly summary
// and when the consent is given.
//
// TS-0045 5.7.1.2: sensitive personal data leaves the device encrypted end to end
// (AES-256-GCM under a key only the gateway has), inside mutual TLS.
// TS-0045 5.7.1.9: only with the owner's consent to cloud backup.
func (m *Main) queueBackup(ctx context.Context) error {
	// A deletion of user data under way finishes first (Status waits for it); one that
	// starts later waits for this run in its first part (eraseSensors).
	m.eraser.Status()
	m.backupMu.Lock()
	defer m.backupMu.Unlock()
	sp := m.sensors
	if m.outbox == nil || sp == nil || !m.consents.Allowed(privacy.PurposeCloudBackup) {
		return nil
	}
	sealer, err := m.ks.Field(backupKey)
	if err != nil {
		return err
	}
	raw, err := m.db.Settings(ctx)
	if err != nil {
		return err
	}
	cursor, _ := strconv.ParseInt(raw[backupCursor], 10, 64)
	for range backupDocs {
		rows, maxID, err := sp.readings.After(ctx, cursor, backupRows)
		if err != nil {
			return err
		}
		if cursor > maxID {
			cursor = 0 // the readings were emptied since the last backup
			continue
		}
		if len(rows) == 0 {
			return nil
		}
		plain, _ := json.Marshal(rows)
		from, to := rows[0].ID, rows[len(rows)-1].ID
		sealed, err := sealer.Seal(fmt.Sprintf("backup:%d-%d", from, to), plain)
		if err != nil {
			return err
		}
		doc, _ := json.Marshal(backupDoc{V: 1, From: from, To: to, Count: len(rows), Sealed: base64.StdEncoding.EncodeToString(sealed)})
		if err := m.outbox.Enqueue(ctx, outbox.KindBackup, doc); err != nil {
			if errors.Is(err, outbox.ErrNotAllowed) {
				return nil // withdrawn meanwhile
			}
			return err
		}
		cursor = to
		if err := m.db.SetSettings(ctx, map[string]string{backupCursor: strconv.FormatInt(cursor, 10)}); err != nil {
			return err
		}
	}
	return nil
}
