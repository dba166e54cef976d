package cloud

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"hearth/internal/privacy"
)

// TS-0045 5.7.1.8: the register of processing activities is public, as JSON and as a
// page in either language, and by default covers every purpose a unit can consent to,
// with the vendor as the only party.
func TestProcessingRegisterServed(t *testing.T) {
	g := newRig(t)
	code, b := g.do(t, nil, "GET", "/v1/privacy/processing", "", "")
	var reg ProcessingRegister
	if err := json.Unmarshal(b, &reg); code != 200 || err != nil {
		t.Fatalf("JSON register without a client certificate: %d %s", code, b)
	}
	def, err := ParseProcessing(DefaultProcessing())
	if err != nil {
		t.Fatalf("default register: %v", err)
	}
	if !reflect.DeepEqual(reg, def) {
		t.Fatalf("served %+v, want the default", reg)
	}
	for _, p := range privacy.Purposes {
		found := false
		for _, a := range reg.Activities {
			found = found || a.Purpose == p
		}
		if !found {
			t.Errorf("no activity for purpose %s", p)
		}
	}
	for _, a := range reg.Activities {
		for _, p := range a.Parties {
			if p.Name != "Hearth Labs" || p.Role != "controller" {
				t.Errorf("%s: party %+v", a.ID, p)
			}
		}
	}
	for lang, want := range map[string]string{"": "Register of consents", "en": "Deletion receipts", "zh-TW": "同意紀錄"} {
		req := "/privacy/processing"
		if lang != "" {
			req += "?lang=" + lang
		}
		res, err := g.mtlsClient(t, nil).Get(g.url(req))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") || !strings.Contains(string(page), want) {
			t.Errorf("page %q: %d %v\n%s", lang, res.StatusCode, res.Header, page)
		}
	}
}

// TS-0045 5.5.2.1, 5.7.1.8: the services refuse to start on an invalid register, and
// say why.
func TestProcessingRegisterInvalid(t *testing.T) {
	g := newRig(t)
	path := filepath.Join(g.vendor, ProcessingFile)
	def := string(DefaultProcessing())
	for name, tc := range map[string]struct{ body, want string }{
		"unknown field":       {strings.Replace(def, `"legal_basis": "consent",`, `"legal_basis": "consent", "sold_to": "x",`, 1), "unknown field"},
		"empty name":          {strings.Replace(def, `"en": "Crash reports"`, `"en": " "`, 1), "name"},
		"unknown purpose":     {strings.Replace(def, `"purpose": "crash_reports"`, `"purpose": "advertising"`, 1), "unknown purpose"},
		"consent, no purpose": {strings.Replace(def, `"purpose": "crash_reports",`, ``, 1), "names its purpose"},
		"unknown basis":       {strings.Replace(def, `"legal_basis": "consent"`, `"legal_basis": "interest"`, 1), "legal basis"},
		"advertiser role":     {strings.Replace(def, `"role": "controller"`, `"role": "advertiser"`, 1), "unknown role"},
		"repeated id":         {strings.Replace(def, `"id": "crash_reports"`, `"id": "telemetry"`, 1), "repeated"},
		"negative retention":  {strings.Replace(def, `"retention_days": 30`, `"retention_days": -1`, 1), "retention_days"},
		"trailing data":       {def + "{}", "after the register"},
		"not JSON":            {"activities:", "malformed"},
		"no activities":       {`{"controller":{"name":"x","contact":"y"},"statement":{"en":"a","zh-TW":"b"},"activities":[]}`, "no activities"},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.body == def {
				t.Fatal("replacement did not apply")
			}
			os.WriteFile(path, []byte(tc.body), 0o600)
			_, err := New(Config{VendorDir: g.vendor})
			if err == nil || !strings.Contains(err.Error(), "register of processing activities") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming the register and %q", err, tc.want)
			}
		})
	}
}

// The page escapes what the register says: a name with markup shows as text.
func TestProcessingPageEscapes(t *testing.T) {
	g := newRig(t)
	evil := `<script>alert(1)</script>`
	body := strings.Replace(string(DefaultProcessing()), `"en": "Crash reports"`, `"en": "`+strings.ReplaceAll(evil, `"`, `\"`)+`"`, 1)
	body = strings.Replace(body, `"contact": "privacy@hearth.example"`, `"contact": "javascript:alert(1)"`, 1)
	if err := os.WriteFile(filepath.Join(g.vendor, ProcessingFile), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	g.restart(t)
	code, page := g.do(t, nil, "GET", "/privacy/processing?lang=en", "", "")
	if code != 200 || strings.Contains(string(page), "<script") || !strings.Contains(string(page), "&lt;script&gt;alert(1)&lt;/script&gt;") ||
		strings.Contains(string(page), `href="javascript`) {
		t.Fatalf("page not escaped: %d\n%s", code, page)
	}
}

// FuzzParseProcessing: any accepted register keeps the parser's promises and encodes to
// one that parses the same.
func FuzzParseProcessing(f *testing.F) {
	def := DefaultProcessing()
	f.Add(def)
	f.Add(def[:len(def)/2])
	flipped := append([]byte(nil), def...)
	flipped[100] ^= 0x20
	f.Add(flipped)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		reg, err := ParseProcessing(b)
		if err != nil {
			return
		}
		for _, a := range reg.Activities {
			if !validActivityID(a.ID) || blank(a.Name.EN) || blank(a.Name.ZH) || (a.Purpose != "" && !a.Purpose.Valid()) ||
				len(a.Parties) == 0 || len(a.DataCategories) == 0 || (a.LegalBasis == "consent" && a.Purpose == "") {
				t.Fatalf("accepted activity %+v", a)
			}
		}
		again, err := json.Marshal(reg)
		if err != nil {
			t.Fatal(err)
		}
		reg2, err := ParseProcessing(again)
		if err != nil || !reflect.DeepEqual(reg, reg2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, reg, reg2)
		}
	})
}
