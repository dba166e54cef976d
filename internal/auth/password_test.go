package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

var fast = Hasher{Iterations: MinIterations}

func TestHashVerify(t *testing.T) {
	h, err := fast.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$pbkdf2-sha256$i=100000$") {
		t.Fatalf("hash %q has the wrong form", h)
	}
	for pw, want := range map[string]bool{"correct horse battery staple": true, "correct horse battery stapl": false, "": false} {
		got, err := fast.Verify(h, pw)
		if err != nil || got != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, got, err, want)
		}
	}
	h2, _ := fast.Hash("correct horse battery staple")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestDefaultCostIsPolicy(t *testing.T) {
	if (Hasher{}).iterations() != 600_000 || (Hasher{Iterations: 5}).iterations() != MinIterations {
		t.Fatal("hasher cost does not follow policy")
	}
}

func TestParseHashRefusesWeakOrMalformed(t *testing.T) {
	good, _ := fast.Hash("x")
	bad := []string{
		"", "plaintext", "$pbkdf2-sha256$i=1000$AAAAAAAAAAAAAAAAAAAAAA$" + strings.Repeat("A", 43),
		strings.Replace(good, "i=100000", "i=0100000", 1),
		good + "$", good[:len(good)-2], strings.Replace(good, "pbkdf2-sha256", "pbkdf2-sha1", 1),
	}
	for _, h := range bad {
		if _, err := ParseHash(h); !errors.Is(err, ErrBadHash) {
			t.Errorf("ParseHash(%q) = %v, want ErrBadHash", h, err)
		}
	}
}

func FuzzParseHash(f *testing.F) {
	good, _ := fast.Hash("seed")
	f.Add(good)
	f.Add(good[:20])
	f.Add(strings.Replace(good, "$", "!", 2))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseHash(s)
		if err == nil && (p.Iterations < MinIterations || len(p.Key) != keyLen || len(p.Salt) < saltLen) {
			t.Fatalf("accepted weak hash %q", s)
		}
	})
}

// TS-0045 5.1.1.2: generated passwords are random, >= 60 bits, from an unambiguous alphabet.
func TestGeneratePassword(t *testing.T) {
	if GeneratedBits < 60 {
		t.Fatalf("%d bits of entropy, want >= 60", GeneratedBits)
	}
	form := regexp.MustCompile(`^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$`)
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 2000
	for i := 0; i < n; i++ {
		p, err := GeneratePassword(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !form.MatchString(p) {
			t.Fatalf("password %q has the wrong form", p)
		}
		if strings.ContainsAny(p, "01OIl") {
			t.Fatalf("password %q holds an ambiguous character", p)
		}
		if seen[p] {
			t.Fatalf("password %q generated twice", p)
		}
		seen[p] = true
		for _, c := range strings.ReplaceAll(p, "-", "") {
			counts[c]++
		}
	}
	// Every symbol is used, none wildly over-represented (expected 1000 each).
	if len(counts) != 32 {
		t.Fatalf("%d distinct symbols, want 32", len(counts))
	}
	for c, k := range counts {
		if k < 700 || k > 1300 {
			t.Errorf("symbol %c drawn %d times of 32000, expected about 1000", c, k)
		}
	}
}

// TS-0045 5.1.2.1: NIST SP 800-63B policy.
func TestCheckPassword(t *testing.T) {
	ctx := PolicyContext{Username: "owner", DeviceWords: []string{"HG-100", "Hearth Gateway", "HRT-AB12-CD34"}}
	cases := []struct {
		pw   string
		want error
	}{
		{"short", ErrPasswordTooShort},
		{"elevenchars", ErrPasswordTooShort},
		{"twelve chars", nil},
		{"a very long but fine passphrase", nil},
		{strings.Repeat("x", 129), ErrPasswordTooLong},
		{"qwerty123456", ErrPasswordCommon},
		{"QAZWSXEDCRFV", ErrPasswordCommon},
		{"tuesday lamp 7", nil},
		{"my owner password!", ErrPasswordContext},
		{"hearth gateway rules", ErrPasswordContext},
		{"電視盒智慧家居產品嬰兒監視器", nil}, // 12 runes of Chinese text is fine
	}
	for _, tc := range cases {
		if got := CheckPassword(tc.pw, ctx); !errors.Is(got, tc.want) {
			t.Errorf("CheckPassword(%q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
}

func TestCommonListSize(t *testing.T) {
	if n := len(commonPasswords()); n < 9000 || n > commonListSize {
		t.Fatalf("common list has %d entries, want about %d", n, commonListSize)
	}
	for _, p := range []string{"password", "123456", "PASSWORD", "iloveyou"} {
		if !IsCommonPassword(p) {
			t.Errorf("%q not found in the common list", p)
		}
	}
}

func TestUserRedactsHash(t *testing.T) {
	u := User{Username: "owner", Role: RoleOwner, PasswordHash: "$pbkdf2-sha256$i=600000$c2FsdA$aGFzaA"}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "user", u)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "user", u)
	buf.WriteString(fmt.Sprintf("%v %+v %s", u, u, u))
	if strings.Contains(buf.String(), "pbkdf2") {
		t.Fatalf("user leaks its hash: %s", buf.String())
	}
}
