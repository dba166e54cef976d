package i18n

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
)

func TestEveryMessageInBothLanguages(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range messages {
		if strings.TrimSpace(m.EN) == "" || strings.TrimSpace(m.ZH) == "" {
			t.Errorf("%s lacks a translation (en %q, zh-TW %q)", m.Key, m.EN, m.ZH)
		}
		if strings.Count(m.EN, "%") != strings.Count(m.ZH, "%") {
			t.Errorf("%s: the languages take different arguments: %q vs %q", m.Key, m.EN, m.ZH)
		}
	}
	if len(c.Keys()) != len(messages) {
		t.Fatal("duplicate keys")
	}
}

func TestPrinter(t *testing.T) {
	c, _ := New()
	en, zh := c.Printer(English), c.Printer(Chinese)
	if got := en.T("time.years", 1); got != "1 year" {
		t.Errorf("singular: %q", got)
	}
	if got := en.T("time.years", 4); got != "4 years" {
		t.Errorf("plural: %q", got)
	}
	if got := zh.T("footer.signed_in_as", "owner"); got != "已登入：owner" {
		t.Errorf("zh: %q", got)
	}
	if got := en.T("no.such.key"); got != "[no.such.key]" {
		t.Errorf("missing key: %q", got)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		end      time.Time
		en, zhTW string
	}{
		{time.Date(2031, 11, 26, 0, 0, 0, 0, time.UTC), "5 years from now", "還有 5 年"},
		{time.Date(2031, 10, 1, 0, 0, 0, 0, time.UTC), "4 years and 10 months from now", "還有 4 年 10 個月"},
		{time.Date(2027, 1, 26, 0, 0, 0, 0, time.UTC), "2 months from now", "還有 2 個月"},
		{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "5 days from now", "還有 5 天"},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "ended", "已結束"},
	}
	for _, tc := range cases {
		if got := en.Until(now, tc.end); got != tc.en {
			t.Errorf("Until(%s) en = %q, want %q", tc.end.Format(time.DateOnly), got, tc.en)
		}
		if got := zh.Until(now, tc.end); got != tc.zhTW {
			t.Errorf("Until(%s) zh = %q, want %q", tc.end.Format(time.DateOnly), got, tc.zhTW)
		}
	}
	if en.Date(now) != "26 November 2026" || zh.Date(now) != "2026年11月26日" {
		t.Errorf("dates: %q %q", en.Date(now), zh.Date(now))
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		cookie, accept string
		want           language.Tag
	}{
		{"", "", Chinese},
		{"", "en-US,en;q=0.9", English},
		{"", "zh-TW,zh;q=0.9,en;q=0.8", Chinese},
		{"", "zh-Hant-HK", Chinese},
		{"", "fr-FR", Chinese},
		{"en", "zh-TW", English},
		{"zh-TW", "en", Chinese},
		{"xx-invalid", "en", English},
		{"", "en;q=x,,,", Chinese},
	}
	for _, tc := range cases {
		if got := Match(tc.cookie, tc.accept); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.cookie, tc.accept, got, tc.want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("en", "zh-TW,zh;q=0.9")
	f.Add("", "*;q=0.1")
	f.Add("zh-TW", "")
	f.Fuzz(func(t *testing.T, cookie, accept string) {
		got := Match(cookie, accept)
		if got != English && got != Chinese {
			t.Fatalf("Match returned unsupported %v", got)
		}
	})
}
