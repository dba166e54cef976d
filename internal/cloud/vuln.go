package cloud

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"hearth/internal/vuln"
)

// vulnService answers the public vulnerability disclosure endpoints: security.txt, the
// policy, the intake (form and API, no account), the reporter's status page and the
// support periods. It holds the per-network rate limiter.
type vulnService struct {
	s       *Server
	store   *vuln.Store // nil when the policy or directory is unusable: 503
	policy  vuln.Policy
	limiter *vuln.Limiter
}

// submissionsPerHour is how many reports one network (IPv4 address, IPv6 /64) may send
// per hour.
const submissionsPerHour = 5

// registerVulns adds the vulnerability disclosure routes to mux.
//
// TS-0045 5.2.1.1: the policy, its contact and the intake are public and need no
// account; the reporter follows the handling on a status page.
func (s *Server) registerVulns(mux *http.ServeMux) {
	v := &vulnService{s: s, limiter: vuln.NewLimiter(submissionsPerHour)}
	v.limiter.Now = s.cfg.Now
	p, err := vuln.LoadPolicy(s.cfg.VendorDir)
	if err == nil {
		v.policy = p
		v.store, err = vuln.Open(vuln.Config{VendorDir: s.cfg.VendorDir, Policy: p, Now: s.cfg.Now})
	}
	if err != nil {
		s.cfg.Log.Error("vulnerability intake unavailable", "err", err)
	}
	csrf := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /.well-known/security.txt", v.securityTxt)
	mux.HandleFunc("GET /security/policy", v.policyPage)
	mux.HandleFunc("GET /security/report", v.formPage)
	mux.Handle("POST /security/report", csrf.Handler(http.HandlerFunc(v.formSubmit)))
	mux.HandleFunc("GET /security/report/{id}", v.statusPage)
	mux.HandleFunc("GET /v1/vulns/policy", v.policyJSON)
	mux.HandleFunc("POST /v1/vulns", v.submitJSON)
	mux.HandleFunc("GET /v1/vulns/{id}", v.statusJSON)
	mux.HandleFunc("GET /v1/support", v.supportJSON)
	mux.HandleFunc("GET /support", v.supportPage)
}

func (v *vulnService) securityTxt(w http.ResponseWriter, _ *http.Request) {
	if v.store == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "vulnerability intake unavailable")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Write([]byte(v.policy.SecurityTxt(v.s.cfg.Now())))
}

func (v *vulnService) policyJSON(w http.ResponseWriter, _ *http.Request) {
	if v.store == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "vulnerability intake unavailable")
		return
	}
	writeJSON(w, http.StatusOK, policyView{AckWorkingDays: v.policy.AckWorkingDays, UpdateDays: v.policy.UpdateDays,
		DisclosureDays: v.policy.DisclosureDays, ExploitedDisclosureDays: v.policy.ExploitedDisclosureDays,
		FixDays: v.policy.FixDays, Email: v.policy.Email, Intake: v.policy.PublicURL + "/v1/vulns",
		Form: v.policy.PublicURL + "/security/report"})
}

type policyView struct {
	AckWorkingDays          int                   `json:"ack_working_days"`
	UpdateDays              int                   `json:"update_days"`
	DisclosureDays          int                   `json:"disclosure_days"`
	ExploitedDisclosureDays int                   `json:"exploited_disclosure_days"`
	FixDays                 map[vuln.Severity]int `json:"fix_days"`
	Email                   string                `json:"email"`
	Intake                  string                `json:"intake"`
	Form                    string                `json:"form"`
}

func (v *vulnService) policyPage(w http.ResponseWriter, _ *http.Request) {
	v.render(w, http.StatusOK, "policy", v.policy)
}

type formData struct {
	Policy                   vuln.Policy
	Sub                      vuln.Submission
	Error                    string
	MaxTitle, MaxDescription int
}

func (v *vulnService) formPage(w http.ResponseWriter, _ *http.Request) {
	v.render(w, http.StatusOK, "form", formData{Policy: v.policy, MaxTitle: vuln.MaxTitle, MaxDescription: vuln.MaxDescription})
}

// formSubmit takes a report from the web form. Every refusal re-renders the form with
// the reporter's text (escaped) and a clear message.
func (v *vulnService) formSubmit(w http.ResponseWriter, r *http.Request) {
	fd := formData{Policy: v.policy, MaxTitle: vuln.MaxTitle, MaxDescription: vuln.MaxDescription}
	fail := func(status int, msg string) {
		fd.Error = msg
		v.render(w, status, "form", fd)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		fail(http.StatusUnsupportedMediaType, "send the form as application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, vuln.MaxBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(http.StatusRequestEntityTooLarge, "the report is larger than 64 KiB")
			return
		}
		fail(http.StatusBadRequest, "the form could not be read")
		return
	}
	f := r.PostForm
	fd.Sub = vuln.Submission{Title: f.Get("title"), Description: strings.ReplaceAll(f.Get("description"), "\r\n", "\n"),
		Product: f.Get("product"), Version: f.Get("version"), CVSS: f.Get("cvss"), Contact: f.Get("contact")}
	rep, token, status, msg := v.submit(w, r, fd.Sub, "web")
	if status != http.StatusCreated {
		fail(status, msg)
		return
	}
	v.render(w, http.StatusCreated, "submitted", map[string]any{"Report": rep, "Token": token, "Policy": v.policy,
		"AckDeadline": v.policy.AckDeadline(rep.Received).Format(time.DateOnly)})
}

// submitJSON takes a report from the API: one JSON object of the Submission fields.
func (v *vulnService) submitJSON(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
		return
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, vuln.MaxBody)); err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "reports are limited to 64 KiB")
		return
	}
	sub, err := vuln.DecodeSubmission(buf.Bytes())
	if err != nil {
		writeSubmissionError(w, err)
		return
	}
	rep, token, status, msg := v.submit(w, r, sub, "api")
	if status != http.StatusCreated {
		writeError(w, status, submitCodes[status], msg)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": rep.ID, "token": token, "state": rep.State,
		"status_url":   v.policy.PublicURL + "/v1/vulns/" + rep.ID,
		"ack_deadline": v.policy.AckDeadline(rep.Received).Format(time.DateOnly),
		"update_days":  v.policy.UpdateDays,
		"message":      rep.History[0].Note,
	})
}

var submitCodes = map[int]string{http.StatusBadRequest: "invalid_report", http.StatusTooManyRequests: "rate_limited",
	http.StatusServiceUnavailable: "unavailable", http.StatusInternalServerError: "internal"}

func writeSubmissionError(w http.ResponseWriter, err error) {
	var fe *vuln.FieldError
	if errors.As(err, &fe) {
		status := http.StatusBadRequest
		if fe.Field == "body" && strings.HasPrefix(fe.Msg, "larger") {
			status = http.StatusRequestEntityTooLarge
		}
		writeJSON(w, status, map[string]string{"error": "invalid_report", "field": fe.Field, "message": fe.Error()})
		return
	}
	writeError(w, http.StatusBadRequest, "invalid_report", err.Error())
}

// submit applies the rate limit and stores the report. It answers the status for the
// caller to render and sets Retry-After where one applies.
func (v *vulnService) submit(w http.ResponseWriter, r *http.Request, sub vuln.Submission, source string) (vuln.Report, string, int, string) {
	if v.store == nil {
		return vuln.Report{}, "", http.StatusServiceUnavailable, "vulnerability intake unavailable; write to " + v.policy.Email
	}
	if err := sub.Validate(); err != nil {
		return vuln.Report{}, "", http.StatusBadRequest, err.Error()
	}
	if ok, wait := v.limiter.Allow(remoteAddr(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
		return vuln.Report{}, "", http.StatusTooManyRequests, "too many reports from your network; try again later or write to " + v.policy.Email
	}
	rep, token, err := v.store.Submit(sub, source)
	switch {
	case errors.Is(err, vuln.ErrFull):
		w.Header().Set("Retry-After", "3600")
		v.s.cfg.Log.Warn("vulnerability intake full", "remote", r.RemoteAddr)
		return rep, "", http.StatusServiceUnavailable, "too many reports await triage; try again later or write to " + v.policy.Email
	case err != nil:
		v.s.cfg.Log.Error("store vulnerability report", "err", err)
		return rep, "", http.StatusInternalServerError, "the report could not be stored; write to " + v.policy.Email
	}
	v.s.cfg.Log.Info("vulnerability report received", "report", rep.ID, "source", source, "remote", r.RemoteAddr)
	return rep, token, http.StatusCreated, ""
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	return ap.Addr()
}

// statusView is what the reporter sees of a report.
type statusView struct {
	ID          string        `json:"id"`
	Title       string        `json:"title"`
	Product     string        `json:"product"`
	Version     string        `json:"version,omitempty"`
	State       vuln.State    `json:"state"`
	Received    time.Time     `json:"received"`
	CVSS        *vuln.CVSS    `json:"cvss,omitempty"`
	AckDeadline string        `json:"ack_deadline"`
	FixDeadline string        `json:"fix_deadline"`
	History     []vuln.Change `json:"history"`
	Description string        `json:"description"`
}

func (v *vulnService) view(rep vuln.Report) statusView {
	return statusView{ID: rep.ID, Title: rep.Title, Product: rep.Product, Version: rep.Version, State: rep.State,
		Received: rep.Received, CVSS: rep.CVSS, History: rep.History, Description: rep.Description,
		AckDeadline: v.policy.AckDeadline(rep.Received).Format(time.DateOnly),
		FixDeadline: v.policy.FixDeadline(rep.Received, rep.Severity()).Format(time.DateOnly)}
}

// lookup finds a report for the holder of its token; unknown ids and wrong tokens
// look alike.
func (v *vulnService) lookup(id, token string) (vuln.Report, int) {
	if v.store == nil {
		return vuln.Report{}, http.StatusServiceUnavailable
	}
	rep, err := v.store.Status(id, token)
	switch {
	case errors.Is(err, vuln.ErrNotFound):
		return rep, http.StatusNotFound
	case err != nil:
		v.s.cfg.Log.Error("read vulnerability report", "err", err)
		return rep, http.StatusInternalServerError
	}
	return rep, http.StatusOK
}

func (v *vulnService) statusJSON(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token = ""
	}
	rep, status := v.lookup(r.PathValue("id"), token)
	if status != http.StatusOK {
		writeError(w, status, "not_found", "no report with that id and token")
		return
	}
	writeJSON(w, http.StatusOK, v.view(rep))
}

func (v *vulnService) statusPage(w http.ResponseWriter, r *http.Request) {
	rep, status := v.lookup(r.PathValue("id"), r.URL.Query().Get("token"))
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte("No report with that id and token. 查無此回報。\n"))
		return
	}
	v.render(w, http.StatusOK, "status", v.view(rep))
}

func (v *vulnService) supportJSON(w http.ResponseWriter, _ *http.Request) {
	ms, err := vuln.SupportPeriods(v.s.cfg.VendorDir)
	if err != nil {
		v.s.cfg.Log.Error("support periods", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "support periods unavailable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": ms})
}

func (v *vulnService) supportPage(w http.ResponseWriter, _ *http.Request) {
	ms, err := vuln.SupportPeriods(v.s.cfg.VendorDir)
	if err != nil {
		v.s.cfg.Log.Error("support periods", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "support periods unavailable")
		return
	}
	v.render(w, http.StatusOK, "support", ms)
}

// render writes one of the public pages. The policy forbids scripts, inline styles,
// framing and foreign form targets; the status page's token stays out of Referer.
func (v *vulnService) render(w http.ResponseWriter, status int, page string, data any) {
	var buf bytes.Buffer
	if err := vuln.RenderPage(&buf, page, data); err != nil {
		v.s.cfg.Log.Error("render page", "page", page, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "page unavailable")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// overdueHourly logs, at start and every hour, the reports past a deadline of the
// policy, as warnings for the vendor's alerting.
//
// TS-0045 5.2.1.2: late handling is noticed.
func (s *Server) overdueHourly(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		s.logOverdue()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) logOverdue() {
	p, err := vuln.LoadPolicy(s.cfg.VendorDir)
	if err != nil {
		s.cfg.Log.Error("vulnerability policy", "err", err)
		return
	}
	st, err := vuln.Open(vuln.Config{VendorDir: s.cfg.VendorDir, Policy: p, Now: s.cfg.Now})
	if err != nil {
		s.cfg.Log.Error("vulnerability reports", "err", err)
		return
	}
	rs, err := st.List()
	if err != nil {
		s.cfg.Log.Error("vulnerability reports", "err", err)
		return
	}
	for _, f := range p.Overdue(rs, s.cfg.Now()) {
		s.cfg.Log.Warn("vulnerability report overdue", "report", f.Report.ID, "deadline", f.Kind,
			"due", f.Deadline.UTC().Format(time.RFC3339), "state", string(f.Report.State))
	}
}
