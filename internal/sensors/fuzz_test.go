package sensors

import "testing"

// FuzzParseReading: no payload crashes the parser, and whatever it accepts is a reading
// in range that survives a round trip through the wire format unchanged.
func FuzzParseReading(f *testing.F) {
	seeds := []string{
		`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-26T11:59:00Z"}`,
		`{"type":"motion","value":1,"unit":"","ts":"2026-11-26T11:59:59.123456789+08:00"}`,
		`{"type":"humidity","value":45,"unit":"%","ts":"2026-11-26T11:59:00Z"`,
		`{"type":"door","value":1,"value":0,"unit":"","ts":"2026-11-26T11:59:00Z"}`,
		`{"type":"battery","value":1e309,"unit":"%","ts":"2026-11-26T11:59:00Z"}`,
		`{"type":"temperature","value":21.5,"unit":"C","ts":"2026-11-26T11:59:00Z"}]`,
		"{\"type\":\"tempera\xffture\"}", `[`, `{}`, ``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, err := ParseReading(payload, now)
		if err != nil {
			return
		}
		if !r.Kind.Valid() || r.Time.After(now.Add(MaxSkew)) || r.Time.Before(now.Add(-MaxAge)) {
			t.Fatalf("accepted out-of-bounds reading %+v from %q", r, payload)
		}
		again, err := ParseReading(r.Marshal(), now)
		if err != nil || again != r {
			t.Fatalf("round trip of %+v: %+v, %v", r, again, err)
		}
	})
}

// FuzzParseTopic: an accepted topic is exactly the reading topic of the ID returned.
func FuzzParseTopic(f *testing.F) {
	for _, s := range []string{"sensors/abcdefghijklmnop/reading", "sensors/+/reading", "sensors/#", "sensors/abcdefghijklmnop/reading/", "", "$SYS/broker"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		id, err := ParseTopic(topic)
		if err != nil {
			return
		}
		if !ValidID(id) || ReadingTopic(id) != topic {
			t.Fatalf("ParseTopic(%q) = %q", topic, id)
		}
	})
}
