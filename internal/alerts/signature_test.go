package alerts

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte(strings.Repeat("k", SecretSize))
	other := []byte(strings.Repeat("o", SecretSize))
	body := []byte(`{"id":1,"kind":"account.locked"}`)
	at := time.Unix(1_772_366_400, 0)
	h := Sign(secret, at, body)
	if !strings.HasPrefix(h, "t=1772366400,v1=") || len(h) != len("t=1772366400,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	sig := strings.TrimPrefix(h, "t=1772366400,v1=")
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, h, body, at, nil},
		{"valid within tolerance", secret, h, body, at.Add(4 * time.Minute), nil},
		{"rotation: second v1 matches", secret, "t=1772366400,v1=" + strings.Repeat("0", 64) + ",v1=" + sig, body, at, nil},
		{"unknown keys ignored", secret, "v0=abc,t=1772366400,v1=" + sig, body, at, nil},
		{"altered body", secret, h, append([]byte{' '}, body...), at, ErrBadSignature},
		{"wrong secret", other, h, body, at, ErrBadSignature},
		{"other timestamp", secret, "t=1772366401,v1=" + sig, body, at, ErrBadSignature},
		{"replayed later", secret, h, body, at.Add(6 * time.Minute), ErrStaleSignature},
		{"from the future", secret, h, body, at.Add(-6 * time.Minute), ErrStaleSignature},
		{"no v1", secret, "t=1772366400", body, at, ErrBadSignatureHeader},
		{"no t", secret, "v1=" + sig, body, at, ErrBadSignatureHeader},
		{"two t", secret, "t=1,t=1772366400,v1=" + sig, body, at, ErrBadSignatureHeader},
		{"short sig", secret, "t=1772366400,v1=" + sig[:62], body, at, ErrBadSignatureHeader},
		{"signed t", secret, "t=+1772366400,v1=" + sig, body, at, ErrBadSignatureHeader},
		{"empty", secret, "", body, at, ErrBadSignatureHeader},
		{"huge", secret, h + strings.Repeat(",x=y", 300), body, at, ErrBadSignatureHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Verify(tt.secret, tt.header, tt.body, tt.now, 5*time.Minute); !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
		})
	}
	if err := Verify([]byte("short"), h, body, at, time.Minute); err == nil {
		t.Fatal("short secret accepted")
	}
}

// FuzzParseSignature: the header parser never panics, and what it accepts has a
// timestamp and 32-byte signatures; a header Sign made always verifies.
func FuzzParseSignature(f *testing.F) {
	secret := []byte(strings.Repeat("k", SecretSize))
	h := Sign(secret, time.Unix(1_772_366_400, 0), []byte("{}"))
	f.Add(h, []byte("{}"))
	f.Add(h[:len(h)/2], []byte("{}"))
	f.Add(strings.Replace(h, "v1", "v2", 1), []byte("{}"))
	f.Add("t=1,v1=00,v1=", []byte(""))
	f.Add(" t = 1 , v1 = ", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		ts, sigs, err := ParseSignature(header)
		if err == nil {
			if _, perr := strconv.ParseInt(ts, 10, 64); perr != nil || len(sigs) == 0 || len(sigs) > maxSignatures {
				t.Fatalf("accepted %q: ts %q, %d sigs", header, ts, len(sigs))
			}
			for _, s := range sigs {
				if len(s) != 32 {
					t.Fatalf("accepted a %d-byte signature", len(s))
				}
			}
		}
		_ = Verify(secret, header, body, time.Unix(1_772_366_400, 0), time.Minute)
		now := time.Unix(1_772_366_400, 0)
		if err := Verify(secret, Sign(secret, now, body), body, now, 0); err != nil {
			t.Fatalf("own signature: %v", err)
		}
	})
}
