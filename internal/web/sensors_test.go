package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hearth/internal/api"
	"hearth/internal/sensors"
	"hearth/internal/sensors/sensorstest"
)

// newSensorUI is the UI with a real sensor service over real SQLite databases.
func newSensorUI(t *testing.T) (*ui, *sensors.Service) {
	t.Helper()
	var svc *sensors.Service
	u := newUIWith(t, func(u *ui, cfg *api.Config) {
		svc = sensorstest.Run(t, sensors.Config{Store: u.db, Events: u.ev, Now: u.clk.Now})
		cfg.Sensors = svc
	})
	return u, svc
}

// accept feeds a reading as the broker would and waits until it is stored.
func accept(t *testing.T, svc *sensors.Service, id string, r sensors.Reading) {
	t.Helper()
	res := make(chan error, 1)
	if err := svc.Accept(context.Background(), id, r.Marshal(), "192.0.2.7:4000", func(err error) { res <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-res:
		if err != nil {
			t.Fatalf("reading %+v not stored: %v", r, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading neither stored nor refused")
	}
}

var (
	secretRE   = regexp.MustCompile(`id="sensor-credential-secret">([^<]+)<`)
	sensorIDRE = regexp.MustCompile(`id="sensor-credential-id">([a-z2-7]{16})<`)
)

// pair pairs a sensor through the form and returns its ID and credential.
func pair(t *testing.T, b *browser, name, model string) (id, secret string, p page) {
	t.Helper()
	p = b.post("/sensors", "/sensors/pair", url.Values{"name": {name}, "model": {model}})
	s, i := secretRE.FindStringSubmatch(p.body), sensorIDRE.FindStringSubmatch(p.body)
	if p.status != 200 || s == nil || i == nil {
		t.Fatalf("pair %q: %d, credential shown: %v", name, p.status, s != nil)
	}
	return i[1], s[1], p
}

// addMember creates a member account and returns their signed-in browser.
func addMember(t *testing.T, u *ui, owner *browser) *browser {
	t.Helper()
	p := owner.post("/users", "/users/add", url.Values{"username": {"alice"}, "role": {"member"}})
	m := regexp.MustCompile(`id="temporary-password-value">([^<]+)<`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("add member: %d", p.status)
	}
	alice := u.browser("en")
	alice.login("alice", m[1])
	alice.post("/setup/password", "/setup/password", url.Values{"current_password": {m[1]}, "new_password": {"blue kettle whistles"}, "confirm_password": {"blue kettle whistles"}})
	return alice
}

// TS-0045 5.7.1.3, 5.3.1.14: both pages in both languages tell what a sensor senses,
// that it cannot be updated and why, until when it is supported and how it is replaced.
func TestSensorPagesInBothLanguages(t *testing.T) {
	for _, tc := range []struct {
		lang                                                   string
		list, senses, notUpdatable, supported, replace, paired string
	}{
		{"zh-TW", "感測器", "量測周圍空氣的溫度與濕度", "此感測器的軟體無法更新", "支援至 2031年12月31日", "如何更換", "已配對感測器"},
		{"en", "Sensors", "Measures the temperature and the humidity", "software cannot be updated", "Supported until 31 December 2031", "How to replace it", "Sensor paired"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			u, _ := newSensorUI(t)
			b := u.setUpOwner(tc.lang)
			p := b.do("GET", "/sensors", nil)
			for _, want := range []string{`href="/sensors" aria-current="page"`, tc.list, `id="pair-form"`, `value="HS-TH1"`, tc.senses, `id="sensors-none"`} {
				if p.status != 200 || !strings.Contains(p.body, want) {
					t.Errorf("sensors page (%d) lacks %q", p.status, want)
				}
			}
			id, _, _ := pair(t, b, "Living room", "HS-TH1")
			p = b.do("GET", "/sensors", nil)
			if !strings.Contains(p.body, `id="sensor-`+id+`"`) || !strings.Contains(p.body, "Living room") || !strings.Contains(p.body, tc.senses) {
				t.Errorf("the list does not show the paired sensor with what it senses")
			}
			p = b.do("GET", "/sensors/"+id, nil)
			for _, want := range []string{tc.senses, tc.notUpdatable, tc.supported, tc.replace, `id="sensor-actions"`, `id="chart-temperature-24h"`, `id="chart-humidity-7d"`, `id="chart-battery-24h"`, "HS-TH2", `href="/sensors" aria-current="page"`} {
				if p.status != 200 || !strings.Contains(p.body, want) {
					t.Errorf("sensor page (%d) lacks %q", p.status, want)
				}
			}
			if strings.Contains(p.body, "[") && regexp.MustCompile(`\[[a-z_]+\.[a-z_.0-9A-Z-]+\]`).MatchString(p.body) {
				t.Errorf("a message key is missing: %s", regexp.MustCompile(`\[[a-z_]+\.[a-z_.0-9A-Z-]+\]`).FindString(p.body))
			}
			if p := b.do("GET", "/", nil); !strings.Contains(p.body, tc.paired) {
				t.Errorf("the dashboard's event list does not name the pairing in %s", tc.lang)
			}
		})
	}
}

// Without the sensor broker there are no Sensors pages and no menu entry.
func TestSensorsHiddenWithoutBroker(t *testing.T) {
	u := newUI(t)
	b := u.setUpOwner("en")
	if p := b.do("GET", "/sensors", nil); p.status != 404 {
		t.Fatalf("GET /sensors without a broker: %d", p.status)
	}
	if p := b.do("GET", "/", nil); strings.Contains(p.body, `href="/sensors"`) {
		t.Fatal("the menu offers Sensors without a broker")
	}
}

// TS-0045 5.1.1.1: each sensor gets its own credential, shown once, never listed again
// nor stored by the browser.
func TestPairingShowsCredentialOnce(t *testing.T) {
	u, svc := newSensorUI(t)
	b := u.setUpOwner("en")
	id, secret, p := pair(t, b, "Hall door", "HS-D1")
	for _, want := range []string{`id="sensor-credential-username">` + id + "<", `id="sensor-credential-topic">sensors/` + id + "/reading<", "shown only now"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("credential page lacks %q", want)
		}
	}
	res := b.raw("POST", "/sensors/pair", url.Values{"name": {"Back door"}, "model": {"HS-D1"}, "csrf": {b.token("/sensors")}})
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("credential response Cache-Control %q", cc)
	}
	if err := svc.Authenticate(id, id, []byte(secret), "192.0.2.7:1"); err != nil {
		t.Fatalf("the credential shown does not work: %v", err)
	}
	for _, path := range []string{"/sensors", "/sensors/" + id, "/"} {
		if p := b.do("GET", path, nil); strings.Contains(p.body, secret) || strings.Contains(p.body, "sensor-credential-secret") {
			t.Errorf("%s shows the credential again", path)
		}
	}
	_, other, _ := pair(t, b, "Cellar door", "HS-D1")
	if other == secret {
		t.Fatal("two sensors got the same credential")
	}
}

// TS-0045 5.2.2.7: members see sensors but cannot pair or manage them.
func TestMemberCannotManageSensors(t *testing.T) {
	u, svc := newSensorUI(t)
	owner := u.setUpOwner("en")
	id, _, _ := pair(t, owner, "Kitchen", "HS-TH1")
	alice := addMember(t, u, owner)
	p := alice.do("GET", "/sensors", nil)
	if p.status != 200 || !strings.Contains(p.body, "Kitchen") || strings.Contains(p.body, `id="pair-form"`) || !strings.Contains(p.body, `id="sensors-members"`) {
		t.Fatalf("member's sensor list: %d", p.status)
	}
	p = alice.do("GET", "/sensors/"+id, nil)
	if p.status != 200 || strings.Contains(p.body, `id="sensor-actions"`) || !strings.Contains(p.body, "software cannot be updated") {
		t.Fatalf("member's sensor page: %d", p.status)
	}
	for _, action := range []string{"/sensors/pair", "/sensors/" + id + "/quarantine", "/sensors/" + id + "/replace", "/sensors/" + id + "/remove"} {
		if p := alice.post("/sensors", action, url.Values{"name": {"Mallory"}, "model": {"HS-TH1"}, "confirm": {"yes"}}); p.status != 403 {
			t.Errorf("member POST %s: %d", action, p.status)
		}
	}
	if len(svc.List()) != 1 {
		t.Fatal("a member paired a sensor")
	}
	if v, _ := svc.Get(id); v.State != sensors.Active {
		t.Fatalf("a member changed the sensor to %s", v.State)
	}
}

// TS-0045 5.3.1.15: quarantine disconnects and refuses a sensor until released;
// replacement retires it and pairs its successor; removal needs a confirmation.
func TestSensorLifecycleFromPages(t *testing.T) {
	u, svc := newSensorUI(t)
	b := u.setUpOwner("en")
	id, secret, _ := pair(t, b, "Nursery", "HS-TH1")
	page := "/sensors/" + id

	p := b.post(page, page+"/quarantine", url.Values{})
	if p.status != 303 || p.location != page+"?m=sensor_quarantined" {
		t.Fatalf("quarantine: %d → %q", p.status, p.location)
	}
	if err := svc.Authenticate(id, id, []byte(secret), "192.0.2.7:1"); !errors.Is(err, sensors.ErrRefused) {
		t.Fatalf("quarantined sensor connects: %v", err)
	}
	p = b.do("GET", p.location, nil)
	if !strings.Contains(p.body, `id="sensor-quarantined"`) || !strings.Contains(p.body, `data-state="quarantined"`) || !strings.Contains(p.body, `id="sensor-release"`) || strings.Contains(p.body, `id="sensor-quarantine"`) {
		t.Fatal("the page does not show the quarantine")
	}
	if p := b.post(page, page+"/quarantine", url.Values{}); p.status != 409 || !strings.Contains(p.body, "no longer in a state that allows this") {
		t.Fatalf("second quarantine: %d", p.status)
	}
	if p := b.post(page, page+"/release", url.Values{}); p.status != 303 || p.location != page+"?m=sensor_released" {
		t.Fatalf("release: %d → %q", p.status, p.location)
	}
	if err := svc.Authenticate(id, id, []byte(secret), "192.0.2.7:1"); err != nil {
		t.Fatalf("released sensor refused: %v", err)
	}

	p = b.post(page, page+"/replace", url.Values{})
	newID, newSecret := sensorIDRE.FindStringSubmatch(p.body), secretRE.FindStringSubmatch(p.body)
	if p.status != 200 || newID == nil || newSecret == nil || newID[1] == id || !strings.Contains(p.body, "The replacement for “Nursery” is paired") {
		t.Fatalf("replace: %d", p.status)
	}
	old, _ := svc.Get(id)
	next, _ := svc.Get(newID[1])
	if old.State != sensors.Retired || next.State != sensors.Active || next.Name != "Nursery" || next.Model != "HS-TH2" || next.Replaces != id {
		t.Fatalf("after replacement: old %+v, new %+v", old.Sensor, next.Sensor)
	}
	if err := svc.Authenticate(id, id, []byte(secret), "192.0.2.7:1"); err == nil {
		t.Fatal("the replaced sensor still connects")
	}
	if err := svc.Authenticate(next.ID, next.ID, []byte(newSecret[1]), "192.0.2.7:1"); err != nil {
		t.Fatalf("the replacement's credential does not work: %v", err)
	}
	if p := b.do("GET", page, nil); !strings.Contains(p.body, `id="sensor-retired"`) || !strings.Contains(p.body, `id="sensor-replaced-by">`+next.ID) || strings.Contains(p.body, `id="sensor-replace"`) {
		t.Fatal("the retired sensor's page does not point to its replacement")
	}

	if p := b.post(page, page+"/remove", url.Values{}); p.status != 400 || !strings.Contains(p.body, "Tick the box to confirm") {
		t.Fatalf("remove without confirmation: %d", p.status)
	}
	if _, err := svc.Get(id); err != nil {
		t.Fatal("removed without confirmation")
	}
	if p := b.post(page, page+"/remove", url.Values{"confirm": {"yes"}}); p.status != 303 || p.location != "/sensors?m=sensor_removed" {
		t.Fatalf("remove: %d → %q", p.status, p.location)
	}
	if _, err := svc.Get(id); !errors.Is(err, sensors.ErrNotFound) {
		t.Fatalf("still there after removal: %v", err)
	}
	if p := b.do("GET", page, nil); p.status != 404 {
		t.Fatalf("removed sensor's page: %d", p.status)
	}
}

// Owner actions need a recent password; the owner returns to the sensor's page.
func TestSensorActionsNeedFreshPassword(t *testing.T) {
	u, svc := newSensorUI(t)
	b := u.setUpOwner("en")
	id, _, _ := pair(t, b, "Garage", "HS-M1")
	u.clk.Advance(11 * time.Minute)
	page := "/sensors/" + id
	for _, action := range []string{"/quarantine", "/replace", "/remove"} {
		p := b.post(page, page+action, url.Values{"confirm": {"yes"}})
		if p.status != 303 || p.location != "/reauth?next="+url.QueryEscape(page) {
			t.Fatalf("stale %s: %d → %q", action, p.status, p.location)
		}
	}
	if p := b.post("/sensors", "/sensors/pair", url.Values{"name": {"Attic"}, "model": {"HS-M1"}}); p.status != 303 || p.location != "/reauth?next=%2Fsensors" {
		t.Fatalf("stale pairing: %d → %q", p.status, p.location)
	}
	if v, _ := svc.Get(id); v.State != sensors.Active || len(svc.List()) != 1 {
		t.Fatal("an action ran without a fresh password")
	}
}

// TS-0045 5.5.2.1: names, models and IDs are validated; errors are clear and in the
// user's language.
func TestSensorInputErrors(t *testing.T) {
	u, svc := newSensorUI(t)
	for _, tc := range []struct{ lang, nameErr, modelErr, notFound string }{
		{"en", "A sensor name has 1 to 64 characters", "Choose one of the listed models", "There is no sensor with this ID"},
		{"zh-TW", "感測器名稱須為 1 到 64 個字元", "請選擇列出的型號之一", "沒有這個 ID 的感測器"},
	} {
		b := u.browser(tc.lang)
		if tc.lang == "en" {
			b = u.setUpOwner(tc.lang)
		} else {
			b.login("owner", "quiet river morning")
		}
		for _, name := range []string{"", " Leading space", "Trailing space ", "bell\x07", strings.Repeat("x", 65)} {
			p := b.post("/sensors", "/sensors/pair", url.Values{"name": {name}, "model": {"HS-TH1"}})
			if p.status != 400 || !strings.Contains(p.body, tc.nameErr) {
				t.Errorf("%s: name %q: %d", tc.lang, name, p.status)
			}
		}
		for _, model := range []string{"", "HS-X9", "hs-th1", "<script>"} {
			p := b.post("/sensors", "/sensors/pair", url.Values{"name": {"Porch"}, "model": {model}})
			if p.status != 400 || !strings.Contains(p.body, tc.modelErr) || strings.Contains(p.body, "<script>") {
				t.Errorf("%s: model %q: %d", tc.lang, model, p.status)
			}
		}
		p := b.post("/sensors", "/sensors/pair", url.Values{"name": {"Bad model, kept name"}, "model": {"HS-X9"}})
		if !strings.Contains(p.body, `value="Bad model, kept name"`) {
			t.Errorf("%s: the form loses the name after an error", tc.lang)
		}
		for _, path := range []string{"/sensors/NOT-AN-ID", "/sensors/" + sensors.NewID(), "/sensors/..%2f..%2fetc"} {
			if p := b.do("GET", path, nil); p.status != 404 || !strings.Contains(p.body, tc.notFound) {
				t.Errorf("%s: GET %s: %d", tc.lang, path, p.status)
			}
		}
		for _, path := range []string{"/sensors/NOT-AN-ID/quarantine", "/sensors/" + sensors.NewID() + "/remove"} {
			if p := b.post("/sensors", path, url.Values{"confirm": {"yes"}}); p.status != 404 || !strings.Contains(p.body, tc.notFound) {
				t.Errorf("%s: POST %s: %d", tc.lang, path, p.status)
			}
		}
	}
	if n := len(svc.List()); n != 0 {
		t.Fatalf("%d sensors paired from invalid input", n)
	}
}

var (
	figureRE   = regexp.MustCompile(`(?s)<figure class="chart" id="([^"]+)">(.*?)</figure>`)
	polylineRE = regexp.MustCompile(`<polyline class="line" points="([^"]+)"/>`)
	pairRE     = regexp.MustCompile(`^-?[0-9.]+,-?[0-9.]+$`)
)

func charts(body string) map[string]string {
	out := map[string]string{}
	for _, m := range figureRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// The charts are drawn from readings stored through the real ingest path.
func TestSensorChartsFromStoredReadings(t *testing.T) {
	u, svc := newSensorUI(t)
	b := u.setUpOwner("en")
	climate, _, _ := pair(t, b, "Study", "HS-TH1")
	motion, _, _ := pair(t, b, "Stairs", "HS-M1")
	now := u.clk.Now()
	// One temperature every 30 minutes for the last day, with no readings 5-8 hours ago:
	// two runs of 38 and 4 averages. (Shorter gaps are bridged.)
	for i := 0; i < 48; i++ {
		if i >= 10 && i <= 15 {
			continue
		}
		accept(t, svc, climate, sensors.Reading{Kind: sensors.Temperature, Value: 20 + float64(i%5), Time: now.Add(-time.Duration(i) * 30 * time.Minute)})
	}
	accept(t, svc, climate, sensors.Reading{Kind: sensors.Temperature, Value: 21.5, Time: now.Add(-3 * 24 * time.Hour)})
	// Three movements in the chart's current 30-minute period, however close the clock
	// is to its start.
	gap := min(time.Minute, now.Sub(now.Truncate(30*time.Minute))/4)
	for i := 0; i < 3; i++ {
		accept(t, svc, motion, sensors.Reading{Kind: sensors.Motion, Value: 1, Time: now.Add(-time.Duration(i) * gap)})
	}
	accept(t, svc, motion, sensors.Reading{Kind: sensors.Motion, Value: 0, Time: now.Add(-5 * time.Minute)})

	p := b.do("GET", "/sensors/"+climate, nil)
	cs := charts(p.body)
	day := cs["chart-temperature-24h"]
	lines := polylineRE.FindAllStringSubmatch(day, -1)
	if len(lines) != 2 {
		t.Fatalf("24 h chart has %d lines, want 2 (a gap in the readings): %s", len(lines), day)
	}
	points := 0
	for _, l := range lines {
		for _, pt := range strings.Fields(l[1]) {
			if !pairRE.MatchString(pt) {
				t.Fatalf("bad point %q", pt)
			}
			points++
		}
	}
	if points != 42 {
		t.Errorf("24 h chart plots %d averages, want 42", points)
	}
	for _, want := range []string{`<polygon class="band"`, `role="img"`, `<title id="chart-temperature-24h-title">Temperature, last 24 hours</title>`, "42 readings, lowest 20 °C, highest 24 °C"} {
		if !strings.Contains(day, want) {
			t.Errorf("24 h chart lacks %q", want)
		}
	}
	if week := cs["chart-temperature-7d"]; !strings.Contains(week, "43 readings") || !strings.Contains(week, `class="line"`) {
		t.Errorf("7 day chart does not count the older reading: %s", week)
	}
	if hum := cs["chart-humidity-24h"]; !strings.Contains(hum, "No readings in this period") || strings.Contains(hum, "<svg") {
		t.Errorf("a chart without readings draws something")
	}
	if !strings.Contains(p.body, "<td data-label=\"Value\">20 °C</td>") || strings.Count(p.body, `<td data-label="Value">`) != 20 {
		t.Errorf("the latest readings table does not show the newest 20 readings")
	}

	p = b.do("GET", "/sensors/"+motion, nil)
	mc := charts(p.body)["chart-motion-24h"]
	if n := strings.Count(mc, `<rect class="bar"`); n != 1 || !strings.Contains(mc, "3 movements, at most 3 in one period") {
		t.Errorf("motion chart: %d bars: %s", n, mc)
	}
	if !strings.Contains(p.body, ">movement</td>") || !strings.Contains(p.body, ">no movement</td>") {
		t.Error("motion readings are not in plain words")
	}
	if p := b.do("GET", "/sensors", nil); !strings.Contains(p.body, "just now") {
		t.Error("the list does not say when the sensor was last seen")
	}
}

// raw sends a request and returns the response with its headers.
func (b *browser) raw(method, path string, form url.Values) *http.Response {
	b.u.t.Helper()
	req, _ := http.NewRequest(method, b.u.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := b.hc.Do(req)
	if err != nil {
		b.u.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// token returns the form token of the page at path.
func (b *browser) token(path string) string {
	b.u.t.Helper()
	m := csrfRE.FindStringSubmatch(b.do("GET", path, nil).body)
	if m == nil {
		b.u.t.Fatalf("no form token on %s", path)
	}
	return m[1]
}
