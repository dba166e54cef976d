package sensors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"testing"
)

// FuzzParseReading: no payload crashes the parser; its syntax check agrees with
// encoding/json's tokenizer on what is a valid reading object and on its members; and
// whatever it accepts is a reading in range that survives a round trip through the wire
// format unchanged.
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
		if len(payload) <= MaxPayload {
			a, b, c, d, err := scanReading(payload)
			ra, rb, rc, rd, rerr := scanReferenceJSON(payload)
			if (err == nil) != (rerr == nil) || err == nil && [4]string{a, b, c, d} != [4]string{ra, rb, rc, rd} {
				t.Fatalf("%q: scanner %q %v, encoding/json %q %v", payload, [4]string{a, b, c, d}, err, [4]string{ra, rb, rc, rd}, rerr)
			}
		}
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

// scanReferenceJSON is the syntax check of scanReading written with encoding/json's
// tokenizer, against which the fuzz target compares it.
func scanReferenceJSON(payload []byte) (string, string, string, string, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return "", "", "", "", fmt.Errorf("not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return "", "", "", "", fmt.Errorf("a reading is a JSON object")
	}
	var typ, unit, ts string
	var num json.Number
	var seen [4]bool
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", "", "", "", fmt.Errorf("not JSON: %v", err)
		}
		key, _ := tok.(string)
		i := slices.Index(fieldNames[:], key)
		if i < 0 {
			return "", "", "", "", fmt.Errorf("unknown field %.16q", key)
		}
		if seen[i] {
			return "", "", "", "", fmt.Errorf("field %q given twice", key)
		}
		seen[i] = true
		val, err := dec.Token()
		if err != nil {
			return "", "", "", "", fmt.Errorf("not JSON: %v", err)
		}
		var ok bool
		switch i {
		case 0:
			typ, ok = val.(string)
		case 1:
			num, ok = val.(json.Number)
		case 2:
			unit, ok = val.(string)
		case 3:
			ts, ok = val.(string)
		}
		if !ok {
			return "", "", "", "", fmt.Errorf("field %q has the wrong type", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", "", "", "", fmt.Errorf("not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", "", "", "", fmt.Errorf("trailing data after the reading")
	}
	if seen != [4]bool{true, true, true, true} {
		return "", "", "", "", fmt.Errorf(`"type", "value", "unit" and "ts" are all required`)
	}
	return typ, num.String(), unit, ts, nil
}
