package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"hearth/internal/i18n"
)

var (
	keyRE    = regexp.MustCompile(`\$\.T "([^"]+)"`)
	actionRE = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tagRE    = regexp.MustCompile(`(?s)<[^>]*>`)
)

// Every message a template asks for exists in both languages.
func TestTemplateKeysInCatalogue(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, _ := fs.ReadFile(templateFS, path)
		for _, m := range keyRE.FindAllStringSubmatch(string(src), -1) {
			used++
			if !cat.Has(m[1]) {
				t.Errorf("%s uses %q, which is not in the catalogue", path, m[1])
			}
		}
		return nil
	})
	if used < 50 {
		t.Fatalf("only %d message uses found: the pattern is not matching", used)
	}
}

// No template holds user-facing text of its own: with actions and tags removed, only
// punctuation and spaces may remain.
func TestNoHardCodedText(t *testing.T) {
	fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, _ := fs.ReadFile(templateFS, path)
		text := tagRE.ReplaceAllString(actionRE.ReplaceAllString(string(src), " "), " ")
		for _, r := range text {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				t.Errorf("%s holds text outside the catalogue: %q", path, strings.Join(strings.Fields(text), " "))
				break
			}
		}
		return nil
	})
}

func TestLocalPath(t *testing.T) {
	cases := map[string]string{
		"/users": "/users", "": "/", "users": "/", "//evil.example/x": "/", "https://evil.example": "/",
		"/\\evil": "/", "/a?b=c": "/a", "/%0d%0aSet-Cookie:x": "/", "/%2f%2fevil.example": "/", "/%5cevil": "/",
	}
	for in, want := range cases {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
