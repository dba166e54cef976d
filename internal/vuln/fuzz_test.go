package vuln

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TS-0045 5.5.2.1: the intake parser under arbitrary input.
func FuzzDecodeSubmission(f *testing.F) {
	good := `{"title":"XSS","description":"a\nb","product":"HG-100","version":"1.0","cvss":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","contact":"a@b.example"}`
	f.Add([]byte(good))
	f.Add([]byte(good[:40]))
	flipped := []byte(good)
	flipped[10] ^= 0x20
	f.Add(flipped)
	f.Add([]byte(`{"title":"<script>","description":"\u0000","product":"p"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSubmission(b)
		if err != nil {
			return
		}
		for _, v := range []string{s.Title, s.Product, s.Version, s.Contact, s.CVSS} {
			if !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\n\r\x1b") {
				t.Fatalf("accepted field %q", v)
			}
		}
		if s.Title == "" || s.Product == "" || utf8.RuneCountInString(s.Description) > MaxDescription {
			t.Fatalf("accepted %+v", s)
		}
	})
}

func FuzzParseCVSS(f *testing.F) {
	for _, v := range []string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:F", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:X", "CVSS:3.0/AV:N"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := ParseCVSS(v)
		if err != nil {
			return
		}
		if c.Score < 0 || c.Score > 10 {
			t.Fatalf("score %v", c.Score)
		}
		if _, ok := ParseSeverity(string(c.Severity)); !ok {
			t.Fatalf("severity %q", c.Severity)
		}
		if again, err := ParseCVSS(c.Vector); err != nil || again.Score != c.Score {
			t.Fatalf("rendered vector %q does not round-trip: %v", c.Vector, err)
		}
	})
}

func FuzzToken(f *testing.F) {
	f.Add("HV-0123456789abcdef", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("HV-0123456789abcde", "AAAA")
	f.Add("../x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB")
	s, err := Open(Config{VendorDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, token string) {
		if ValidToken(token) && len(token) != 43 {
			t.Fatalf("token %q", token)
		}
		if validID(id) && (strings.ContainsAny(id, "/\\.") || len(id) != 19) {
			t.Fatalf("id %q", id)
		}
		if _, err := s.Status(id, token); err == nil {
			t.Fatal("status of a report that does not exist")
		}
	})
}
