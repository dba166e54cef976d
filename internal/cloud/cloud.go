// Package cloud is the vendor's online services (hearth-cloud serve): the renewal of
// device certificates, the TUF update repository (/tuf/metadata, /tuf/targets), the
// documents units send with their owner's consent (/v1/telemetry), the owner's privacy
// requests (erasure and export under /v1/privacy) and the public register of processing
// activities (/v1/privacy/processing, /privacy/processing).
//
// The services hold only online keys: the issuing CA's key (to renew device
// certificates) and their own TLS key. The root CA key stays offline.
//
// Devices authenticate with their identity certificate (mutual TLS, chaining to the
// vendor root); a renewal, a batch or a privacy request is accepted only from a
// registered, unrevoked unit presenting its current certificate, and a renewal only for
// the key that certificate certifies.
//
// Privacy: a unit's documents are stored under the pseudonymous stream id it chose, in
// files that never name it; its register (streams and consents) is the one place that
// links them to its serial. A data document is stored only under a granted consent for
// its purpose and carries the consent text's version; withdrawing stops storage from
// the next item on. An erasure deletes every stream's records and the register, keeps
// only a receipt, and is finished on the next start if a crash interrupts it.
//
// Threat model: a network attacker, a device presenting a stolen or superseded
// certificate, a request for another key or another unit's subject, a unit reaching for
// another unit's data (its stream, its receipts, its export), the vendor's own staff
// reading telemetry (they see pseudonyms).
//
// Concurrency: one mutex serialises the registry updates; another serialises every
// read and write of the units' documents, registers and erasures.
//
// TS-0045 5.4.1.4 (unique per-device credentials for the associated services),
// 5.4.2.1 (TLS 1.2+), 5.4.2.6 and 5.4.2.7 (critical parameters only over encrypted
// channels), 5.7.1.5 and 5.7.1.7 (deletion in the associated services, with its
// status), 5.7.1.8 (register of processing activities), 5.7.1.9 and 5.7.1.10 (consent
// before processing, withdrawal), 5.7.1.11 (pseudonymous telemetry).
package cloud

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"

	"hearth/internal/identity"
	"hearth/internal/identity/vendorca"
	"hearth/internal/provision"
	"hearth/internal/tlspolicy"
)

// Config configures the services.
type Config struct {
	VendorDir string
	Log       *slog.Logger     // nil: discard
	Now       func() time.Time // nil: time.Now
	// Mail is the relay for mail to vulnerability reporters; nil: the mail stays queued
	// in vulns/outbox. MailRoots are the CAs the relay's certificate may chain to (nil:
	// the system's).
	Mail      *MailRelay
	MailRoots *x509.CertPool
}

// Server is the vendor services.
type Server struct {
	cfg        Config
	ca         *vendorca.CA
	cert       *tls.Certificate
	roots      *x509.CertPool
	mu         sync.Mutex // serialises registry updates
	ledger     *ledger
	processing ProcessingRegister
}

// New loads the online keys and the register of processing activities from the vendor
// directory, reads the units' registers and finishes any erasure a crash interrupted.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ca, err := vendorca.Load(cfg.VendorDir)
	if err != nil {
		return nil, err
	}
	cert, err := vendorca.ServiceCertificate(cfg.VendorDir)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Root)
	processing, err := LoadProcessing(cfg.VendorDir)
	if err != nil {
		return nil, err
	}
	l, err := openLedger(cfg)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, ca: ca, cert: cert, roots: roots, ledger: l, processing: processing}, nil
}

// TLSConfig is the services' TLS configuration: devices present their identity
// certificate; operations that need it refuse requests without one.
func (s *Server) TLSConfig() (*tls.Config, error) {
	c, err := tlspolicy.MutualServer(s.cert, s.roots)
	if err != nil {
		return nil, err
	}
	c.ClientAuth = tls.VerifyClientCertIfGiven
	return c, nil
}

// Handler routes the services.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/device/certificate", s.renew)
	mux.HandleFunc("POST /v1/telemetry", s.telemetry)
	mux.HandleFunc("POST /v1/privacy/erase", s.eraseRequest)
	mux.HandleFunc("GET /v1/privacy/erase/{request}", s.eraseReceipt)
	mux.HandleFunc("GET /v1/privacy/export", s.export)
	mux.HandleFunc("GET /v1/privacy/processing", s.processingJSON)
	mux.HandleFunc("GET /privacy/processing", s.processingHTML)
	mux.HandleFunc("GET /v1/fleet/anomalies", s.fleetJSON)
	mux.HandleFunc("GET /fleet/anomalies", s.fleetHTML)
	mux.Handle("GET /tuf/", TUFHandler(s.cfg.VendorDir))
	s.registerVulns(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such service")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=63072000")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

// RenewResponse carries renewed certificate chains as PEM.
type RenewResponse struct {
	IdentityChain string `json:"identity_chain"`
	HTTPSChain    string `json:"https_chain"`
}

const maxCSR = 8 << 10

// renew issues fresh certificates to a device for the key it holds.
func (s *Server) renew(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		writeError(w, http.StatusUnauthorized, "client_certificate_required", "authenticate with the device certificate")
		return
	}
	current := r.TLS.VerifiedChains[0][0]
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/pkcs10" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/pkcs10")
		return
	}
	der, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCSR))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "certificate requests are limited to 8 KiB")
		return
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "not a certificate request")
		return
	}
	resp, status, err := s.issue(current, csr)
	if err != nil {
		s.cfg.Log.Warn("renewal refused", "serial", current.Subject.SerialNumber, "err", err)
		writeError(w, status, "renewal_refused", err.Error())
		return
	}
	s.cfg.Log.Info("device certificate renewed", "serial", current.Subject.SerialNumber)
	writeJSON(w, http.StatusOK, resp)
}

// issue checks the unit's registration and issues the certificates.
func (s *Server) issue(current *x509.Certificate, csr *x509.CertificateRequest) (RenewResponse, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg, err := provision.LookupDevice(s.cfg.VendorDir, current.Subject.SerialNumber)
	if err != nil {
		return RenewResponse{}, http.StatusForbidden, errors.New("unit not registered")
	}
	sum := sha256.Sum256(current.Raw)
	switch {
	case reg.Revoked:
		return RenewResponse{}, http.StatusForbidden, errors.New("unit revoked")
	case reg.CertSHA256 != hex.EncodeToString(sum[:]):
		return RenewResponse{}, http.StatusForbidden, errors.New("certificate superseded")
	}
	ident, server, err := s.ca.Renew(vendorca.Renewal{Current: current, CSR: csr}, s.cfg.Now())
	if err != nil {
		return RenewResponse{}, http.StatusBadRequest, err
	}
	if err := provision.RecordRenewal(s.cfg.VendorDir, reg, ident.Raw, s.cfg.Now()); err != nil {
		return RenewResponse{}, http.StatusInternalServerError, fmt.Errorf("record renewal: %w", err)
	}
	return RenewResponse{
		IdentityChain: string(identity.EncodeCertificates(ident, s.ca.Issuing)),
		HTTPSChain:    string(identity.EncodeCertificates(server, s.ca.Issuing)),
	}, http.StatusOK, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}
