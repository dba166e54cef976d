package sensors

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func TestParseReadingAccepts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Reading
	}{
		{`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-26T11:59:00Z"}`, Reading{Temperature, 21.5, now.Add(-time.Minute)}},
		{`{"ts":"2026-11-26T20:00:00+08:00","unit":"%","value":45,"type":"humidity"}`, Reading{Humidity, 45, now}},
		{` { "type" : "motion", "value" : 1, "unit" : "", "ts" : "2026-11-26T11:59:59.123Z" } `, Reading{Motion, 1, now.Add(-877 * time.Millisecond)}},
		{`{"type":"door","value":0,"unit":"","ts":"2026-11-26T12:04:00Z"}`, Reading{Door, 0, now.Add(4 * time.Minute)}},
		{`{"type":"temperature","value":-40,"unit":"C","ts":"2026-11-20T12:00:00Z"}`, Reading{Temperature, -40, now.Add(-6 * 24 * time.Hour)}},
		{`{"type":"battery","value":1e2,"unit":"%","ts":"2026-11-26T12:00:00Z"}`, Reading{Battery, 100, now}},
	} {
		got, err := ParseReading([]byte(tc.in), now)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseReadingRefuses(t *testing.T) {
	for _, tc := range []struct{ in, why string }{
		{``, "not JSON"},
		{`[]`, "object"},
		{`"x"`, "object"},
		{`{"type":"temperature","value":21.5,"unit":"C"}`, "required"},
		{`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-26T11:59:00Z","extra":1}`, "unknown field"},
		{`{"type":"temperature","value":21.5,"value":99,"unit":"C","ts":"2026-11-26T11:59:00Z"}`, "twice"},
		{`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-26T11:59:00Z"}{}`, "trailing"},
		{`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-26T11:59:00Z"`, "not JSON"},
		{`{"type":"pressure","value":1013,"unit":"hPa","ts":"2026-11-26T11:59:00Z"}`, "unknown type"},
		{`{"type":"temperature","value":21.5,"unit":"F","ts":"2026-11-26T11:59:00Z"}`, "measured in"},
		{`{"type":"temperature","value":"21.5","unit":"C","ts":"2026-11-26T11:59:00Z"}`, "wrong type"},
		{`{"type":"temperature","value":126,"unit":"C","ts":"2026-11-26T11:59:00Z"}`, "outside"},
		{`{"type":"humidity","value":-0.1,"unit":"%","ts":"2026-11-26T11:59:00Z"}`, "outside"},
		{`{"type":"temperature","value":1e400,"unit":"C","ts":"2026-11-26T11:59:00Z"}`, "finite"},
		{`{"type":"motion","value":0.5,"unit":"","ts":"2026-11-26T11:59:00Z"}`, "0 or 1"},
		{`{"type":"door","value":2,"unit":"","ts":"2026-11-26T11:59:00Z"}`, "0 or 1"},
		{`{"type":"temperature","value":21.5,"unit":"C","ts":"yesterday"}`, "RFC 3339"},
		{`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-26T12:06:00Z"}`, "future"},
		{`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-10T12:00:00Z"}`, "older"},
		{`{"type":"temperature","value":null,"unit":"C","ts":"2026-11-26T11:59:00Z"}`, "wrong type"},
		{`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-26T11:59:00Z","pad":"` + strings.Repeat("x", 300) + `"}`, "exceeds"},
	} {
		_, err := ParseReading([]byte(tc.in), now)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%.80s: error %v, want ErrInvalid mentioning %q", tc.in, err, tc.why)
		}
	}
}

func TestReadingRoundTrip(t *testing.T) {
	r := Reading{Kind: Humidity, Value: 48.25, Time: now.Add(-1500 * time.Millisecond)}
	got, err := ParseReading(r.Marshal(), now)
	if err != nil || got != r {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
}

func TestParseTopic(t *testing.T) {
	id := NewID()
	if !ValidID(id) {
		t.Fatalf("NewID %q is not valid", id)
	}
	if got, err := ParseTopic(ReadingTopic(id)); err != nil || got != id {
		t.Fatalf("ParseTopic(%q) = %q, %v", ReadingTopic(id), got, err)
	}
	for _, bad := range []string{"", "sensors", "sensors/", "sensors/" + id, "sensors/" + id + "/", "sensors/" + id + "/reading/x",
		"sensors/+/reading", "sensors/#", "#", "sensors/" + id + "/status", "/sensors/" + id + "/reading",
		"sensors/" + strings.ToUpper(id) + "/reading", "sensors/abc/reading", "sensors/" + id[:15] + "1/reading", "$SYS/x"} {
		if _, err := ParseTopic(bad); err == nil {
			t.Errorf("ParseTopic(%q) accepted", bad)
		}
	}
}

func TestModels(t *testing.T) {
	for _, m := range Models() {
		if _, ok := LookupModel(m.Replacement); !ok {
			t.Errorf("%s: replacement %q is not a model", m.ID, m.Replacement)
		}
		if len(m.Kinds) == 0 || m.MaxRate <= 0 || m.SupportEnd.IsZero() {
			t.Errorf("%s: incomplete declaration %+v", m.ID, m)
		}
	}
	m, _ := LookupModel("HS-TH1")
	if !m.Supported(m.SupportEnd.Add(23*time.Hour)) || m.Supported(m.SupportEnd.Add(24*time.Hour)) {
		t.Error("support ends at the end of SupportEnd's day")
	}
}

// BenchmarkParseReading: the gateway parses every reading of every sensor;
// BenchmarkParseReadingEncodingJSON is the same check with encoding/json's tokenizer.
func BenchmarkParseReading(b *testing.B) {
	p := []byte(`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-26T11:59:00Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseReading(p, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseReadingEncodingJSON(b *testing.B) {
	p := []byte(`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-26T11:59:00Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, _, err := scanReferenceJSON(p); err != nil {
			b.Fatal(err)
		}
	}
}
