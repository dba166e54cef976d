// Package i18n holds every user-facing string of the gateway's web UI in two languages,
// Traditional Chinese (zh-TW, the standard's home market) and English, and picks the
// language for a request.
//
// Messages live in one table (messages.go) with both languages side by side, so a
// missing translation is visible in review and caught by a test. Templates refer to
// messages by key only; a test fails when a template holds text outside the catalogue.
package i18n

import (
	"fmt"
	"sort"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The supported languages, the first being the default.
var (
	Chinese = language.MustParse("zh-TW")
	English = language.English
)

// Supported lists the languages in the order the language switch shows them.
var Supported = []language.Tag{Chinese, English}

var matcher = language.NewMatcher([]language.Tag{English, Chinese})

// Catalog is the compiled message catalogue.
type Catalog struct {
	cat  *catalog.Builder
	keys map[string]bool
}

// New compiles the message table.
func New() (*Catalog, error) {
	b := catalog.NewBuilder(catalog.Fallback(English))
	keys := map[string]bool{}
	for _, m := range messages {
		if keys[m.Key] {
			return nil, fmt.Errorf("i18n: message %q defined twice", m.Key)
		}
		keys[m.Key] = true
		var en catalog.Message = catalog.String(m.EN)
		if m.EN1 != "" {
			en = plural.Selectf(1, "%d", "=1", m.EN1, "other", m.EN)
		}
		if err := b.Set(English, m.Key, en); err != nil {
			return nil, fmt.Errorf("i18n: %s (en): %w", m.Key, err)
		}
		if err := b.SetString(Chinese, m.Key, m.ZH); err != nil {
			return nil, fmt.Errorf("i18n: %s (zh-TW): %w", m.Key, err)
		}
	}
	return &Catalog{cat: b, keys: keys}, nil
}

// Has reports whether key is in the catalogue.
func (c *Catalog) Has(key string) bool { return c.keys[key] }

// Keys returns every message key, sorted.
func (c *Catalog) Keys() []string {
	out := make([]string, 0, len(c.keys))
	for k := range c.keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Match picks the language for a request: an explicit choice (the language cookie)
// wins, then the browser's Accept-Language, then Chinese.
func Match(choice, acceptLanguage string) language.Tag {
	if choice != "" {
		if t, err := language.Parse(choice); err == nil {
			for _, s := range Supported {
				if t == s {
					return s
				}
			}
		}
	}
	if acceptLanguage != "" {
		prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(prefs) > 0 {
			_, idx, conf := matcher.Match(prefs...)
			if conf != language.No {
				return []language.Tag{English, Chinese}[idx]
			}
		}
	}
	return Chinese
}

// Printer formats messages in one language.
type Printer struct {
	Tag language.Tag
	c   *Catalog
	p   *message.Printer
}

// Printer returns a printer for tag.
func (c *Catalog) Printer(tag language.Tag) Printer {
	return Printer{Tag: tag, c: c, p: message.NewPrinter(tag, message.Catalog(c.cat))}
}

// T returns the message key formatted with args. An unknown key is returned in
// brackets so it stands out (and tests catch it).
func (p Printer) T(key string, args ...any) string {
	if !p.c.keys[key] {
		return "[" + key + "]"
	}
	return p.p.Sprintf(key, args...)
}

// Has reports whether key is in the catalogue.
func (p Printer) Has(key string) bool { return p.c.keys[key] }

// Date writes a day in words: "26 November 2031" or "2031年11月26日".
func (p Printer) Date(t time.Time) string {
	if p.Tag == Chinese {
		return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
	}
	return t.Format("2 January 2006")
}

// DateTime writes a moment for event lists, in local time.
func (p Printer) DateTime(t time.Time) string {
	if p.Tag == Chinese {
		return t.Local().Format("2006/01/02 15:04:05")
	}
	return t.Local().Format("2 Jan 2006 15:04:05")
}

// Until describes how far ahead end is from now in plain words ("in 4 years and 11
// months", "還有 4 年 11 個月"), for the support period.
func (p Printer) Until(now, end time.Time) string {
	if !end.After(now) {
		return p.T("time.ended")
	}
	months := (end.Year()-now.Year())*12 + int(end.Month()) - int(now.Month())
	if end.Day() < now.Day() {
		months--
	}
	y, m := months/12, months%12
	switch {
	case y > 0 && m > 0:
		return p.T("time.in", p.T("time.and", p.T("time.years", y), p.T("time.months", m)))
	case y > 0:
		return p.T("time.in", p.T("time.years", y))
	case m > 0:
		return p.T("time.in", p.T("time.months", m))
	}
	return p.T("time.in", p.T("time.days", int(end.Sub(now).Hours()/24)+1))
}
