package alerts

import (
	"encoding/json"
	"strings"
	"testing"

	"hearth/internal/events"
)

func TestDefaultRules(t *testing.T) {
	s := DefaultSettings()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []Channel{UI, Webhook, Email}
	for _, k := range []events.Kind{events.AccountLocked, "integrity.violation", events.UpdateFailed, "firmware.rejected"} {
		if got := match(s.Rules, k); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("%s alerts through %v, want %v", k, got, want)
		}
	}
	if got := match(s.Rules, events.LoginFailed); got != nil {
		t.Errorf("login.failed alerts through %v", got)
	}
}

func TestValidateRules(t *testing.T) {
	many := make([]Rule, MaxRules+1)
	for i := range many {
		many[i] = Rule{Kinds: []events.Kind{"a"}, Channels: []Channel{UI}}
	}
	manyKinds := make([]events.Kind, MaxKindsPerRule+1)
	for i := range manyKinds {
		manyKinds[i] = "a"
	}
	tests := []struct {
		name  string
		rules []Rule
		err   string
	}{
		{"none", nil, ""},
		{"defaults", DefaultRules(), ""},
		{"vendor", []Rule{{Kinds: []events.Kind{"sensor.quarantined"}, Channels: []Channel{Vendor, UI}}}, ""},
		{"no kinds", []Rule{{Channels: []Channel{UI}}}, "no kinds"},
		{"empty kind", []Rule{{Kinds: []events.Kind{""}, Channels: []Channel{UI}}}, "bad kind"},
		{"bad kind", []Rule{{Kinds: []events.Kind{"Account Locked"}, Channels: []Channel{UI}}}, "bad kind"},
		{"long kind", []Rule{{Kinds: []events.Kind{events.Kind("a" + strings.Repeat("b", 64))}, Channels: []Channel{UI}}}, "bad kind"},
		{"no channels", []Rule{{Kinds: []events.Kind{"a"}}}, "no channels"},
		{"unknown channel", []Rule{{Kinds: []events.Kind{"a"}, Channels: []Channel{"sms"}}}, "unknown channel"},
		{"channel twice", []Rule{{Kinds: []events.Kind{"a"}, Channels: []Channel{UI, UI}}}, "twice"},
		{"too many rules", many, "rules, at most"},
		{"too many kinds", []Rule{{Kinds: manyKinds, Channels: []Channel{UI}}}, "kinds, at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateRules(tt.rules)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("got %v, want %q", err, tt.err)
			}
		})
	}
}

const secretHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

var validSettings = `{"rules":[{"kinds":["account.locked","integrity.violation"],"channels":["ui","webhook","email","vendor"]}],
"webhooks":[{"id":"0011aabb","url":"https://hooks.example.com/hearth","secret":"` + secretHex + `"}],
"email":{"relay":"smtp.example.com:587","from":"hearth@example.com","to":["owner@example.com"],"username":"hearth","password":"pw","link":"https://hearth.local:8443/"}}`

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings([]byte(validSettings))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Webhooks) != 1 || s.Webhooks[0].Secret.Hex() != secretHex || s.Email.Password != "pw" {
		t.Fatalf("parsed %+v", s)
	}
	// Round trip: the JSON form keeps the secret for the caller to store.
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if s2, err := ParseSettings(raw); err != nil || s2.Webhooks[0].Secret.Hex() != secretHex {
		t.Fatalf("round trip: %v", err)
	}
	bad := map[string]string{
		"unknown field":    `{"rules":[],"extra":1}`,
		"trailing":         `{"rules":[]} {}`,
		"trailing garbage": `{"rules":[]}x`,
		"not object":       `[]`,
		"empty":            ``,
		"bad channel":      `{"rules":[{"kinds":["a"],"channels":["pager"]}]}`,
		"http webhook":     strings.Replace(validSettings, "https://hooks", "http://hooks", 1),
		"short secret":     strings.Replace(validSettings, secretHex, "0011", 1),
		"non-hex secret":   strings.Replace(validSettings, secretHex, strings.Repeat("zz", 32), 1),
		"url credentials":  strings.Replace(validSettings, "https://hooks", "https://u:p@hooks", 1),
		"bad id":           strings.Replace(validSettings, `"0011aabb"`, `"a b"`, 1),
		"relay no port":    strings.Replace(validSettings, "smtp.example.com:587", "smtp.example.com", 1),
		"relay bad port":   strings.Replace(validSettings, "smtp.example.com:587", "smtp.example.com:99999", 1),
		"display name":     strings.Replace(validSettings, `"hearth@example.com"`, `"Hearth <hearth@example.com>"`, 1),
		"header injection": strings.Replace(validSettings, `"owner@example.com"`, `"owner@example.com\r\nBcc: x@evil.test"`, 1),
		"no recipients":    strings.Replace(validSettings, `["owner@example.com"]`, `[]`, 1),
		"bad link":         strings.Replace(validSettings, `"https://hearth.local:8443/"`, `"javascript:alert(1)"`, 1),
		"too large":        `{"rules":[]` + strings.Repeat(" ", MaxSettingsBytes) + `}`,
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSettings([]byte(in)); err == nil {
				t.Fatalf("accepted %q", in)
			}
		})
	}
}

// FuzzParseSettings: whatever ParseSettings accepts validates and survives a round trip.
func FuzzParseSettings(f *testing.F) {
	f.Add([]byte(validSettings))
	f.Add([]byte(validSettings[:len(validSettings)/2]))
	flipped := []byte(validSettings)
	flipped[40] ^= 0x20
	f.Add(flipped)
	f.Add([]byte(`{"rules":[]}`))
	def, _ := json.Marshal(DefaultSettings())
	f.Add(def)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSettings(data)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted settings do not validate: %v", err)
		}
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSettings(raw); err != nil {
			t.Fatalf("round trip of %q: %v", raw, err)
		}
		_ = s.Redacted()
	})
}
