package cloud

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"hearth/internal/privacy"
)

// ProcessingFile is where a vendor keeps its register of processing activities, under
// the vendor directory. Without it the services publish DefaultProcessing.
const ProcessingFile = "privacy/processing.json"

// maxProcessing bounds the register file.
const maxProcessing = 256 << 10

//go:embed processing/default.json
var defaultProcessing []byte

//go:embed processing/page.html
var processingPage string

var processingTmpl = template.Must(template.New("page").Parse(processingPage))

// Text is a phrase in both of the register's languages.
type Text struct {
	EN string `json:"en"`
	ZH string `json:"zh-TW"`
}

// Party is someone who takes part in an activity.
type Party struct {
	Name    string `json:"name"`
	Role    string `json:"role"` // controller, processor or third_party
	Country string `json:"country"`
}

// Activity is one processing activity of the register.
type Activity struct {
	ID   string `json:"id"`
	Name Text   `json:"name"`
	// Purpose is the consent purpose the activity depends on; empty for an activity
	// that does not rest on consent (its legal basis says which).
	Purpose        privacy.Purpose `json:"purpose,omitempty"`
	PurposeText    Text            `json:"purpose_text"`
	DataCategories []Text          `json:"data_categories"`
	LegalBasis     string          `json:"legal_basis"` // consent or legal_obligation
	Parties        []Party         `json:"parties"`
	Location       string          `json:"location"`
	Retention      Text            `json:"retention"`
	RetentionDays  int             `json:"retention_days"` // 0: until the owner deletes
	Safeguards     []Text          `json:"safeguards"`
}

// Controller names who is responsible for the processing and how to reach them.
type Controller struct {
	Name    string `json:"name"`
	Contact string `json:"contact"`
}

// ProcessingRegister is the vendor's register of processing activities: what personal
// data it collects from units, why, on what basis, who receives it, where it is kept,
// for how long and how it is protected.
//
// TS-0045 5.7.1.8: the vendor's management of personal data is kept as data and
// published, covering every party (there are no third parties or advertisers in the
// default). TS-0045 5.7.1.11: it states what telemetry is necessary for.
type ProcessingRegister struct {
	Controller Controller `json:"controller"`
	Statement  Text       `json:"statement"`
	Activities []Activity `json:"activities"`
}

// DefaultProcessing returns the register the services publish when the vendor keeps
// none: Hearth Labs as controller and sole recipient, hosted by itself.
func DefaultProcessing() []byte { return bytes.Clone(defaultProcessing) }

// LoadProcessing reads the vendor's register, or the default when the vendor has none.
// An invalid register is an error: the services do not start on it.
func LoadProcessing(vendorDir string) (ProcessingRegister, error) {
	path := filepath.Join(vendorDir, ProcessingFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b, path = defaultProcessing, "embedded default register"
	} else if err != nil {
		return ProcessingRegister{}, err
	}
	reg, err := ParseProcessing(b)
	if err != nil {
		return reg, fmt.Errorf("register of processing activities %s: %w", path, err)
	}
	return reg, nil
}

// ParseProcessing decodes a register strictly (one JSON object, no unknown fields) and
// validates it: every activity has a unique id, names and texts in both languages, a
// known purpose and legal basis (consent needs a purpose), at least one data category,
// party and safeguard, one controller among its parties, a location and a retention.
//
// TS-0045 5.5.2.1: configuration is validated before use.
func ParseProcessing(b []byte) (ProcessingRegister, error) {
	var reg ProcessingRegister
	if len(b) > maxProcessing {
		return reg, errors.New("larger than 256 KiB")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&reg); err != nil {
		return reg, fmt.Errorf("malformed: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return reg, errors.New("data after the register")
	}
	if blank(reg.Controller.Name) || blank(reg.Controller.Contact) {
		return reg, errors.New("controller name and contact are required")
	}
	if err := checkText(reg.Statement); err != nil {
		return reg, fmt.Errorf("statement: %w", err)
	}
	if len(reg.Activities) == 0 {
		return reg, errors.New("no activities")
	}
	ids := map[string]bool{}
	for i, a := range reg.Activities {
		if err := checkActivity(a); err != nil {
			return reg, fmt.Errorf("activity %d (%q): %w", i+1, a.ID, err)
		}
		if ids[a.ID] {
			return reg, fmt.Errorf("activity %d: id %q repeated", i+1, a.ID)
		}
		ids[a.ID] = true
	}
	return reg, nil
}

func checkActivity(a Activity) error {
	if !validActivityID(a.ID) {
		return errors.New("id must be 1 to 40 of [a-z0-9_-]")
	}
	if err := checkText(a.Name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if err := checkText(a.PurposeText); err != nil {
		return fmt.Errorf("purpose_text: %w", err)
	}
	if a.Purpose != "" && !a.Purpose.Valid() {
		return fmt.Errorf("unknown purpose %q", a.Purpose)
	}
	switch a.LegalBasis {
	case "consent":
		if a.Purpose == "" {
			return errors.New("an activity based on consent names its purpose")
		}
	case "legal_obligation":
	default:
		return fmt.Errorf("unknown legal basis %q (consent or legal_obligation)", a.LegalBasis)
	}
	if err := checkTexts("data_categories", a.DataCategories); err != nil {
		return err
	}
	if err := checkTexts("safeguards", a.Safeguards); err != nil {
		return err
	}
	if err := checkParties(a.Parties); err != nil {
		return err
	}
	if blank(a.Location) {
		return errors.New("location is required")
	}
	if err := checkText(a.Retention); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if a.RetentionDays < 0 || a.RetentionDays > 100*366 {
		return errors.New("retention_days out of range")
	}
	return nil
}

func checkParties(ps []Party) error {
	controllers := 0
	for i, p := range ps {
		if blank(p.Name) || blank(p.Country) {
			return fmt.Errorf("party %d: name and country are required", i+1)
		}
		switch p.Role {
		case "controller":
			controllers++
		case "processor", "third_party":
		default:
			return fmt.Errorf("party %d: unknown role %q (controller, processor or third_party)", i+1, p.Role)
		}
	}
	if controllers != 1 {
		return errors.New("exactly one party is the controller")
	}
	return nil
}

func checkTexts(field string, ts []Text) error {
	if len(ts) == 0 {
		return fmt.Errorf("%s: at least one is required", field)
	}
	for i, t := range ts {
		if err := checkText(t); err != nil {
			return fmt.Errorf("%s %d: %w", field, i+1, err)
		}
	}
	return nil
}

func checkText(t Text) error {
	if blank(t.EN) || blank(t.ZH) {
		return errors.New("needs both en and zh-TW")
	}
	return nil
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

func validActivityID(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// processingJSON serves GET /v1/privacy/processing, to anyone.
func (s *Server) processingJSON(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.processing)
}

// pageText is the page's own wording in one language.
type pageText struct {
	Title, Controller, Switch, Purpose, Consent, Data, Basis, Parties, Location, Retention, Safeguards string
}

var pageTexts = map[string]pageText{
	"en": {Title: "How Hearth's vendor processes personal data", Controller: "Controller", Switch: "中文",
		Purpose: "Purpose", Consent: "consent", Data: "Data", Basis: "Legal basis", Parties: "Who receives it",
		Location: "Where it is kept", Retention: "How long", Safeguards: "Safeguards"},
	"zh-TW": {Title: "Hearth 廠商如何處理個人資料", Controller: "資料控制者", Switch: "English",
		Purpose: "目的", Consent: "同意項目", Data: "資料", Basis: "法律依據", Parties: "接收者",
		Location: "保存地點", Retention: "保存期間", Safeguards: "保護措施"},
}

var pageWords = map[string]map[string]string{
	"en":    {"consent": "the owner's consent", "legal_obligation": "legal obligation", "controller": "controller", "processor": "processor", "third_party": "third party"},
	"zh-TW": {"consent": "使用者同意", "legal_obligation": "法定義務", "controller": "控制者", "processor": "受託處理者", "third_party": "第三方"},
}

// processingHTML serves GET /privacy/processing?lang=en|zh-TW, to anyone: the register
// as a page, in English unless Traditional Chinese is asked for.
func (s *Server) processingHTML(w http.ResponseWriter, r *http.Request) {
	lang, other := "en", "zh-TW"
	if r.URL.Query().Get("lang") == "zh-TW" {
		lang, other = "zh-TW", "en"
	}
	words := pageWords[lang]
	data := map[string]any{
		"Lang": lang, "Other": other, "T": pageTexts[lang], "Reg": s.processing,
		"Text": func(t Text) string {
			if lang == "zh-TW" {
				return t.ZH
			}
			return t.EN
		},
		"Basis": func(b string) string { return words[b] },
		"Role":  func(r string) string { return words[r] },
	}
	var buf bytes.Buffer
	if err := processingTmpl.Execute(&buf, data); err != nil {
		s.cfg.Log.Error("render processing register", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "page unavailable")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("Content-Language", lang)
	w.Write(buf.Bytes())
}
