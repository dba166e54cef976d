package e2e

import (
	"context"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hearth/internal/sensors"
)

// sensorNames are the names the owner gives sensors, in the tab's language.
var sensorNames = map[string]string{"zh-TW": "客廳", "en": "Living room"}

// TS-0045 5.7.1.3, 5.3.1.14, 5.3.1.15: in the browser, in both languages, an owner
// pairs a sensor and is shown its credential once; the sensor publishes over MQTTS
// (Mosquitto's client) and its page charts the readings, tells what it senses, why it
// cannot be updated, until when it is supported and how it is replaced; the owner
// quarantines, releases, replaces and removes it.
func TestBrowserSensors(t *testing.T) {
	for _, lang := range languages {
		t.Run(lang, func(t *testing.T) {
			d := provision(t, newVendor(t))
			d.start(bin.hearthd)
			tb := newChrome(t, []*device{d}).tab(d, lang)
			var models []string
			for _, m := range sensors.Models() {
				models = append(models, m.Name)
			}
			tb.allow(append(models, "MQTT")...)
			tb.setUp(d)

			tb.open("/sensors")
			tb.expectPage("/sensors", "sensors.heading")
			if got := tb.text("#sensors-none"); got != tb.T("sensors.none") {
				t.Errorf("empty list says %q", got)
			}
			nav := js[[]string](tb, `Array.from(document.querySelectorAll("header nav a[aria-current=page]")).map(a => a.getAttribute("href"))`)
			if len(nav) != 1 || nav[0] != "/sensors" {
				t.Errorf("menu marks %q as the current page", nav)
			}
			th1, _ := sensors.LookupModel("HS-TH1")
			if !strings.Contains(tb.text("#pair-form"), tb.T(th1.SensesKey)) {
				t.Error("the pairing form does not say what each model senses")
			}

			name := sensorNames[lang]
			tb.fill("#sensor-name", name)
			tb.do(chromedp.Click(`input[name="model"][value="HS-TH1"]`, chromedp.NodeVisible))
			tb.ownerAction("#pair-submit", ownerPassword)
			id, secret, topic := tb.text("#sensor-credential-id"), tb.text("#sensor-credential-secret"), tb.text("#sensor-credential-topic")
			if !sensors.ValidID(id) || len(secret) < 40 || topic != sensors.ReadingTopic(id) || tb.text("#sensor-credential-username") != id {
				t.Fatalf("%s: credential page: id %q, topic %q, secret of %d characters", tb.where(), id, topic, len(secret))
			}
			if got := tb.text("#sensor-credential-once"); got != tb.T("sensors.paired.once") {
				t.Errorf("the credential is not marked as shown once: %q", got)
			}
			tb.allow(id, secret, topic)
			tb.expectPage("/sensors/pair", "sensors.heading")
			tb.shoot("sensor-paired")

			publishHistory(t, d, id, secret)

			tb.open("/sensors")
			if tb.has("#sensor-credential-secret") || strings.Contains(js[string](tb, "document.documentElement.outerHTML"), secret) {
				t.Fatal("the list shows the credential again")
			}
			tb.expectTranslated()
			tb.shoot("sensors")

			tb.click("#sensor-" + id + " a")
			if tb.path() != "/sensors/"+id || tb.text("main h1") != name {
				t.Fatalf("%s: want the page of %s", tb.where(), name)
			}
			tb.expectLang(lang)
			tb.expectTranslated()
			sensorPage(t, tb, id, th1)
			tb.shoot("sensor")

			tb.ownerAction("#sensor-quarantine", ownerPassword)
			if tb.path() != "/sensors/"+id || tb.text("main .flash") != tb.T("flash.sensor_quarantined") || tb.text("#sensor-quarantined") != tb.T("sensor.quarantined_notice") {
				t.Fatalf("%s: quarantine not confirmed", tb.where())
			}
			// With its only sensor quarantined the gateway closes the MQTTS port; were it
			// open, the sensor would be refused.
			if d.mqttAddr() != "" {
				if ok, out := publish(t, d, id, secret, reading(22)); ok {
					t.Errorf("a quarantined sensor published: %s", out)
				}
			}
			tb.ownerAction("#sensor-release", ownerPassword)
			if tb.text("main .flash") != tb.T("flash.sensor_released") || tb.has("#sensor-quarantined") {
				t.Fatalf("%s: release not confirmed", tb.where())
			}

			tb.ownerAction("#sensor-replace", ownerPassword)
			next := tb.text("#sensor-credential-id")
			if !sensors.ValidID(next) || next == id || tb.text("#sensor-credential-secret") == secret || !strings.Contains(tb.text("main h2"), name) {
				t.Fatalf("%s: replacement credential page", tb.where())
			}
			tb.allow(next, tb.text("#sensor-credential-secret"), tb.text("#sensor-credential-topic"))
			tb.expectTranslated()

			tb.open("/sensors/" + id)
			if tb.text("#sensor-replaced-by") != next || tb.has("#sensor-replace") {
				t.Errorf("%s: the retired sensor does not point to its replacement", tb.where())
			}
			tb.do(chromedp.Click("#sensor-remove-confirm", chromedp.NodeVisible))
			tb.ownerAction("#sensor-remove", ownerPassword)
			if tb.path() != "/sensors" || tb.text("main .flash") != tb.T("flash.sensor_removed") || tb.has("#sensor-"+id) || !tb.has("#sensor-"+next) {
				t.Fatalf("%s: removal not confirmed", tb.where())
			}
		})
	}
}

// sensorPage checks the sensor's page: what it senses, the support panel and a chart of
// the readings just published.
func sensorPage(t *testing.T, tb *tab, id string, m sensors.Model) {
	t.Helper()
	if got := tb.text("#sensor-senses p"); got != tb.T(m.SensesKey) {
		t.Errorf("what it senses: %q", got)
	}
	if got := tb.text("#sensor-not-updatable"); got != tb.T(m.NotUpdatableKey) {
		t.Errorf("why it cannot be updated: %q", got)
	}
	if got := tb.text("#sensor-how-replace"); got != tb.T(m.ReplaceKey) {
		t.Errorf("how it is replaced: %q", got)
	}
	if got := tb.text("#sensor-support-period"); !strings.Contains(got, tb.msg.Date(m.SupportEnd)) {
		t.Errorf("support period %q does not name %s", got, tb.msg.Date(m.SupportEnd))
	}
	points := js[int](tb, `(document.querySelector("#chart-temperature-24h polyline.line") || {getAttribute: () => ""}).getAttribute("points").split(" ").filter(Boolean).length`)
	if points < 10 {
		t.Errorf("the 24 hour temperature chart plots %d averages, want at least 10", points)
	}
	if title := tb.text("#chart-temperature-24h svg title"); title != tb.T("chart.title", tb.T("sensor.kind.temperature"), tb.T("chart.24h")) {
		t.Errorf("chart title %q", title)
	}
	if rows := js[int](tb, `document.querySelectorAll("#readings tbody tr").length`); rows != 12 {
		t.Errorf("latest readings table has %d rows, want the 12 published", rows)
	}
	if !regexp.MustCompile(`2[0-9](\.[0-9])? °C`).MatchString(tb.text("#readings")) {
		t.Errorf("readings table: %q", tb.text("#readings"))
	}
}

// publishHistory sends a sensor's buffered readings of the last 12 hours, one an hour,
// over one MQTTS connection (as a sensor does after an outage), and waits until the
// gateway has stored them.
func publishHistory(t *testing.T, d *device, id, secret string) {
	t.Helper()
	now := time.Now()
	var lines []string
	for i := 0; i < 12; i++ {
		lines = append(lines, string(sensors.Reading{Kind: sensors.Temperature, Value: 20 + float64(i%4)*1.5, Time: now.Add(-time.Duration(i) * time.Hour)}.Marshal()))
	}
	if ok, out := publish(t, d, id, secret, strings.Join(lines, "\n")+"\n", "-l"); !ok {
		t.Fatalf("publish: %s", out)
	}
	c := d.ownerClientSignedIn()
	deadline := time.Now().Add(10 * time.Second)
	for len(d.readings(c, id)) < 12 {
		if time.Now().After(deadline) {
			t.Fatalf("stored %d of 12 readings", len(d.readings(c, id)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// publish sends stdin (one message, or one per line with -l) as sensor id with
// Mosquitto's client at QoS 1.
func publish(t *testing.T, d *device, id, secret, stdin string, extra ...string) (bool, string) {
	t.Helper()
	addr := d.mqttAddr()
	port := addr[strings.LastIndex(addr, ":")+1:]
	args := []string{"-h", "localhost", "-p", port, "--cafile", d.root, "-u", id, "-P", secret, "-i", id, "-t", sensors.ReadingTopic(id), "-q", "1"}
	if len(extra) == 0 {
		args = append(args, "-m", stdin)
		stdin = ""
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, need(t, "mosquitto_pub"), append(args, extra...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("mosquitto_pub did not end: %s", out)
	}
	return err == nil, string(out)
}

// ownerClientSignedIn signs in to the API with the password the browser tests choose.
func (d *device) ownerClientSignedIn() *http.Client {
	d.t.Helper()
	c := d.client()
	if r := d.login(c, d.label["username"], ownerPassword); r.status != 200 {
		d.t.Fatalf("login: %v", r)
	}
	return c
}
