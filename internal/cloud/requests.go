package cloud

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"hearth/internal/privacy"
)

// maxEraseBody bounds POST /v1/privacy/erase: the request is {"request":"<32 hex>"}.
const maxEraseBody = 1 << 10

// eraseRequest handles POST /v1/privacy/erase: the authenticated unit asks for
// everything held about it to be deleted; the answer is the receipt.
//
// TS-0045 5.7.1.5, 5.7.1.7: deletion in the associated services, with its status.
func (s *Server) eraseRequest(w http.ResponseWriter, r *http.Request) {
	reg, status, err := s.authenticate(r)
	if err != nil {
		s.cfg.Log.Warn("erasure refused", "err", err)
		writeError(w, status, "erasure_refused", err.Error())
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEraseBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "erase requests are limited to 1 KiB")
		return
	}
	req, err := privacy.ParseEraseRequest(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	rcpt, err := s.ledger.erase(reg.Serial, req.Request)
	if err != nil {
		s.cfg.Log.Error("erasure", "serial", reg.Serial, "request", req.Request, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "erasure not completed; send the same request again")
		return
	}
	writeJSON(w, http.StatusOK, rcpt)
}

// eraseReceipt handles GET /v1/privacy/erase/{request}: a unit reads its own receipts.
//
// TS-0045 5.7.1.7: the unit can learn the status of its deletion at any time.
func (s *Server) eraseReceipt(w http.ResponseWriter, r *http.Request) {
	reg, status, err := s.authenticate(r)
	if err != nil {
		writeError(w, status, "erasure_refused", err.Error())
		return
	}
	rcpt, err := s.ledger.receipt(reg.Serial, r.PathValue("request"))
	switch {
	case errors.Is(err, ErrNoReceipt):
		writeError(w, http.StatusNotFound, "not_found", "no such erasure request for this unit")
	case err != nil:
		s.cfg.Log.Error("read erasure receipt", "serial", reg.Serial, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "receipt unreadable")
	default:
		writeJSON(w, http.StatusOK, rcpt)
	}
}

// export handles GET /v1/privacy/export: everything held about the authenticated unit.
//
// TS-0045 5.7.1.8: the unit's owner can see what the vendor holds and take it along.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	reg, status, err := s.authenticate(r)
	if err != nil {
		writeError(w, status, "export_refused", err.Error())
		return
	}
	e, err := s.ledger.export(reg.Serial)
	switch {
	case errors.Is(err, ErrExportTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "export_too_large", err.Error())
	case err != nil:
		s.cfg.Log.Error("export", "serial", reg.Serial, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "export failed")
	default:
		writeJSON(w, http.StatusOK, e)
	}
}

// export reads a unit's data under the lock, so no batch or erasure is half done.
func (l *ledger) export(serial string) (Export, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return readExport(l.vendor, serial, l.log)
}
