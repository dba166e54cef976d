package api

import (
	"errors"
	"net/http"
	"time"

	"hearth/internal/auth"
	"hearth/internal/privacy"
)

// text is privacy.Text as the API shows it.
type text struct {
	EN string `json:"en"`
	ZH string `json:"zh-TW"`
}

func apiText(t privacy.Text) text { return text{t.EN, t.ZH} }

type dataCategory struct {
	ID         string          `json:"id"`
	Name       text            `json:"name"`
	Class      privacy.Class   `json:"class"`
	Fields     text            `json:"fields"`
	Purpose    text            `json:"purpose"`
	Retention  text            `json:"retention"`
	Location   text            `json:"location"`
	Recipients text            `json:"recipients"`
	Consent    privacy.Purpose `json:"consent,omitempty"`
	UserData   bool            `json:"user_data"`
	SentAs     string          `json:"sent_as,omitempty"`
	SentFields []string        `json:"sent_fields,omitempty"`
}

type consentView struct {
	Purpose privacy.Purpose `json:"purpose"`
	Granted bool            `json:"granted"`
	Version string          `json:"version"`
	Time    *time.Time      `json:"time,omitempty"`
	By      string          `json:"by,omitempty"`
}

func viewConsent(c privacy.Consent) consentView {
	v := consentView{Purpose: c.Purpose, Granted: c.Granted, Version: c.Version, By: c.By}
	if !c.Time.IsZero() {
		t := c.Time
		v.Time = &t
	}
	return v
}

func currentConsents(cs *privacy.ConsentService) []consentView {
	cur := cs.Current()
	out := make([]consentView, 0, len(privacy.Purposes))
	for _, p := range privacy.Purposes {
		out = append(out, viewConsent(cur[p]))
	}
	return out
}

// erasureView is privacy.Erasure without the token hash, with Complete spelled out.
type erasureView struct {
	Request     string             `json:"request"`
	RequestedAt time.Time          `json:"requested_at"`
	RequestedBy string             `json:"requested_by"`
	Complete    bool               `json:"complete"`
	Device      privacy.DeviceSide `json:"device"`
	Cloud       privacy.CloudSide  `json:"cloud"`
}

func viewErasure(e privacy.Erasure) *erasureView {
	return &erasureView{Request: e.Request, RequestedAt: e.RequestedAt, RequestedBy: e.RequestedBy, Complete: e.Complete(), Device: e.Device, Cloud: e.Cloud}
}

// getPrivacy: GET /privacy.
//
// TS-0045 5.7.1.12: what is collected, why, and who receives it, from the inventory the
// gateway enforces.
func (s *Server) getPrivacy(w http.ResponseWriter, r *http.Request, c *call) error {
	inv := make([]dataCategory, 0, len(privacy.Inventory))
	for _, d := range privacy.Inventory {
		inv = append(inv, dataCategory{ID: d.ID, Name: apiText(d.Name), Class: d.Class, Fields: apiText(d.Fields), Purpose: apiText(d.Purpose),
			Retention: apiText(d.Retention), Location: apiText(d.Location), Recipients: apiText(d.Recipients), Consent: d.Consent,
			UserData: d.UserData, SentAs: d.Sends, SentFields: d.SendFields})
	}
	out := struct {
		Inventory []dataCategory `json:"inventory"`
		Consents  []consentView  `json:"consents"`
		Erasure   *erasureView   `json:"erasure,omitempty"`
	}{Inventory: inv, Consents: currentConsents(s.cfg.Consents)}
	if e, ok := s.cfg.Eraser.Status(); ok {
		out.Erasure = viewErasure(e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listConsents: GET /privacy/consents.
func (s *Server) listConsents(w http.ResponseWriter, r *http.Request, c *call) error {
	hist, err := s.cfg.Consents.History(r.Context(), c.p)
	if err != nil {
		return err
	}
	out := make([]consentView, 0, len(hist))
	for _, h := range hist {
		out = append(out, viewConsent(h))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// changeConsents: PUT /privacy/consents.
//
// TS-0045 5.7.1.9, 5.7.1.10: consent is given and withdrawn per purpose by the owner.
func (s *Server) changeConsents(w http.ResponseWriter, r *http.Request, c *call) error {
	var req map[privacy.Purpose]bool
	if err := decode(c.body, &req); err != nil {
		return err
	}
	if _, err := s.cfg.Consents.Set(r.Context(), c.p, req, c.src); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, currentConsents(s.cfg.Consents))
	return nil
}

// getErasure: GET /privacy/erasure.
func (s *Server) getErasure(w http.ResponseWriter, r *http.Request, c *call) error {
	e, ok := s.cfg.Eraser.Status()
	if !ok {
		return errNotFound
	}
	writeJSON(w, http.StatusOK, viewErasure(e))
	return nil
}

// eraseData: POST /privacy/erasure.
//
// TS-0045 5.7.1.4, 5.7.1.5: one request deletes the user data on the device and starts
// its deletion at the vendor. TS-0045 5.7.1.7: the answer and the status page say how
// far each side is.
func (s *Server) eraseData(w http.ResponseWriter, r *http.Request, c *call) error {
	var req struct {
		Confirm string `json:"confirm"`
	}
	if err := decode(c.body, &req); err != nil {
		return err
	}
	e, token, err := s.cfg.Eraser.Request(r.Context(), c.p)
	if err != nil && token == "" {
		return err
	}
	if err != nil {
		s.cfg.Log.Error("deletion of user data interrupted; it resumes at the next request or start", "err", err)
	}
	writeJSON(w, http.StatusAccepted, struct {
		Erasure     *erasureView `json:"erasure"`
		StatusToken string       `json:"status_token"`
		StatusURL   string       `json:"status_url"`
	}{viewErasure(e), token, "/erasure/" + token})
	return nil
}

// vendorExport: GET /privacy/vendor-export, streamed from the vendor.
//
// TS-0045 5.7.1.8: the owner sees everything the vendor holds about the gateway.
func (s *Server) vendorExport(w http.ResponseWriter, r *http.Request, c *call) error {
	if !s.cfg.Eraser.HasVendor() {
		return &apiError{status: http.StatusNotFound, code: "no_vendor", msg: "this gateway has no vendor services, so the vendor holds nothing"}
	}
	out := &firstWrite{w: w}
	err := s.cfg.Eraser.VendorExport(r.Context(), c.p, out)
	switch {
	case err == nil && !out.started:
		return &apiError{status: http.StatusBadGateway, code: "vendor_unavailable", msg: "the vendor sent an empty export"}
	case err == nil:
		return nil
	case out.started:
		// The answer is under way; the client sees it cut short.
		s.cfg.Log.Warn("vendor export interrupted", "err", err)
		return nil
	case errors.Is(err, auth.ErrForbidden), errors.Is(err, auth.ErrReauthRequired):
		return err
	default:
		s.cfg.Log.Warn("vendor export failed", "err", err)
		return &apiError{status: http.StatusBadGateway, code: "vendor_unavailable", msg: "the vendor could not be reached; try again later"}
	}
}

// firstWrite sends the JSON header with the first byte of the body, so an error before
// it can still be answered as an error.
type firstWrite struct {
	w       http.ResponseWriter
	started bool
}

func (f *firstWrite) Write(p []byte) (int, error) {
	if !f.started {
		f.w.Header().Set("Content-Type", "application/json")
		f.w.Header().Set("Content-Disposition", `attachment; filename="vendor-export.json"`)
		f.w.WriteHeader(http.StatusOK)
		f.started = true
	}
	return f.w.Write(p)
}
