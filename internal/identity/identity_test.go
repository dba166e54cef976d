package identity

import (
	"errors"
	"strings"
	"testing"
)

const goodInfo = `{"vendor":"Hearth Labs","model":"HG-100","name":"Hearth Gateway","serial":"HRT-AB12-CD34","support_end":"2031-05-01","username":"owner","manufactured_at":"2026-05-01T08:00:00Z"}`

func TestParseInfo(t *testing.T) {
	i, err := ParseInfo([]byte(goodInfo))
	if err != nil {
		t.Fatal(err)
	}
	if i.Serial != "HRT-AB12-CD34" || i.SupportEndDate().Year() != 2031 {
		t.Fatalf("parsed %+v", i)
	}
	bad := []string{
		``, `{}`, `[]`, goodInfo + `{}`,
		strings.Replace(goodInfo, `"owner"`, `"owner","extra":1`, 1),
		strings.Replace(goodInfo, `HRT-AB12-CD34`, `hrt`, 1),
		strings.Replace(goodInfo, `2031-05-01`, `soon`, 1),
		strings.Replace(goodInfo, `Hearth Gateway`, `Hearth\u0000Gateway`, 1),
		strings.Replace(goodInfo, `Hearth Gateway`, ` padded`, 1),
		strings.Replace(goodInfo, `HG-100`, `HG/100`, 1),
	}
	for _, b := range bad {
		if _, err := ParseInfo([]byte(b)); !errors.Is(err, ErrInvalidInfo) {
			t.Errorf("ParseInfo(%q) = %v, want ErrInvalidInfo", b, err)
		}
	}
}

func FuzzParseInfo(f *testing.F) {
	f.Add([]byte(goodInfo))
	f.Add([]byte(goodInfo[:40]))
	f.Add([]byte(strings.Replace(goodInfo, "H", "\xff", 1)))
	f.Add([]byte(`{"serial":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		i, err := ParseInfo(b)
		if err == nil {
			if verr := i.Validate(); verr != nil {
				t.Fatalf("accepted invalid info: %v", verr)
			}
		}
	})
}

func FuzzParseCertificates(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := ParseCertificates(b)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
	})
}
