package releaseinfo

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var released = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

func valid() Custom {
	return Custom{Version: "1.1.0", SecurityVersion: 3, Notes: "faster", Fixes: "CVE-2026-0001",
		Rollout: Rollout{Percent: 100}, Released: released}
}

func TestRoundTrip(t *testing.T) {
	raw, err := valid().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"hearth":{"version":"1.1.0","security_version":3,"notes":"faster","fixes":"CVE-2026-0001","interrupts":false,"rollout":{"percent":100,"paused":false,"withdrawn":false},"released":"2026-05-01T08:00:00Z"}}`
	if string(raw) != want {
		t.Fatalf("custom field\n got %s\nwant %s", raw, want)
	}
	got, err := ParseTarget("hearthd-1.1.0", raw)
	if err != nil || got != valid() {
		t.Fatalf("ParseTarget = %+v, %v", got, err)
	}
	if _, err := ParseTarget("hearthd-1.2.0", raw); !errors.Is(err, ErrMalformed) {
		t.Fatalf("target name of another version accepted: %v", err)
	}
}

func TestParseCustomRefuses(t *testing.T) {
	edit := func(f func(*Custom)) json.RawMessage {
		c := valid()
		f(&c)
		b, _ := json.Marshal(envelope{Hearth: &c})
		return b
	}
	cases := map[string]json.RawMessage{
		"empty":             nil,
		"not json":          json.RawMessage(`{"hearth":`),
		"no hearth":         json.RawMessage(`{"other":{}}`),
		"hearth null":       json.RawMessage(`{"hearth":null}`),
		"bad version":       edit(func(c *Custom) { c.Version = "v1.1.0" }),
		"security 0":        edit(func(c *Custom) { c.SecurityVersion = 0 }),
		"security negative": edit(func(c *Custom) { c.SecurityVersion = -1 }),
		"percent 101":       edit(func(c *Custom) { c.Rollout.Percent = 101 }),
		"percent -1":        edit(func(c *Custom) { c.Rollout.Percent = -1 }),
		"long notes":        edit(func(c *Custom) { c.Notes = strings.Repeat("x", MaxText+1) }),
		"no release time":   edit(func(c *Custom) { c.Released = time.Time{} }),
		"too large":         json.RawMessage(`{"hearth":{},"pad":"` + strings.Repeat("x", MaxCustom) + `"}`),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			if c, err := ParseCustom(raw); !errors.Is(err, ErrMalformed) {
				t.Fatalf("accepted: %+v, %v", c, err)
			}
		})
	}
}

func TestUnknownFieldsIgnored(t *testing.T) {
	raw := json.RawMessage(`{"hearth":{"version":"2.0.0","security_version":1,"released":"2026-05-01T08:00:00Z","future":true},"other":1}`)
	c, err := ParseCustom(raw)
	if err != nil || c.Version != "2.0.0" {
		t.Fatalf("ParseCustom = %+v, %v", c, err)
	}
}

func TestRolloutOffered(t *testing.T) {
	for _, tc := range []struct {
		r    Rollout
		want bool
	}{
		{Rollout{Percent: 10}, true},
		{Rollout{Percent: 0}, false},
		{Rollout{Percent: 100, Paused: true}, false},
		{Rollout{Percent: 100, Withdrawn: true}, false},
	} {
		if got := tc.r.Offered(); got != tc.want {
			t.Errorf("%+v.Offered() = %v", tc.r, got)
		}
	}
}

func TestVersionOrder(t *testing.T) {
	for _, bad := range []string{"", "1", "1.2", "1.2.3.4", "v1.2.3", "01.2.3", "1.-2.3", "1.2.x", "1.2.3-rc1", "1000001.0.0", " 1.2.3"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
	a, _ := ParseVersion("1.10.0")
	b, _ := ParseVersion("1.9.9")
	if a.Compare(b) != 1 || b.Compare(a) != -1 || a.Compare(a) != 0 || a.String() != "1.10.0" {
		t.Fatal("semantic order wrong")
	}
}

func FuzzParseCustom(f *testing.F) {
	good, _ := valid().Marshal()
	f.Add([]byte(good))
	f.Add([]byte(good[:len(good)/2]))
	flipped := []byte(string(good))
	flipped[len(flipped)/3] ^= 0x20
	f.Add(flipped)
	f.Add([]byte(`{"hearth":{"version":"0.0.0","security_version":1073741824,"released":"0001-01-01T00:00:01Z"}}`))
	f.Add([]byte(`{"hearth":{"version":"1.0.0","security_version":1e3}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseCustom(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		// Whatever parses re-encodes and parses to the same description.
		again, err := c.Marshal()
		if err != nil {
			t.Fatalf("parsed description does not re-encode: %v", err)
		}
		c2, err := ParseCustom(again)
		if err != nil {
			t.Fatalf("re-encoded description does not parse: %v", err)
		}
		if !c2.Released.Equal(c.Released) {
			t.Fatalf("release time changed: %v -> %v", c.Released, c2.Released)
		}
		c2.Released = c.Released
		if c2 != c {
			t.Fatalf("round trip changed %+v to %+v", c, c2)
		}
	})
}
