package cloud

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hearth/internal/identity"
	"hearth/internal/privacy"
)

func (g *rig) url(path string) string {
	return "https://localhost:" + g.srv.URL[strings.LastIndex(g.srv.URL, ":")+1:] + path
}

// do sends a request presenting cert (nil: none) and returns the status and body.
func (g *rig) do(t *testing.T, cert *tls.Certificate, method, path, ctype, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, g.url(path), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := g.mtlsClient(t, cert).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func batch(stream string, items ...string) string {
	return fmt.Sprintf(`{"stream":%q,"items":[%s],"dropped":0}`, stream, strings.Join(items, ","))
}

func dataItem(seq int64, kind string) string {
	return fmt.Sprintf(`{"seq":%d,"kind":%q,"time":"2026-03-01T12:00:00Z","doc":{"n":%d}}`, seq, kind, seq)
}

func (g *rig) send(t *testing.T, id *identity.Identity, body string, accepted, dups, refused int) {
	t.Helper()
	code, res := g.postTelemetry(t, id.ClientCertificate(), body)
	if code != http.StatusOK || res != (TelemetryResponse{accepted, dups, refused}) {
		t.Fatalf("batch %s\n-> %d %+v, want %d accepted, %d duplicates, %d refused", body, code, res, accepted, dups, refused)
	}
}

func seqs(recs []Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, fmt.Sprintf("%s:%d@%s", r.Kind, r.Seq, r.ConsentVersion))
	}
	return strings.Join(s, " ")
}

// TS-0045 5.7.1.9, 5.7.1.10: the vendor stores a unit's documents only under a consent
// in force for their purpose, from the item after a consent to the item before its
// withdrawal; a resent batch, consents included, is stored once.
func TestConsentGatesStorage(t *testing.T) {
	g := newRig(t)
	steps := []struct {
		body                    string
		accepted, dups, refused int
	}{
		{batch(testStream, dataItem(1, "telemetry"), dataItem(2, "security_event")), 0, 0, 2},
		{batch(testStream, consentItem(3, privacy.PurposeTelemetry, true, "2"), dataItem(4, "telemetry"), dataItem(5, "crash_report")), 2, 0, 1},
		{batch(testStream, consentItem(6, privacy.PurposeTelemetry, false, "2"), dataItem(7, "security_event")), 1, 0, 1},
		// Resent batches: every item was decided before.
		{batch(testStream, consentItem(3, privacy.PurposeTelemetry, true, "2"), dataItem(4, "telemetry"), dataItem(5, "crash_report")), 0, 3, 0},
		{batch(testStream, dataItem(1, "telemetry"), dataItem(2, "security_event")), 0, 2, 0},
		{batch(testStream, consentItem(8, privacy.PurposeCrashReports, true, "1"), dataItem(9, "crash_report"), dataItem(10, "telemetry")), 2, 0, 1},
	}
	for i, s := range steps {
		t.Run(fmt.Sprint(i), func(t *testing.T) { g.send(t, g.id, s.body, s.accepted, s.dups, s.refused) })
	}
	if got, want := seqs(stored(t, g.vendor, g.id.Info.Serial)), "telemetry:4@2 crash_report:9@1"; got != want {
		t.Fatalf("stored %s, want %s", got, want)
	}
	e, err := ReadExport(g.vendor, g.id.Info.Serial)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Consents) != 3 || e.Consents[1].Granted || e.Consents[1].Seq != 6 || e.Consents[2].Purpose != privacy.PurposeCrashReports {
		t.Fatalf("consent register %+v", e.Consents)
	}
	// An invalid consent document refuses the whole batch.
	bad := strings.Replace(consentItem(11, privacy.PurposeTelemetry, true, "1"), `"telemetry"`, `"advertising"`, 1)
	if code, _ := g.postTelemetry(t, g.id.ClientCertificate(), batch(testStream, dataItem(12, "telemetry"), bad)); code != http.StatusBadRequest {
		t.Fatalf("invalid consent: %d", code)
	}
}

// TS-0045 5.7.1.11: what a unit sends is stored under its pseudonymous stream, in files
// that never name its serial; only the register links the two.
func TestStoragePseudonymous(t *testing.T) {
	g := newRig(t)
	g.grant(t, privacy.PurposeTelemetry, privacy.PurposeCrashReports, privacy.PurposeCloudBackup)
	g.send(t, g.id, batch(testStream, dataItem(1, "telemetry"), dataItem(2, "crash_report"), dataItem(3, "backup")), 3, 0, 0)
	files, _ := filepath.Glob(filepath.Join(g.vendor, "telemetry", "*"))
	if len(files) != 1 || filepath.Base(files[0]) != testStream+".jsonl" {
		t.Fatalf("telemetry files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if bytes.Contains(b, []byte(g.id.Info.Serial)) || bytes.Count(b, []byte("\n")) != 3 {
		t.Fatalf("stream file names the serial or lacks records:\n%s", b)
	}
	reg, _ := os.ReadFile(filepath.Join(g.vendor, "privacy", "devices", g.id.Info.Serial+".jsonl"))
	if !bytes.Contains(reg, []byte(testStream)) || !bytes.Contains(reg, []byte(consentStream)) {
		t.Fatalf("register does not link the streams:\n%s", reg)
	}
	// Another unit cannot write to, or later erase, this unit's stream.
	other := provisionDevice(t, g.vendor)
	g.grantAs(t, other, strings.Repeat("d", 32))
	if code, _ := g.postTelemetry(t, other.ClientCertificate(), batch(testStream, dataItem(9, "telemetry"))); code != http.StatusConflict {
		t.Fatalf("another unit's stream: %d", code)
	}
}

// grantAs gives every consent for unit id on stream.
func (g *rig) grantAs(t *testing.T, id *identity.Identity, stream string) {
	t.Helper()
	g.send(t, id, batch(stream, consentItem(1, privacy.PurposeTelemetry, true, "1"), consentItem(2, privacy.PurposeCrashReports, true, "1"),
		consentItem(3, privacy.PurposeCloudBackup, true, "1")), 3, 0, 0)
}

// TS-0045 5.6.1.1, 5.7.1.9: a batch whose consents reached the register but whose
// records a crash lost is judged the same way when the gateway resends it.
func TestConsentReplayAfterCrash(t *testing.T) {
	g := newRig(t)
	body := batch(testStream, consentItem(1, privacy.PurposeTelemetry, true, "1"), dataItem(2, "telemetry"),
		consentItem(3, privacy.PurposeTelemetry, false, "1"), dataItem(4, "telemetry"))
	g.send(t, g.id, body, 3, 0, 1)
	// The crash: the records and the register's last line never reached the disk.
	os.Remove(filepath.Join(g.vendor, "telemetry", testStream+".jsonl"))
	regPath := filepath.Join(g.vendor, "privacy", "devices", g.id.Info.Serial+".jsonl")
	reg, _ := os.ReadFile(regPath)
	lines := bytes.SplitAfter(reg, []byte("\n"))
	if !bytes.Contains(lines[len(lines)-2], []byte(`"seen"`)) {
		t.Fatalf("register %s", reg)
	}
	os.WriteFile(regPath, bytes.Join(lines[:len(lines)-2], nil), 0o600)
	g.restart(t)
	g.send(t, g.id, body, 1, 2, 1)
	if got := seqs(stored(t, g.vendor, g.id.Info.Serial)); got != "telemetry:2@1" {
		t.Fatalf("stored %s", got)
	}
}

// restart serves the vendor directory from a new instance, as after a crash.
func (g *rig) restart(t *testing.T) {
	t.Helper()
	svc, err := New(Config{VendorDir: g.vendor})
	if err != nil {
		t.Fatal(err)
	}
	g.svc = svc
	g.srv.Config.Handler = svc.Handler()
}

func (g *rig) erase(t *testing.T, id *identity.Identity, request string) privacy.EraseReceipt {
	t.Helper()
	code, b := g.do(t, id.ClientCertificate(), "POST", "/v1/privacy/erase", "application/json", `{"request":"`+request+`"}`)
	var r privacy.EraseReceipt
	if err := json.Unmarshal(b, &r); code != http.StatusOK || err != nil {
		t.Fatalf("erase: %d %s", code, b)
	}
	return r
}

func (g *rig) export(t *testing.T, id *identity.Identity) Export {
	t.Helper()
	code, b := g.do(t, id.ClientCertificate(), "GET", "/v1/privacy/export", "", "")
	var e Export
	if err := json.Unmarshal(b, &e); code != http.StatusOK || err != nil {
		t.Fatalf("export: %d %s", code, b)
	}
	return e
}

const testRequest = "0123456789abcdef0123456789abcdef"

// TS-0045 5.7.1.5, 5.7.1.7: an erasure deletes every record of every stream of the
// unit and its consents, and nothing of another unit's; it answers with a receipt that
// is kept, returned again for the same request and readable later by the unit alone.
func TestErasure(t *testing.T) {
	g := newRig(t)
	serial := g.id.Info.Serial
	other := provisionDevice(t, g.vendor)
	otherStream := strings.Repeat("d", 32)
	g.grant(t, privacy.PurposeTelemetry, privacy.PurposeCrashReports, privacy.PurposeCloudBackup)
	g.send(t, g.id, batch(testStream, dataItem(1, "telemetry"), dataItem(2, "security_event"), dataItem(3, "crash_report"), dataItem(4, "backup")), 4, 0, 0)
	g.send(t, g.id, batch(strings.Repeat("e", 32), dataItem(1, "telemetry")), 1, 0, 0)
	g.grantAs(t, other, otherStream)
	g.send(t, other, batch(otherStream, dataItem(4, "telemetry")), 1, 0, 0)

	before := g.export(t, g.id)
	if before.Serial != serial || len(before.Streams) != 3 || len(before.Consents) != 3 || len(before.Records) != 5 || len(before.Erasures) != 0 {
		t.Fatalf("export before erasure: %+v", before)
	}
	r := g.erase(t, g.id, testRequest)
	want := map[string]int64{DeletedTelemetry: 3, DeletedCrashReports: 1, DeletedBackups: 1, DeletedConsents: 3, DeletedFiles: 3}
	if r.Request != testRequest || r.Status != privacy.EraseCompleted || r.CompletedAt.Before(r.ReceivedAt) || fmt.Sprint(r.Deleted) != fmt.Sprint(want) {
		t.Fatalf("receipt %+v, want deleted %v", r, want)
	}
	for _, p := range []string{"telemetry/" + testStream + ".jsonl", "telemetry/" + strings.Repeat("e", 32) + ".jsonl", "privacy/devices/" + serial + ".jsonl"} {
		if _, err := os.Stat(filepath.Join(g.vendor, p)); !os.IsNotExist(err) {
			t.Errorf("%s survived the erasure: %v", p, err)
		}
	}
	if n := len(stored(t, g.vendor, other.Info.Serial)); n != 1 {
		t.Fatalf("the other unit's records: %d, want 1", n)
	}
	after := g.export(t, g.id)
	if len(after.Streams)+len(after.Consents)+len(after.Records) != 0 || len(after.Erasures) != 1 || after.Erasures[0].Request != testRequest {
		t.Fatalf("export after erasure: %+v", after)
	}

	// The same request again: the same receipt, nothing deleted anew.
	if again := g.erase(t, g.id, testRequest); !again.CompletedAt.Equal(r.CompletedAt) || fmt.Sprint(again.Deleted) != fmt.Sprint(want) {
		t.Fatalf("repeated request: %+v", again)
	}
	code, b := g.do(t, g.id.ClientCertificate(), "GET", "/v1/privacy/erase/"+testRequest, "", "")
	var got privacy.EraseReceipt
	if json.Unmarshal(b, &got); code != http.StatusOK || !got.CompletedAt.Equal(r.CompletedAt) {
		t.Fatalf("GET receipt: %d %s", code, b)
	}
	for name, tc := range map[string]struct {
		cert *tls.Certificate
		path string
		want int
	}{
		"other unit's receipt": {other.ClientCertificate(), "/v1/privacy/erase/" + testRequest, http.StatusNotFound},
		"no certificate":       {nil, "/v1/privacy/erase/" + testRequest, http.StatusUnauthorized},
		"unknown request":      {g.id.ClientCertificate(), "/v1/privacy/erase/" + strings.Repeat("a", 32), http.StatusNotFound},
		"invalid request id":   {g.id.ClientCertificate(), "/v1/privacy/erase/..%2f..%2fetc", http.StatusNotFound},
		"export, no cert":      {nil, "/v1/privacy/export", http.StatusUnauthorized},
	} {
		if code, b := g.do(t, tc.cert, "GET", tc.path, "", ""); code != tc.want {
			t.Errorf("%s: %d %s, want %d", name, code, b, tc.want)
		}
	}

	// After erasure the unit starts a new stream; nothing is stored until it consents.
	fresh := strings.Repeat("f", 32)
	g.send(t, g.id, batch(fresh, dataItem(1, "telemetry")), 0, 0, 1)
	g.send(t, g.id, batch(fresh, consentItem(2, privacy.PurposeTelemetry, true, "1"), dataItem(3, "telemetry")), 2, 0, 0)
	if got := seqs(stored(t, g.vendor, serial)); got != "telemetry:3@1" {
		t.Fatalf("after erasure stored %s", got)
	}
}

func TestEraseRequestRefused(t *testing.T) {
	g := newRig(t)
	cert := g.id.ClientCertificate()
	for name, tc := range map[string]struct {
		cert        *tls.Certificate
		ctype, body string
		want        int
	}{
		"no certificate": {nil, "application/json", `{"request":"` + testRequest + `"}`, http.StatusUnauthorized},
		"media type":     {cert, "text/plain", `{"request":"` + testRequest + `"}`, http.StatusUnsupportedMediaType},
		"empty":          {cert, "application/json", `{}`, http.StatusBadRequest},
		"upper case id":  {cert, "application/json", `{"request":"` + strings.ToUpper(testRequest) + `"}`, http.StatusBadRequest},
		"unknown field":  {cert, "application/json", `{"request":"` + testRequest + `","all":true}`, http.StatusBadRequest},
		"too large":      {cert, "application/json", `{"request":"` + strings.Repeat(" ", maxEraseBody) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		if code, b := g.do(t, tc.cert, "POST", "/v1/privacy/erase", tc.ctype, tc.body); code != tc.want {
			t.Errorf("%s: %d %s, want %d", name, code, b, tc.want)
		}
	}
	// A superseded certificate is refused once the unit renewed.
	if res, err := g.post(t, cert, g.csr(t), "application/pkcs10"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("renewal: %v", err)
	}
	if code, _ := g.do(t, cert, "POST", "/v1/privacy/erase", "application/json", `{"request":"`+testRequest+`"}`); code != http.StatusForbidden {
		t.Fatalf("superseded certificate: %d", code)
	}
	if code, _ := g.do(t, cert, "GET", "/v1/privacy/export", "", ""); code != http.StatusForbidden {
		t.Fatalf("export with a superseded certificate: %d", code)
	}
}

// TS-0045 5.7.1.5: an erasure a crash interrupted, its intent written and some files
// already gone, is finished when the services start again.
func TestErasureResumesAfterCrash(t *testing.T) {
	g := newRig(t)
	serial := g.id.Info.Serial
	g.grant(t, privacy.PurposeTelemetry)
	g.send(t, g.id, batch(testStream, dataItem(1, "telemetry"), dataItem(2, "telemetry")), 2, 0, 0)
	in, err := g.svc.ledger.intent(serial, testRequest)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(in)
	dir := filepath.Join(g.vendor, "privacy", "erasures", serial)
	os.MkdirAll(dir, 0o700)
	if err := os.WriteFile(filepath.Join(dir, testRequest+".intent"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(g.vendor, "telemetry", testStream+".jsonl")) // deleted before the crash

	g.restart(t)
	if _, err := os.Stat(filepath.Join(g.vendor, "privacy", "devices", serial+".jsonl")); !os.IsNotExist(err) {
		t.Fatalf("register survived: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, testRequest+".intent")); !os.IsNotExist(err) {
		t.Fatalf("intent left behind: %v", err)
	}
	code, body := g.do(t, g.id.ClientCertificate(), "GET", "/v1/privacy/erase/"+testRequest, "", "")
	var r privacy.EraseReceipt
	if json.Unmarshal(body, &r); code != http.StatusOK || r.Status != privacy.EraseCompleted ||
		r.Deleted[DeletedTelemetry] != 2 || r.Deleted[DeletedConsents] != 1 || r.Deleted[DeletedFiles] != 2 {
		t.Fatalf("receipt after resuming: %d %s", code, body)
	}
	if e := g.export(t, g.id); len(e.Records)+len(e.Consents) != 0 {
		t.Fatalf("export after resuming: %+v", e)
	}
	// A new stream, data refused until consent: the old consents are gone.
	g.send(t, g.id, batch(strings.Repeat("a", 32), dataItem(1, "telemetry")), 0, 0, 1)
}

// FuzzPrivacyRequests: arbitrary erase bodies and receipt paths from an authenticated
// unit never cause a 5xx.
func FuzzPrivacyRequests(f *testing.F) {
	g := newRig(f)
	f.Add([]byte(`{"request":"`+testRequest+`"}`), testRequest)
	f.Add([]byte(`{"request":"`), "..")
	f.Add([]byte(`{"request":"`+testRequest+`"}{}`), "%2e%2e")
	f.Fuzz(func(t *testing.T, body []byte, id string) {
		for _, req := range []*http.Request{
			httptest.NewRequest("POST", "https://cloud/v1/privacy/erase", bytes.NewReader(body)),
			httptest.NewRequest("GET", "https://cloud/v1/privacy/erase/x", nil),
		} {
			req.URL.Path = "/v1/privacy/erase/" + id
			if req.Method == "POST" {
				req.URL.Path = "/v1/privacy/erase"
			}
			req.Header.Set("Content-Type", "application/json")
			req.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{g.id.Leaf}}}
			rec := httptest.NewRecorder()
			g.svc.Handler().ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %q %q -> %d %s", req.Method, body, id, rec.Code, rec.Body)
			}
		}
	})
}
