package cloud

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"hearth/internal/privacy"
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
// unknown fields and nothing after it, a stream id of 32 lowercase hex digits, 1 to 256
// items, kinds privacy.KnownKind accepts, RFC 3339 times, each document a JSON object of
// at most 64 KiB (a consent document as privacy.ParseConsentDoc requires), sequence
// numbers positive and strictly increasing, dropped not negative. Documents are
// returned compacted.
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
	if !privacy.IsID(b.Stream) {
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
	if !privacy.KnownKind(it.Kind) {
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
	if it.Kind == privacy.KindConsent {
		// TS-0045 5.5.2.1: a consent is checked before it is accepted as one.
		if _, err := privacy.ParseConsentDoc(it.Doc); err != nil {
			return err
		}
	}
	return nil
}

// TelemetryResponse tells the gateway how many items were stored, how many it had sent
// before, and how many were refused for want of consent (acknowledged, not stored: the
// gateway drops them).
type TelemetryResponse struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Refused    int `json:"refused"`
}

// telemetry handles POST /v1/telemetry from an authenticated, registered unit.
//
// TS-0045 5.6.1.2: a gateway that was offline catches up by resending; duplicates are
// acknowledged without being stored twice.
func (s *Server) telemetry(w http.ResponseWriter, r *http.Request) {
	reg, status, err := s.authenticate(r)
	if err != nil {
		s.cfg.Log.Warn("telemetry refused", "err", err)
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
		s.cfg.Log.Warn("telemetry batch refused", "serial", reg.Serial, "err", err)
		writeError(w, http.StatusBadRequest, "invalid_batch", err.Error())
		return
	}
	res, err := s.ledger.accept(reg.Serial, b)
	switch {
	case errors.Is(err, ErrStreamTaken):
		s.cfg.Log.Warn("telemetry batch refused", "serial", reg.Serial, "err", err)
		writeError(w, http.StatusConflict, "stream_taken", err.Error())
		return
	case err != nil:
		s.cfg.Log.Error("telemetry store", "serial", reg.Serial, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "batch not stored")
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// authenticate identifies the unit from its client certificate, as renewal does: a
// registered, unrevoked unit presenting its current certificate.
func (s *Server) authenticate(r *http.Request) (provision.Registration, int, error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return provision.Registration{}, http.StatusUnauthorized, errors.New("authenticate with the device certificate")
	}
	cert := r.TLS.VerifiedChains[0][0]
	reg, err := provision.LookupDevice(s.cfg.VendorDir, cert.Subject.SerialNumber)
	if err != nil {
		return reg, http.StatusForbidden, errors.New("unit not registered")
	}
	switch {
	case reg.Revoked:
		return reg, http.StatusForbidden, errors.New("unit revoked")
	case reg.CertSHA256 != certHash(cert):
		return reg, http.StatusForbidden, errors.New("certificate superseded")
	case !validSerialName(reg.Serial):
		return reg, http.StatusForbidden, errors.New("unit serial unusable")
	}
	return reg, 0, nil
}

func certHash(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
