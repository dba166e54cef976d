package compliance

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"

	"hearth/internal/standard"
)

func TestExpandRange(t *testing.T) {
	tests := []struct {
		from, to string
		want     []string
		err      error
	}{
		{"5.3.1.14", "15", []string{"5.3.1.14", "5.3.1.15"}, nil},
		{"5.3.1.14", "5.3.1.15", []string{"5.3.1.14", "5.3.1.15"}, nil},
		{"5.2.2.1", "5.2.2.6", []string{"5.2.2.1", "5.2.2.2", "5.2.2.3", "5.2.2.4", "5.2.2.5", "5.2.2.6"}, nil},
		{"5.3.1.9", "10", []string{"5.3.1.9", "5.3.1.10"}, nil},
		{"5.1.2.2", "2", []string{"5.1.2.2"}, nil},
		{"5.3.1.15", "14", nil, ErrBadRange},
		{"5.3.1.14", "5.4.1.1", nil, ErrBadRange},
		{"5.3.1.14", "1.15", nil, ErrBadRange},
		{"5.1", "5", nil, ErrBadRange},
		{"5.3.1.16", "17", nil, ErrUnknownID},
		{"5.3.1.0", "2", nil, ErrUnknownID},
		{"5.3.1.1", "99999999999999999999", nil, ErrBadRange},
	}
	for _, tt := range tests {
		got, err := expandRange(tt.from, tt.to)
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("expandRange(%q, %q) = %v, %v; want %v, %v", tt.from, tt.to, got, err, tt.want, tt.err)
		}
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		list string
		want []string
		errs int
	}{
		{"5.1.1.1", []string{"5.1.1.1"}, 0},
		{"5.1.1.1, 5.1.1.2", []string{"5.1.1.1", "5.1.1.2"}, 0},
		{"5.1.1.1,5.3.1.14-15", []string{"5.1.1.1", "5.3.1.14", "5.3.1.15"}, 0},
		{"5.4.2.1,\n 5.4.2.6", []string{"5.4.2.1", "5.4.2.6"}, 0},
		{"3.17, 5.4, 5.4.2", nil, 0},
		{"5.1.2.9", nil, 1},
		{"5.1.22", nil, 1},
		{"5.9", nil, 1},
		{"6.1", nil, 1},
		{"5.1.1.1.1", nil, 1},
		{"3.1.2.2", nil, 1},
		{"5.1.1.1, 5.1.2.9, 5.9.9.9", []string{"5.1.1.1"}, 2},
	}
	for _, tt := range tests {
		got, errs := parseList(tt.list)
		if !reflect.DeepEqual(got, tt.want) || len(errs) != tt.errs {
			t.Errorf("parseList(%q) = %v, %v; want %v and %d errors", tt.list, got, errs, tt.want, tt.errs)
		}
		for _, err := range errs {
			if !errors.Is(err, ErrUnknownID) {
				t.Errorf("parseList(%q): error %v does not wrap ErrUnknownID", tt.list, err)
			}
		}
	}
}

func TestCommentTags(t *testing.T) {
	src := "package p\n\n" +
		"// Intro.\n" +
		"// TS-0045 5.1.1.1, 5.1.1.2: first. TS-0045 5.1.2.2: second\n" +
		"// TS-0045 5.4.2.1,\n" +
		"// 5.4.2.6) wrapped.\n" +
		"var x = 1 /* TS-0045 5.5.1.1 */\n\n" +
		"/*\nBlock.\n\nTS-0045 5.3.1.14-15\n*/\n" +
		"// TS-0045 v1.0:2021 and TS-0045 5 are no tags.\n" +
		"var y = 2\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	type found struct {
		line int
		list string
	}
	var got []found
	for _, g := range f.Comments {
		for _, tg := range commentTags(fset, g) {
			got = append(got, found{tg.line, tg.list})
		}
	}
	want := []found{
		{4, "5.1.1.1, 5.1.1.2"},
		{4, "5.1.2.2"},
		{5, "5.4.2.1,\n 5.4.2.6"},
		{7, "5.5.1.1"},
		{12, "5.3.1.14-15"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("commentTags:\n got %+v\nwant %+v", got, want)
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"5.1.1.1", "5.1.1.1, 5.1.1.2", "5.3.1.14-15", "5.3.1.14-5.3.1.15", "3.17", "5.3.1.1", "5.3.1.1-9", "5.3.1.14-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		ids, _ := parseList(list)
		for _, id := range ids {
			if _, ok := standard.Lookup(id); !ok {
				t.Fatalf("parseList(%q) returned %q, which is not in the catalogue", list, id)
			}
		}
	})
}

// parseFunc parses the source of one function declaration.
func parseFunc(t *testing.T, src string) *ast.FuncDecl {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "f.go", "package p\n"+src, 0)
	if err != nil {
		t.Fatal(err)
	}
	return f.Decls[0].(*ast.FuncDecl)
}
