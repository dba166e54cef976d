package cloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/privacy"
)

// Categories of deleted data counted in an erasure receipt.
const (
	DeletedTelemetry    = "telemetry_records" // telemetry and security events
	DeletedCrashReports = "crash_reports"
	DeletedBackups      = "backups"
	DeletedConsents     = "consent_records"
	DeletedFiles        = "files"
)

// ErrNoReceipt means there is no receipt for a request of the unit.
var ErrNoReceipt = errors.New("no such erasure request")

// eraseIntent is written before anything is deleted: which unit, which request, the
// streams to delete and the counts for the receipt. A crash leaves it behind, and the
// next start finishes the erasure from it.
type eraseIntent struct {
	Serial     string           `json:"serial"`
	Request    string           `json:"request"`
	ReceivedAt time.Time        `json:"received_at"`
	Streams    []string         `json:"streams"`
	Deleted    map[string]int64 `json:"deleted"`
}

func (l *ledger) erasureDir(serial string) string {
	return filepath.Join(l.vendor, erasuresDir, serial)
}

// erase deletes everything held for a unit, its records of every stream and its
// register, and keeps a receipt. The same request again returns the same receipt.
//
// TS-0045 5.7.1.5: the personal data the associated services hold is deleted at the
// unit's request. TS-0045 5.7.1.7: the receipt tells the unit that, and when, deletion
// completed.
func (l *ledger) erase(serial, request string) (privacy.EraseReceipt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, err := readReceipt(l.vendor, serial, request); !errors.Is(err, ErrNoReceipt) {
		return r, err
	}
	dir := l.erasureDir(serial)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return privacy.EraseReceipt{}, err
	}
	intentPath := filepath.Join(dir, request+".intent")
	var in eraseIntent
	b, err := os.ReadFile(intentPath)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &in); err != nil {
			return privacy.EraseReceipt{}, fmt.Errorf("read %s: %w", intentPath, err)
		}
	case errors.Is(err, os.ErrNotExist):
		if in, err = l.intent(serial, request); err != nil {
			return privacy.EraseReceipt{}, err
		}
		b, _ := json.Marshal(in)
		if err := atomicfile.Write(intentPath, b, 0o600); err != nil {
			return privacy.EraseReceipt{}, err
		}
	default:
		return privacy.EraseReceipt{}, err
	}
	return l.finish(in)
}

// intent counts what an erasure will delete.
func (l *ledger) intent(serial, request string) (eraseIntent, error) {
	u := l.unit(serial)
	in := eraseIntent{Serial: serial, Request: request, ReceivedAt: l.now().UTC(), Streams: slices.Clone(u.streams),
		Deleted: map[string]int64{DeletedTelemetry: 0, DeletedCrashReports: 0, DeletedBackups: 0, DeletedFiles: 0,
			DeletedConsents: int64(len(u.consents))}}
	if _, err := os.Stat(registerPath(l.vendor, serial)); err == nil {
		in.Deleted[DeletedFiles]++
	}
	for _, s := range u.streams {
		path := streamPath(l.vendor, s)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		in.Deleted[DeletedFiles]++
		err := readRecords(path, l.log, func(r Record, _ int) error {
			switch p, _ := privacy.PurposeOf(r.Kind); p {
			case privacy.PurposeCrashReports:
				in.Deleted[DeletedCrashReports]++
			case privacy.PurposeCloudBackup:
				in.Deleted[DeletedBackups]++
			default:
				in.Deleted[DeletedTelemetry]++
			}
			return nil
		})
		if err != nil {
			return in, err
		}
	}
	return in, nil
}

// finish carries out an intent: the stream files first, then the register (which
// names them), then the receipt replaces the intent. Each step survives a crash and a
// deleted file stays deleted.
func (l *ledger) finish(in eraseIntent) (privacy.EraseReceipt, error) {
	for _, s := range in.Streams {
		if err := removeIfExists(streamPath(l.vendor, s)); err != nil {
			return privacy.EraseReceipt{}, err
		}
	}
	if err := atomicfile.SyncDir(filepath.Join(l.vendor, telemetryDir)); err != nil {
		return privacy.EraseReceipt{}, err
	}
	if err := removeIfExists(registerPath(l.vendor, in.Serial)); err != nil {
		return privacy.EraseReceipt{}, err
	}
	if err := atomicfile.SyncDir(filepath.Join(l.vendor, devicesDir)); err != nil {
		return privacy.EraseReceipt{}, err
	}
	if u, ok := l.units[in.Serial]; ok {
		for _, s := range u.streams {
			delete(l.owner, s)
			delete(l.dataLast, s)
		}
		delete(l.units, in.Serial)
	}
	for _, s := range in.Streams {
		delete(l.owner, s)
		delete(l.dataLast, s)
	}
	r := privacy.EraseReceipt{Request: in.Request, Status: privacy.EraseCompleted, ReceivedAt: in.ReceivedAt,
		CompletedAt: l.now().UTC(), Deleted: in.Deleted}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return r, err
	}
	dir := l.erasureDir(in.Serial)
	if err := atomicfile.Write(filepath.Join(dir, in.Request+".json"), append(b, '\n'), 0o600); err != nil {
		return r, err
	}
	if err := removeIfExists(filepath.Join(dir, in.Request+".intent")); err != nil {
		return r, err
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return r, err
	}
	l.log.Info("unit data erased", "serial", in.Serial, "request", in.Request, "deleted", in.Deleted)
	return r, nil
}

// resumeErasures finishes every erasure whose intent a crash left behind.
func (l *ledger) resumeErasures() error {
	intents, err := filepath.Glob(filepath.Join(l.vendor, erasuresDir, "*", "*.intent"))
	if err != nil {
		return err
	}
	for _, path := range intents {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var in eraseIntent
		if err := json.Unmarshal(b, &in); err != nil || !validSerialName(in.Serial) || !privacy.IsID(in.Request) ||
			filepath.Base(filepath.Dir(path)) != in.Serial || filepath.Base(path) != in.Request+".intent" {
			return fmt.Errorf("erasure intent %s is unreadable: finish or remove it by hand", path)
		}
		if slices.ContainsFunc(in.Streams, func(s string) bool { return !privacy.IsID(s) }) {
			return fmt.Errorf("erasure intent %s names an invalid stream", path)
		}
		l.log.Warn("finishing an interrupted erasure", "serial", in.Serial, "request", in.Request)
		if _, err := l.finish(in); err != nil {
			return fmt.Errorf("finish erasure %s: %w", path, err)
		}
	}
	return nil
}

// receipt returns the receipt of a unit's request.
func (l *ledger) receipt(serial, request string) (privacy.EraseReceipt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return readReceipt(l.vendor, serial, request)
}

func readReceipt(vendor, serial, request string) (privacy.EraseReceipt, error) {
	var r privacy.EraseReceipt
	if !privacy.IsID(request) || !validSerialName(serial) {
		return r, ErrNoReceipt
	}
	b, err := os.ReadFile(filepath.Join(vendor, erasuresDir, serial, request+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return r, ErrNoReceipt
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("read receipt %s: %w", request, err)
	}
	return r, nil
}

// readReceipts returns a unit's receipts, oldest first.
func readReceipts(vendor, serial string) ([]privacy.EraseReceipt, error) {
	names, err := os.ReadDir(filepath.Join(vendor, erasuresDir, serial))
	if errors.Is(err, os.ErrNotExist) {
		return []privacy.EraseReceipt{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []privacy.EraseReceipt{}
	for _, n := range names {
		req, ok := strings.CutSuffix(n.Name(), ".json")
		if !ok || !privacy.IsID(req) {
			continue
		}
		r, err := readReceipt(vendor, serial, req)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b privacy.EraseReceipt) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	return out, nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
