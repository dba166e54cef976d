package cloud

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hearth/internal/backoff"
	"hearth/internal/outbox"
	"hearth/internal/privacy"
	"hearth/internal/tlspolicy"
)

const testStream = "00112233445566778899aabbccddeeff"

// mtlsClient is an HTTP client presenting cert (nil: none) and trusting the vendor.
func (g *rig) mtlsClient(t *testing.T, cert *tls.Certificate) *http.Client {
	t.Helper()
	cfg, err := tlspolicy.Client(g.id.Roots, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func (g *rig) telemetryURL() string {
	return "https://localhost:" + g.srv.URL[strings.LastIndex(g.srv.URL, ":")+1:] + "/v1/telemetry"
}

func (g *rig) postTelemetry(t *testing.T, cert *tls.Certificate, body string) (int, TelemetryResponse) {
	t.Helper()
	res, err := g.mtlsClient(t, cert).Post(g.telemetryURL(), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tr TelemetryResponse
	json.NewDecoder(res.Body).Decode(&tr)
	return res.StatusCode, tr
}

// stored reads every record the vendor holds for a unit, through its register.
func stored(t *testing.T, vendor, serial string) []Record {
	t.Helper()
	recs, err := DeviceRecords(vendor, serial)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// consentStream is the stream the tests send their consents on.
const consentStream = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"

// consentItem is a consent item of a batch.
func consentItem(seq int64, p privacy.Purpose, granted bool, version string) string {
	return fmt.Sprintf(`{"seq":%d,"kind":"consent","time":"2026-03-01T12:00:00Z","doc":{"purpose":%q,"granted":%t,"version":%q,"time":"2026-03-01T11:59:00Z"}}`,
		seq, p, granted, version)
}

// grant gives consent to purposes with a batch on consentStream.
func (g *rig) grant(t *testing.T, ps ...privacy.Purpose) {
	t.Helper()
	g.consentSeq++
	var items []string
	for _, p := range ps {
		items = append(items, consentItem(g.consentSeq, p, true, "1"))
		g.consentSeq++
	}
	body := fmt.Sprintf(`{"stream":%q,"items":[%s],"dropped":0}`, consentStream, strings.Join(items, ","))
	if code, res := g.postTelemetry(t, g.id.ClientCertificate(), body); code != http.StatusOK || res.Accepted != len(ps) {
		t.Fatalf("consent: %d %+v", code, res)
	}
}

func batchJSON(stream string, dropped int64, seqs ...int64) string {
	var items []string
	for _, s := range seqs {
		items = append(items, fmt.Sprintf(`{"seq":%d,"kind":"telemetry","time":"2026-03-01T12:00:00Z","doc":{"n":%d}}`, s, s))
	}
	return fmt.Sprintf(`{"stream":%q,"items":[%s],"dropped":%d}`, stream, strings.Join(items, ","), dropped)
}

// TS-0045 5.4.1.4: telemetry is accepted only from a registered unit authenticated by
// its own current certificate.
func TestTelemetryAccessControl(t *testing.T) {
	g := newRig(t)
	body := batchJSON(testStream, 0, 1)
	if code, _ := g.postTelemetry(t, nil, body); code != http.StatusUnauthorized {
		t.Fatalf("without a client certificate: %d", code)
	}
	res, err := g.mtlsClient(t, g.id.ClientCertificate()).Post(g.telemetryURL(), "text/plain", strings.NewReader(body))
	if err != nil || res.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("wrong media type: %v %v", res.StatusCode, err)
	}
	big := `{"stream":"` + testStream + `","items":[],"dropped":0,"pad":"` + strings.Repeat("x", maxTelemetryBody) + `"}`
	if code, _ := g.postTelemetry(t, g.id.ClientCertificate(), big); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized batch: %d", code)
	}
	if code, _ := g.postTelemetry(t, g.id.ClientCertificate(), `{"items":`); code != http.StatusBadRequest {
		t.Fatalf("malformed batch: %d", code)
	}
	if recs := stored(t, g.vendor, g.id.Info.Serial); len(recs) != 0 {
		t.Fatalf("refused requests stored %d records", len(recs))
	}
	// A superseded certificate is refused once the unit renewed.
	old := g.id.ClientCertificate()
	if res, err := g.post(t, old, g.csr(t), "application/pkcs10"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("renewal: %v", err)
	}
	if code, _ := g.postTelemetry(t, old, body); code != http.StatusForbidden {
		t.Fatalf("superseded certificate: %d", code)
	}
}

// TS-0045 5.6.1.2: a resent batch is acknowledged but stored once, its drop count
// recorded once; later items of a partly stored batch are kept; a new stream (a wiped
// gateway) starts over.
func TestTelemetryIdempotent(t *testing.T) {
	g := newRig(t)
	g.grant(t, privacy.PurposeTelemetry)
	cert := g.id.ClientCertificate()
	steps := []struct {
		body           string
		accepted, dups int
	}{
		{batchJSON(testStream, 4, 1, 2, 3), 3, 0},
		{batchJSON(testStream, 4, 1, 2, 3), 0, 3},
		{batchJSON(testStream, 0, 3, 4, 7), 2, 1},
		{batchJSON(strings.Repeat("f", 32), 0, 1), 1, 0},
	}
	for i, s := range steps {
		code, res := g.postTelemetry(t, cert, s.body)
		if code != http.StatusOK || res.Accepted != s.accepted || res.Duplicates != s.dups {
			t.Fatalf("step %d: %d %+v, want %d accepted and %d duplicates", i, code, res, s.accepted, s.dups)
		}
	}
	recs := stored(t, g.vendor, g.id.Info.Serial)
	var got []string
	var dropped int64
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s:%d", r.Stream[:1], r.Seq))
		dropped += r.Dropped
	}
	if want := "0:1 0:2 0:3 0:4 0:7 f:1"; strings.Join(got, " ") != want || dropped != 4 {
		t.Fatalf("stored %v with %d drops, want %s with 4", got, dropped, want)
	}
}

// TS-0045 5.6.1.1: a line torn by a crash is cut off on the next start; earlier lines
// and the deduplication state survive.
func TestTelemetryTornTail(t *testing.T) {
	g := newRig(t)
	g.grant(t, privacy.PurposeTelemetry)
	cert := g.id.ClientCertificate()
	if code, _ := g.postTelemetry(t, cert, batchJSON(testStream, 0, 1, 2)); code != http.StatusOK {
		t.Fatal(code)
	}
	path := filepath.Join(g.vendor, "telemetry", testStream+".jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"received":"2026-03-01T12:00:00Z","stream":"` + testStream + `","seq":3,"kind":"tel`)
	f.Close()

	// A restarted service on the same vendor directory.
	svc, err := New(Config{VendorDir: g.vendor})
	if err != nil {
		t.Fatal(err)
	}
	g.srv.Config.Handler = svc.Handler()
	code, res := g.postTelemetry(t, cert, batchJSON(testStream, 0, 2, 3))
	if code != http.StatusOK || res.Accepted != 1 || res.Duplicates != 1 {
		t.Fatalf("after restart: %d %+v", code, res)
	}
	var seqs []int64
	for _, r := range stored(t, g.vendor, g.id.Info.Serial) {
		seqs = append(seqs, r.Seq)
	}
	if fmt.Sprint(seqs) != "[1 2 3]" {
		t.Fatalf("stored %v", seqs)
	}
}

func TestParseTelemetryBatch(t *testing.T) {
	item := func(seq int, kind, tm, doc string) string {
		return fmt.Sprintf(`{"seq":%d,"kind":%q,"time":%q,"doc":%s}`, seq, kind, tm, doc)
	}
	ok := item(1, "telemetry", "2026-03-01T12:00:00Z", `{"a":1}`)
	wrap := func(items ...string) string {
		return `{"stream":"` + testStream + `","items":[` + strings.Join(items, ",") + `],"dropped":0}`
	}
	many := make([]string, maxTelemetryItems+1)
	for i := range many {
		many[i] = item(i+1, "telemetry", "2026-03-01T12:00:00Z", `{}`)
	}
	for name, tc := range map[string]struct {
		body string
		ok   bool
	}{
		"valid":              {wrap(ok, item(5, "security_event", "2026-03-01T12:00:00.5+08:00", ` { "b" : [1, 2] } `)), true},
		"most items":         {wrap(many[:maxTelemetryItems]...), true},
		"too many items":     {wrap(many...), false},
		"no items":           {wrap(), false},
		"unknown kind":       {wrap(item(1, "shell", "2026-03-01T12:00:00Z", `{}`)), false},
		"bad time":           {wrap(item(1, "telemetry", "yesterday", `{}`)), false},
		"doc not an object":  {wrap(item(1, "telemetry", "2026-03-01T12:00:00Z", `[1]`)), false},
		"doc null":           {wrap(item(1, "telemetry", "2026-03-01T12:00:00Z", `null`)), false},
		"seq zero":           {wrap(item(0, "telemetry", "2026-03-01T12:00:00Z", `{}`)), false},
		"seq repeated":       {wrap(ok, ok), false},
		"seq decreasing":     {wrap(item(2, "telemetry", "2026-03-01T12:00:00Z", `{}`), ok), false},
		"seq fractional":     {strings.Replace(wrap(ok), `"seq":1`, `"seq":1.5`, 1), false},
		"seq too large":      {wrap(item(1<<53+1, "telemetry", "2026-03-01T12:00:00Z", `{}`)), false},
		"negative dropped":   {strings.Replace(wrap(ok), `"dropped":0`, `"dropped":-1`, 1), false},
		"unknown field":      {strings.Replace(wrap(ok), `"dropped":0`, `"dropped":0,"x":1`, 1), false},
		"unknown item field": {wrap(strings.Replace(ok, `"seq"`, `"extra":1,"seq"`, 1)), false},
		"trailing data":      {wrap(ok) + `{}`, false},
		"bad stream":         {strings.Replace(wrap(ok), testStream, strings.ToUpper(testStream), 1), false},
		"no stream":          {strings.Replace(wrap(ok), `"stream":"`+testStream+`",`, "", 1), false},
		"big doc":            {wrap(item(1, "telemetry", "2026-03-01T12:00:00Z", `{"a":"`+strings.Repeat("x", maxTelemetryDoc)+`"}`)), false},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := ParseTelemetryBatch([]byte(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err == nil && bytes.ContainsAny(b.Items[len(b.Items)-1].Doc, " \n") {
				t.Fatalf("document not compacted: %s", b.Items[len(b.Items)-1].Doc)
			}
		})
	}
}

// FuzzParseTelemetryBatch: any input is refused or yields a batch that keeps every
// promise of the parser, and encodes to a batch that parses the same.
func FuzzParseTelemetryBatch(f *testing.F) {
	good := batchJSON(testStream, 2, 1, 2, 9)
	f.Add([]byte(good))
	f.Add([]byte(good[:len(good)/2]))
	flipped := []byte(good)
	flipped[40] ^= 0x20
	f.Add(flipped)
	f.Add([]byte(`{"stream":"` + testStream + `","items":[{"seq":1,"kind":"security_event","time":"2026-03-01T12:00:00Z","doc":{"a":{"b":[null,true,"\u00e9"]}}}],"dropped":0}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseTelemetryBatch(body)
		if err != nil {
			return
		}
		if len(b.Items) == 0 || len(b.Items) > maxTelemetryItems || b.Dropped < 0 {
			t.Fatalf("accepted %+v", b)
		}
		for i, it := range b.Items {
			if !privacy.KnownKind(it.Kind) || it.Seq <= 0 || (i > 0 && it.Seq <= b.Items[i-1].Seq) ||
				len(it.Doc) == 0 || it.Doc[0] != '{' || bytes.ContainsRune(it.Doc, '\n') {
				t.Fatalf("accepted item %+v", it)
			}
		}
		again, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := ParseTelemetryBatch(again)
		if err != nil {
			t.Fatalf("re-encoded batch refused: %v\n%s", err, again)
		}
		if a, c := fmt.Sprint(b), fmt.Sprint(b2); a != c {
			t.Fatalf("round trip changed the batch:\n%s\n%s", a, c)
		}
	})
}

// FuzzTelemetryHandler: arbitrary bodies from an authenticated unit never cause a 5xx.
func FuzzTelemetryHandler(f *testing.F) {
	g := newRig(f)
	f.Add([]byte(batchJSON(testStream, 0, 1, 2)))
	f.Add([]byte(`{"items":[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "https://cloud/v1/telemetry", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{g.id.Leaf}}}
		rec := httptest.NewRecorder()
		g.svc.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("body %q -> %d %s", body, rec.Code, rec.Body)
		}
	})
}

// TS-0045 5.6.1.1, 5.6.1.2, 5.6.1.3: a gateway's outbox, sending over mutual TLS with
// the unit's identity to the real service, delivers everything it queued in order,
// including what it queued while the cloud was unreachable, after reopening its queue.
func TestTelemetryEndToEnd(t *testing.T) {
	g := newRig(t)
	g.grant(t, privacy.PurposeTelemetry)
	client := g.mtlsClient(t, g.id.ClientCertificate())
	dir := t.TempDir()
	// The gateway first knows a cloud address where nothing answers (an outage).
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	open := func(url string) *outbox.Outbox {
		ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), outbox.Config{
			Sender:  outbox.NewHTTPSender(client, url),
			Allowed: func(string) bool { return true },
			Policy:  backoff.Policy{Base: time.Millisecond, Max: 10 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		return ob
	}
	ob := open(downURL)
	for i := 1; i <= 150; i++ {
		kind := outbox.KindTelemetry
		if i%10 == 0 {
			kind = outbox.KindSecurityEvent
		}
		// Documents carry only the fields the privacy inventory lists for their kind.
		doc := fmt.Sprintf(`{"firmware":"1.0.0","sensors":%d}`, i)
		if kind == outbox.KindSecurityEvent {
			doc = fmt.Sprintf(`{"kind":"sensor.quarantined","severity":"warning","time":%d}`, i)
		}
		if err := ob.Enqueue(t.Context(), kind, json.RawMessage(doc)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for ob.Stats().LastError == "" && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if s := ob.Stats(); s.Queued != 150 || s.LastError == "" {
		t.Fatalf("during the outage: %+v", s)
	}
	ob.Close()

	// Restarted, with the cloud reachable.
	ob = open(g.telemetryURL())
	defer ob.Close()
	ctx, cancel = context.WithCancel(t.Context())
	go func() { done <- ob.Run(ctx) }()
	for ob.Stats().Queued > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	recs := stored(t, g.vendor, g.id.Info.Serial)
	if len(recs) != 150 {
		t.Fatalf("cloud stored %d items, want 150 (stats %+v)", len(recs), ob.Stats())
	}
	for i, r := range recs {
		var d struct{ Sensors, Time, N int }
		json.Unmarshal(r.Doc, &d)
		d.N = d.Sensors + d.Time
		wantKind := "telemetry"
		if d.N%10 == 0 {
			wantKind = "security_event"
		}
		if d.N != i+1 || r.Kind != wantKind || (i > 0 && r.Seq <= recs[i-1].Seq) || r.Stream != recs[0].Stream {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	if s := ob.Stats(); s.LastSuccess.IsZero() || s.Queued != 0 {
		t.Fatalf("after draining: %+v", s)
	}
}
