package cloud

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/provision"
)

// Limits on a telemetry batch (POST /v1/telemetry). A gateway's outbox sends at most
// 100 items and 160 KiB of documents per batch, well inside them.
const (
	maxTelemetryBody  = 256 << 10
	maxTelemetryItems = 256
	maxTelemetryDoc   = 64 << 10
	maxTelemetrySeq   = 1 << 53 // exact in every JSON implementation
)

// telemetryKinds are the kinds of documents the cloud accepts.
var telemetryKinds = map[string]bool{"security_event": true, "telemetry": true}

// TelemetryBatch is a gateway outbox's batch:
// {"stream":"<32 hex>","items":[{"seq":N,"kind":"...","time":"RFC 3339","doc":{...}}],"dropped":N}.
// Sequence numbers are unique and increasing within a stream; dropped counts the items
// the gateway discarded for lack of space since its last acknowledged batch.
type TelemetryBatch struct {
	Stream  string          `json:"stream"`
	Items   []TelemetryItem `json:"items"`
	Dropped int64           `json:"dropped"`
}

// TelemetryItem is one document of a batch.
type TelemetryItem struct {
	Seq  int64           `json:"seq"`
	Kind string          `json:"kind"`
	Time string          `json:"time"`
	Doc  json.RawMessage `json:"doc"`
}

// ParseTelemetryBatch decodes and validates a batch strictly: one JSON object with no
// unknown fields and nothing after it, 1 to 256 items, known kinds, RFC 3339 times,
// each document a JSON object of at most 64 KiB, sequence numbers positive and strictly
// increasing, dropped not negative. Documents are returned compacted.
//
// TS-0045 5.5.2.1: data received from devices is validated before it is stored.
func ParseTelemetryBatch(body []byte) (TelemetryBatch, error) {
	var b TelemetryBatch
	if len(body) > maxTelemetryBody {
		return b, errors.New("batch too large")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, fmt.Errorf("malformed batch: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return b, errors.New("data after the batch")
	}
	if len(b.Stream) != 32 || !isLowerHex(b.Stream) {
		return b, errors.New("stream must be 32 lowercase hex digits")
	}
	if len(b.Items) == 0 || len(b.Items) > maxTelemetryItems {
		return b, fmt.Errorf("a batch holds 1 to %d items", maxTelemetryItems)
	}
	if b.Dropped < 0 || b.Dropped > maxTelemetrySeq {
		return b, errors.New("dropped out of range")
	}
	for i := range b.Items {
		if err := checkItem(&b.Items[i]); err != nil {
			return b, fmt.Errorf("item %d: %w", i, err)
		}
		if i > 0 && b.Items[i].Seq <= b.Items[i-1].Seq {
			return b, fmt.Errorf("item %d: sequence numbers must increase", i)
		}
	}
	return b, nil
}

func checkItem(it *TelemetryItem) error {
	if it.Seq <= 0 || it.Seq > maxTelemetrySeq {
		return errors.New("seq out of range")
	}
	if !telemetryKinds[it.Kind] {
		return errors.New("unknown kind")
	}
	if _, err := time.Parse(time.RFC3339Nano, it.Time); err != nil {
		return errors.New("time is not RFC 3339")
	}
	if len(it.Doc) > maxTelemetryDoc {
		return errors.New("document too large")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, it.Doc); err != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return errors.New("document must be a JSON object")
	}
	it.Doc = buf.Bytes()
	return nil
}

func isLowerHex(s string) bool {
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// telemetryRecord is one stored line; dropped is set on the first item of a batch that
// reported drops.
type telemetryRecord struct {
	Received time.Time       `json:"received"`
	Stream   string          `json:"stream"`
	Seq      int64           `json:"seq"`
	Kind     string          `json:"kind"`
	Time     string          `json:"time"`
	Doc      json.RawMessage `json:"doc"`
	Dropped  int64           `json:"dropped_before,omitempty"`
}

// telemetry receives the gateways' batches and keeps them per unit in an append-only
// JSON-lines file, <vendor>/telemetry/<serial>.jsonl, fsynced before the batch is
// acknowledged. Retried batches are idempotent: an item whose (unit, stream, seq) is
// already stored is skipped, so a gateway that lost an acknowledgement may resend.
//
// One process serves a vendor directory (as for the device registry): the last stored
// sequence number of each stream is kept in memory, read from the file on first use.
type telemetry struct {
	dir string
	cfg Config

	mu   sync.Mutex
	last map[string]map[string]int64 // serial -> stream -> last stored seq
}

func newTelemetry(cfg Config) *telemetry {
	return &telemetry{dir: filepath.Join(cfg.VendorDir, "telemetry"), cfg: cfg, last: map[string]map[string]int64{}}
}

// TelemetryResponse tells the gateway how many items were new and how many it had sent
// before.
type TelemetryResponse struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// ServeHTTP handles POST /v1/telemetry from an authenticated, registered unit.
//
// TS-0045 5.6.1.2: a gateway that was offline catches up by resending; duplicates are
// acknowledged without being stored twice.
func (t *telemetry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reg, status, err := t.authenticate(r)
	if err != nil {
		t.cfg.Log.Warn("telemetry refused", "err", err)
		writeError(w, status, "telemetry_refused", err.Error())
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTelemetryBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "batches are limited to 256 KiB")
		return
	}
	b, err := ParseTelemetryBatch(body)
	if err != nil {
		t.cfg.Log.Warn("telemetry batch refused", "serial", reg.Serial, "err", err)
		writeError(w, http.StatusBadRequest, "invalid_batch", err.Error())
		return
	}
	res, err := t.store(reg.Serial, b)
	if err != nil {
		t.cfg.Log.Error("telemetry store", "serial", reg.Serial, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "batch not stored")
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// authenticate identifies the unit from its client certificate, as renewal does: a
// registered, unrevoked unit presenting its current certificate.
func (t *telemetry) authenticate(r *http.Request) (provision.Registration, int, error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return provision.Registration{}, http.StatusUnauthorized, errors.New("authenticate with the device certificate")
	}
	cert := r.TLS.VerifiedChains[0][0]
	reg, err := provision.LookupDevice(t.cfg.VendorDir, cert.Subject.SerialNumber)
	if err != nil {
		return reg, http.StatusForbidden, errors.New("unit not registered")
	}
	switch {
	case reg.Revoked:
		return reg, http.StatusForbidden, errors.New("unit revoked")
	case reg.CertSHA256 != certHash(cert):
		return reg, http.StatusForbidden, errors.New("certificate superseded")
	}
	return reg, 0, nil
}

func certHash(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// store appends the batch's new items to the unit's file and syncs it.
//
// TS-0045 5.6.1.1: an acknowledged batch is on disk; a line torn by a crash is cut off
// when the file is next opened, leaving every earlier line intact.
func (t *telemetry) store(serial string, b TelemetryBatch) (TelemetryResponse, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var res TelemetryResponse
	f, last, err := t.open(serial)
	if err != nil {
		return res, err
	}
	defer f.Close()
	prev := last[b.Stream]
	now := t.cfg.Now().UTC()
	var buf bytes.Buffer
	for i, it := range b.Items {
		if it.Seq <= prev {
			res.Duplicates++
			continue
		}
		rec := telemetryRecord{Received: now, Stream: b.Stream, Seq: it.Seq, Kind: it.Kind, Time: it.Time, Doc: it.Doc}
		if i == 0 {
			// Only when the batch's first item is new: a resent batch's drops were
			// recorded with it the first time.
			rec.Dropped = b.Dropped
		}
		line, err := json.Marshal(rec)
		if err != nil {
			return res, err
		}
		buf.Write(append(line, '\n'))
		res.Accepted++
	}
	if res.Accepted == 0 {
		return res, nil
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		return res, err
	}
	if err := f.Sync(); err != nil {
		return res, err
	}
	last[b.Stream] = b.Items[len(b.Items)-1].Seq
	return res, nil
}

// open opens the unit's file for appending and returns the last stored sequence number
// of each of its streams, reading the file the first time.
func (t *telemetry) open(serial string) (*os.File, map[string]int64, error) {
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(t.dir, serial+".jsonl")
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if err := atomicfile.SyncDir(t.dir); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	if last, ok := t.last[serial]; ok {
		return f, last, nil
	}
	last, err := scanTelemetry(f, t.cfg.Log)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	t.last[serial] = last
	return f, last, nil
}

// scanTelemetry reads a unit's file: the last sequence number of each stream. An
// incomplete last line (a write torn by a crash) is truncated away.
func scanTelemetry(f *os.File, log *slog.Logger) (map[string]int64, error) {
	last := map[string]int64{}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	rd := bufio.NewReader(f)
	var good int64
	for {
		line, err := rd.ReadBytes('\n')
		if err == io.EOF {
			if len(line) > 0 {
				log.Warn("telemetry file had a torn last line, truncated", "file", f.Name(), "bytes", len(line))
				if err := f.Truncate(good); err != nil {
					return nil, err
				}
				if err := f.Sync(); err != nil {
					return nil, err
				}
			}
			return last, nil
		}
		if err != nil {
			return nil, err
		}
		good += int64(len(line))
		var rec struct {
			Stream string `json:"stream"`
			Seq    int64  `json:"seq"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			log.Warn("telemetry file has an unreadable line", "file", f.Name(), "offset", good-int64(len(line)))
			continue
		}
		last[rec.Stream] = max(last[rec.Stream], rec.Seq)
	}
}
