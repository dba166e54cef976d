package web

import (
	"strings"
	"testing"
	"time"

	"hearth/internal/alerts"
	"hearth/internal/i18n"
)

// Each delivery state reads as words; a failure gives the reason in general terms and
// the receiver's text only shortened.
func TestDeliveryInWords(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	v := &view{p: cat.Printer(i18n.English)}
	at := time.Date(2026, 11, 27, 8, 30, 0, 0, time.Local)
	hooks := map[string]string{"ab12": "https://hooks.example:8443/in"}
	long := "webhook: dial tcp 203.0.113.9:443: connect: connection refused " + strings.Repeat("x", 400)
	for _, tc := range []struct {
		d    alerts.Delivery
		want string
	}{
		{alerts.Delivery{Channel: alerts.UI, State: alerts.Delivered, Done: at}, "This web page: delivered at 27 Nov 2026 08:30:00"},
		{alerts.Delivery{Channel: alerts.Email, State: alerts.Pending}, "E-mail: waiting to be sent"},
		{alerts.Delivery{Channel: alerts.Webhook, Target: "ab12", State: alerts.Pending, Attempts: 1, NextAttempt: at, LastError: "webhook answered 503"},
			"Webhook hooks.example:8443: retrying, 1 attempt so far, next at 27 Nov 2026 08:30:00"},
		{alerts.Delivery{Channel: alerts.Webhook, Target: "gone", State: alerts.Pending, Attempts: 3, NextAttempt: at}, "Webhook gone: retrying, 3 attempts so far"},
		{alerts.Delivery{Channel: alerts.Vendor, State: alerts.Failed, Done: at, LastError: "alerts: no consent to forward to the vendor"},
			"Vendor: failed at 27 Nov 2026 08:30:00: you do not consent to sending data to the vendor"},
		{alerts.Delivery{Channel: alerts.Webhook, Target: "ab12", State: alerts.Failed, Done: at, LastError: long}, "the receiver could not be reached"},
		{alerts.Delivery{Channel: alerts.Email, State: alerts.Failed, Done: at, LastError: "alerts: smtp relay does not offer STARTTLS"}, "no secure connection could be made"},
		{alerts.Delivery{Channel: alerts.Email, State: alerts.Failed, Done: at, LastError: "gave up after 9 attempts: smtp: 550 no"}, "the mail relay refused it"},
	} {
		row := deliveryView(v, tc.d, hooks)
		if got := row.Channel + ": " + row.State; !strings.Contains(got, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.d, got, tc.want)
		}
		if len([]rune(row.Detail)) > 160 || row.Failed != (tc.d.State == alerts.Failed) {
			t.Errorf("%+v: detail of %d runes, failed %v", tc.d, len([]rune(row.Detail)), row.Failed)
		}
	}
}

// A validation error of the e-mail settings names the field to fix.
func TestEmailField(t *testing.T) {
	base := func(mod func(*alerts.EmailSpec)) error {
		e := &alerts.EmailSpec{Relay: "smtp.example.com:587", From: "a@example.com", To: []string{"b@example.com"}}
		mod(e)
		return alerts.Settings{Rules: alerts.DefaultRules(), Email: e}.Validate()
	}
	for want, mod := range map[string]func(*alerts.EmailSpec){
		"relay":    func(e *alerts.EmailSpec) { e.Relay = "smtp.example.com" },
		"from":     func(e *alerts.EmailSpec) { e.From = "relay@example.com>" },
		"to":       func(e *alerts.EmailSpec) { e.To = append(e.To, "x") },
		"username": func(e *alerts.EmailSpec) { e.Password = "p" },
		"link":     func(e *alerts.EmailSpec) { e.Link = "ftp://x" },
	} {
		err := base(mod)
		if err == nil {
			t.Fatalf("%s: accepted", want)
		}
		if got := emailField(err); got != want {
			t.Errorf("%v: field %q, want %q", err, got, want)
		}
	}
	if got := emailField(base(func(e *alerts.EmailSpec) { e.To = nil })); got != "to" {
		t.Errorf("no recipients: field %q", got)
	}
}
