package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"hearth/internal/auth"
	"hearth/internal/i18n"
	"hearth/internal/privacy"
)

// categoryRow is one kind of data of the inventory, in the viewer's language.
type categoryRow struct {
	ID, Name, Fields, Purpose, Retention, Location, Recipients string
	ClassKey                                                   string
	// ConsentKey names the purpose whose consent the data needs; empty: none.
	ConsentKey string
}

// consentRow is one purpose: its consent text, the current choice and, in forms, its
// checkbox.
type consentRow struct {
	Purpose privacy.Purpose
	NameKey string
	TextKey string
	Version string
	Checked bool
	// State says in words who chose what and when; empty in the first-run wizard.
	State string
}

// historyRow is one recorded choice.
type historyRow struct {
	Time, ChoiceKey, Version, By string
	NameKey                      string
}

type privacyData struct {
	Inventory []categoryRow
	Consents  []consentRow
	// Editable is true for owners: the consent form and the deletion are theirs.
	Editable bool
	// History is nil unless shown; HistoryReauth asks for the password first.
	History       []historyRow
	ShowHistory   bool
	HistoryReauth bool
	Erase         eraseData
	Erasure       *erasureData
	// VendorExport offers the owner what the vendor holds (when there is a vendor).
	VendorExport bool
}

// privacyPage shows what the gateway collects, the consents and how to delete it all.
//
// TS-0045 5.7.1.3, 5.7.1.12: the user is told, from the inventory the gateway enforces,
// what the sensors sense and which telemetry is collected, why, for how long, where it
// is kept and who receives it. TS-0045 5.7.1.6: the page says what "delete my data"
// removes and what it keeps.
func (s *Server) privacyPage(w http.ResponseWriter, r *http.Request, c *call) error {
	d := privacyData{Inventory: inventoryRows(c.v), Consents: s.consentRows(c.v, true), Editable: c.p.Can(auth.PermManageConsent),
		Erase: eraseLists(c.v)}
	d.VendorExport = d.Editable && s.cfg.Eraser.HasVendor()
	if d.Editable {
		hist, err := s.cfg.Consents.History(r.Context(), c.p)
		switch {
		case errors.Is(err, auth.ErrReauthRequired):
			d.HistoryReauth = true
		case err != nil:
			return err
		default:
			d.ShowHistory = true
			for i := len(hist) - 1; i >= 0; i-- { // newest first
				h := hist[i]
				d.History = append(d.History, historyRow{Time: c.v.p.DateTime(h.Time), ChoiceKey: choiceKey(h.Granted), Version: h.Version,
					By: h.By, NameKey: "privacy.purpose." + string(h.Purpose)})
			}
		}
	}
	if e, ok := s.cfg.Eraser.Status(); ok {
		d.Erasure = erasureView(c.v, e)
	}
	c.v.Page = d
	s.render(w, http.StatusOK, "privacy", c.v)
	return nil
}

// localText picks the viewer's language of an inventory text.
func localText(v *view, t privacy.Text) string {
	if v.p.Tag == i18n.Chinese {
		return t.ZH
	}
	return t.EN
}

func inventoryRows(v *view) []categoryRow {
	rows := make([]categoryRow, 0, len(privacy.Inventory))
	for _, cat := range privacy.Inventory {
		row := categoryRow{ID: cat.ID, Name: localText(v, cat.Name), Fields: localText(v, cat.Fields), Purpose: localText(v, cat.Purpose),
			Retention: localText(v, cat.Retention), Location: localText(v, cat.Location), Recipients: localText(v, cat.Recipients),
			ClassKey: "privacy.class." + string(cat.Class)}
		if cat.Consent != "" {
			row.ConsentKey = "privacy.purpose." + string(cat.Consent)
		}
		rows = append(rows, row)
	}
	return rows
}

func choiceKey(granted bool) string {
	if granted {
		return "privacy.given"
	}
	return "privacy.withdrawn"
}

// consentRows lists the purposes in order with their current choice; withState adds
// who chose it and when.
func (s *Server) consentRows(v *view, withState bool) []consentRow {
	cur := s.cfg.Consents.Current()
	rows := make([]consentRow, 0, len(privacy.Purposes))
	for _, p := range privacy.Purposes {
		c := cur[p]
		row := consentRow{Purpose: p, NameKey: "privacy.purpose." + string(p), TextKey: "privacy.consent." + string(p),
			Version: privacy.ConsentVersion[p], Checked: c.Granted}
		if withState {
			switch {
			case c.Time.IsZero():
				row.State = v.T("privacy.state.never")
			case c.Granted:
				row.State = v.T("privacy.state.given", v.p.DateTime(c.Time), c.By, c.Version)
			default:
				row.State = v.T("privacy.state.withdrawn", v.p.DateTime(c.Time), c.By, c.Version)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// formConsents reads the consent checkboxes: a purpose ticked is given, any other
// withdrawn. ok is false when the form names a purpose that does not exist.
func formConsents(r *http.Request) (map[privacy.Purpose]bool, bool) {
	out := map[privacy.Purpose]bool{}
	for _, p := range privacy.Purposes {
		out[p] = false
	}
	for _, v := range r.PostForm["consent"] {
		p := privacy.Purpose(v)
		if !p.Valid() {
			return nil, false
		}
		out[p] = true
	}
	return out, true
}

// consentsSubmit records the owner's choices (owner, recent password).
//
// TS-0045 5.7.1.9, 5.7.1.10: consent is given explicitly per purpose and withdrawn the
// same way, at any time.
func (s *Server) consentsSubmit(w http.ResponseWriter, r *http.Request, c *call) error {
	choices, ok := formConsents(r)
	if !ok {
		s.errorPage(w, c, http.StatusBadRequest, "error.bad_request.title", "error.bad_request.text")
		return nil
	}
	if _, err := s.cfg.Consents.Set(r.Context(), c.p, choices, c.src); err != nil {
		return err
	}
	redirect(w, r, "/privacy", "consents_saved")
	return nil
}

// eraseData says what "delete my data" deletes and what it keeps, by category name.
type eraseData struct{ Deleted, Kept []string }

// erasePageData is the confirmation page's (the partial erase_lists reads .Page.Erase).
type erasePageData struct{ Erase eraseData }

// erasurePageData is the status page's (the partial erasure_status reads .Page.Erasure).
type erasurePageData struct{ Erasure *erasureData }

func eraseLists(v *view) eraseData {
	var d eraseData
	for _, cat := range privacy.Inventory {
		if cat.UserData {
			d.Deleted = append(d.Deleted, localText(v, cat.Name))
		} else {
			d.Kept = append(d.Kept, localText(v, cat.Name))
		}
	}
	return d
}

// erasePage asks the owner to confirm deleting all user data.
func (s *Server) erasePage(w http.ResponseWriter, _ *http.Request, c *call) error {
	c.v.Page = erasePageData{eraseLists(c.v)}
	s.render(w, http.StatusOK, "erase", c.v)
	return nil
}

// eraseSubmit deletes all user data on the gateway (owner, recent password, the box
// ticked) and starts the deletion at the vendor. The owner's session is deleted with
// the rest, so the browser is sent, signed out, to the status page its token opens.
//
// TS-0045 5.7.1.4, 5.7.1.5: one action deletes the user data on the device and has the
// vendor delete its copy.
func (s *Server) eraseSubmit(w http.ResponseWriter, r *http.Request, c *call) error {
	if r.PostFormValue("understand") != "yes" {
		c.v.Error = c.v.T("error.erase_confirm")
		c.v.Page = erasePageData{eraseLists(c.v)}
		s.render(w, http.StatusBadRequest, "erase", c.v)
		return nil
	}
	_, token, err := s.cfg.Eraser.Request(r.Context(), c.p)
	if err != nil && token == "" {
		return err
	}
	if err != nil {
		// The deletion started and is finished by the next request or start; the
		// status page says so.
		s.cfg.Log.Error("deletion of user data interrupted; it resumes at the next request or start", "err", err)
	}
	ClearSessionCookie(w)
	redirect(w, r, "/erasure/"+token, "")
	return nil
}

// erasureData is the status of a deletion in words.
type erasureData struct {
	Requested     string
	DevicePending bool
	Device        string
	// Vendor is the vendor side in words; Receipt lists what it deleted.
	Vendor       string
	VendorFailed string
	Receipt      []receiptRow
	Complete     bool
	// Done is the confirmation once both sides are done.
	Done string
}

type receiptRow struct {
	Kind  string
	Count int64
}

// erasureView describes e in the viewer's language. Vendor errors are summarised, never
// shown as they are: they may name addresses and internals.
func erasureView(v *view, e privacy.Erasure) *erasureData {
	by := "privacy.by." + e.RequestedBy
	if !v.has(by) {
		by = "privacy.by.owner"
	}
	d := &erasureData{Requested: v.T("erasure.requested", v.T(by), v.p.DateTime(e.RequestedAt)), Complete: e.Complete()}
	if e.Device.State == privacy.StateCompleted {
		d.Device = v.T("erasure.gateway.completed", v.p.DateTime(e.Device.CompletedAt))
	} else {
		d.DevicePending, d.Device = true, v.T("erasure.gateway.pending")
	}
	switch e.Cloud.State {
	case privacy.StateNotApplicable:
		d.Vendor = v.T("erasure.vendor.not_applicable")
	case privacy.StateCompleted:
		d.Vendor = v.T("erasure.vendor.completed", v.p.DateTime(e.Cloud.CompletedAt))
		if e.Cloud.Receipt != nil {
			for kind, n := range e.Cloud.Receipt.Deleted {
				label := kind
				if key := "erasure.kind." + kind; v.has(key) {
					label = v.T(key)
				}
				d.Receipt = append(d.Receipt, receiptRow{label, n})
			}
			slices.SortFunc(d.Receipt, func(a, b receiptRow) int { return strings.Compare(a.Kind, b.Kind) })
		}
	default:
		if e.Cloud.Attempts == 0 {
			d.Vendor = v.T("erasure.vendor.waiting")
		} else {
			d.Vendor = v.T("erasure.vendor.pending", e.Cloud.Attempts)
		}
		if e.Cloud.LastError != "" {
			d.VendorFailed = v.T("erasure.vendor.failed", v.p.DateTime(e.Cloud.LastAttempt))
		}
	}
	if d.Complete {
		d.Done = v.T("erasure.done")
		if e.Cloud.State == privacy.StateNotApplicable {
			d.Done = v.T("erasure.done_local")
		}
	}
	return d
}

// erasureStatusPage shows a deletion's progress to whoever holds its status token,
// without a session: the requester's account was deleted with the rest. The page
// refreshes itself until both sides are done.
//
// TS-0045 5.7.1.7: the user gets a clear confirmation once the data is deleted on the
// gateway and at the vendor.
func (s *Server) erasureStatusPage(w http.ResponseWriter, r *http.Request, c *call) error {
	token := r.PathValue("token")
	if !privacy.IsID(token) {
		return s.notFound(w, r, c)
	}
	e, ok := s.cfg.Eraser.StatusByToken(token)
	if !ok {
		return s.notFound(w, r, c)
	}
	d := erasureView(c.v, e)
	if !d.Complete {
		c.v.Refresh = true
	}
	c.v.Page = erasurePageData{d}
	s.render(w, http.StatusOK, "erasure", c.v)
	return nil
}

// vendorExportDownload asks for the password if it is not recent, then hands over to
// the API's streamed download of everything the vendor holds about the gateway.
//
// TS-0045 5.7.1.8: the owner can see and take along what the vendor holds.
func (s *Server) vendorExportDownload(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Auth.Authorize(c.p, auth.PermManageConsent); err != nil {
		return err
	}
	http.Redirect(w, r, "/api/v1/privacy/vendor-export", http.StatusSeeOther)
	return nil
}
