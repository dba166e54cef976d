package compliance

import (
	"cmp"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Site is a place in non-test code that cites an item.
type Site struct {
	File string // relative to the repository root, slash-separated
	Line int
}

// Evidence is what the repository's clause tags say, keyed by item id.
type Evidence struct {
	// Sites lists implementation sites, sorted by file and line.
	Sites map[string][]Site
	// Tests lists tests as "dir.TestName" (dir relative to the root), sorted
	// and without repeats.
	Tests map[string][]string
}

// Scan walks the repository at root and collects the clause tags in its Go
// files. It skips .git, testdata, vendor and hidden directories, and hidden
// files. Every unknown id, bad range and unattached test tag is reported,
// each as file:line, in one joined error.
func Scan(root string) (Evidence, error) {
	s := &scanner{
		root:  root,
		fset:  token.NewFileSet(),
		sites: make(map[string][]Site),
		tests: make(map[string][]string),
	}
	if err := filepath.WalkDir(root, s.visit); err != nil {
		return Evidence{}, fmt.Errorf("scan %s: %w", root, err)
	}
	if len(s.errs) > 0 {
		return Evidence{}, errors.Join(s.errs...)
	}
	return s.evidence(), nil
}

// scanner accumulates the result of one Scan.
type scanner struct {
	root  string
	fset  *token.FileSet
	sites map[string][]Site
	tests map[string][]string
	errs  []error
}

func (s *scanner) visit(p string, d fs.DirEntry, err error) error {
	if err != nil {
		return err
	}
	name := d.Name()
	if d.IsDir() {
		if p != s.root && skipDir(name) {
			return filepath.SkipDir
		}
		return nil
	}
	if !d.Type().IsRegular() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".go") {
		return nil
	}
	rel, err := filepath.Rel(s.root, p)
	if err != nil {
		return err
	}
	return s.scanFile(p, filepath.ToSlash(rel))
}

func skipDir(name string) bool {
	return name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".")
}

func (s *scanner) scanFile(p, rel string) error {
	f, err := parser.ParseFile(s.fset, p, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	for _, g := range f.Comments {
		for _, t := range commentTags(s.fset, g) {
			s.record(f, rel, t)
		}
	}
	return nil
}

// record adds the evidence of one tag, or its errors.
func (s *scanner) record(f *ast.File, rel string, t tag) {
	at := fmt.Sprintf("%s:%d", rel, t.line)
	ids, errs := parseList(t.list)
	for _, err := range errs {
		s.errs = append(s.errs, fmt.Errorf("%s: %w", at, err))
	}
	if len(ids) == 0 {
		return
	}
	if !strings.HasSuffix(rel, "_test.go") {
		for _, id := range ids {
			s.sites[id] = append(s.sites[id], Site{File: rel, Line: t.line})
		}
		return
	}
	name, ok := testFor(f, t.pos)
	if !ok {
		s.errs = append(s.errs, fmt.Errorf("%s: %w", at, ErrNoTest))
		return
	}
	if dir := path.Dir(rel); dir != "." {
		name = dir + "." + name
	}
	for _, id := range ids {
		s.tests[id] = append(s.tests[id], name)
	}
}

// evidence sorts what was collected and drops repeats.
func (s *scanner) evidence() Evidence {
	for id, sites := range s.sites {
		slices.SortFunc(sites, func(a, b Site) int {
			return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
		})
		s.sites[id] = slices.Compact(sites)
	}
	for id, tests := range s.tests {
		slices.Sort(tests)
		s.tests[id] = slices.Compact(tests)
	}
	return Evidence{Sites: s.sites, Tests: s.tests}
}

// testFor returns the name of the test function that encloses pos or is the
// first declaration after it. The first declaration that ends after pos does
// one or the other; if it is not a test function the tag is attached to none.
func testFor(f *ast.File, pos token.Pos) (string, bool) {
	for _, d := range f.Decls {
		if d.End() <= pos {
			continue
		}
		fn, ok := d.(*ast.FuncDecl)
		if !ok || !isTestFunc(fn) {
			return "", false
		}
		return fn.Name.Name, true
	}
	return "", false
}

// isTestFunc reports whether fn is a function go test runs: a top-level
// TestXxx, FuzzXxx or BenchmarkXxx whose suffix does not start with a
// lower-case letter.
func isTestFunc(fn *ast.FuncDecl) bool {
	if fn.Recv != nil {
		return false
	}
	for _, prefix := range []string{"Test", "Fuzz", "Benchmark"} {
		rest, ok := strings.CutPrefix(fn.Name.Name, prefix)
		if ok && (rest == "" || !startsLower(rest)) {
			return true
		}
	}
	return false
}

func startsLower(s string) bool {
	return s[0] >= 'a' && s[0] <= 'z'
}
