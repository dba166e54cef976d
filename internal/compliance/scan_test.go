package compliance

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestScanFixture(t *testing.T) {
	got, err := Scan("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	lock := func(line int) Site { return Site{File: "internal/lock/lock.go", Line: line} }
	want := Evidence{
		Sites: map[string][]Site{
			"5.1.1.1":  {lock(6)},
			"5.1.1.2":  {lock(6)},
			"5.1.2.2":  {lock(3), lock(21)},
			"5.3.1.14": {lock(10), lock(15)},
			"5.3.1.15": {lock(10), lock(15)},
			"5.4.2.1":  {lock(9)},
			"5.4.2.6":  {lock(9)},
			"5.5.1.1":  {{File: "root.go", Line: 3}},
		},
		Tests: map[string][]string{
			"5.1.1.1":  {"internal/lock.TestLock"},
			"5.1.1.2":  {"internal/lock.BenchmarkLock", "internal/lock.FuzzLock"},
			"5.1.2.2":  {"internal/lock.TestLock", "internal/lock.TestLockTwice"},
			"5.3.1.14": {"internal/lock.TestInside"},
			"5.3.1.15": {"internal/lock.TestInside"},
			"5.5.1.1":  {"TestBoot"},
		},
	}
	if !reflect.DeepEqual(got.Sites, want.Sites) {
		t.Errorf("sites:\n got %v\nwant %v", got.Sites, want.Sites)
	}
	if !reflect.DeepEqual(got.Tests, want.Tests) {
		t.Errorf("tests:\n got %v\nwant %v", got.Tests, want.Tests)
	}
}

func TestScanRootSpelling(t *testing.T) {
	a, err := Scan("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Scan("./testdata/../testdata/good/")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("evidence depends on how the root is spelled:\n%v\n%v", a, b)
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		root  string
		want  error
		lines []string
	}{
		{"testdata/unknown", ErrUnknownID, []string{
			`a.go:3: unknown TS-0045 id "5.1.2.9"`,
			`a.go:6: unknown TS-0045 id "5.9"`,
		}},
		{"testdata/badrange", ErrBadRange, []string{`a.go:3: bad TS-0045 range "5.3.1.15-14"`}},
		{"testdata/notest", ErrNoTest, []string{"a_test.go:5: TS-0045 tag in a test file is not"}},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			_, err := Scan(tt.root)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Scan(%s) = %v, want %v", tt.root, err, tt.want)
			}
			msgs := strings.Split(err.Error(), "\n")
			if len(msgs) != len(tt.lines) {
				t.Fatalf("Scan(%s) reported %d errors, want %d:\n%v", tt.root, len(msgs), len(tt.lines), err)
			}
			for i, line := range tt.lines {
				if !strings.HasPrefix(msgs[i], line) {
					t.Errorf("error %d = %q, want prefix %q", i, msgs[i], line)
				}
			}
		})
	}
}

func TestScanMissingRoot(t *testing.T) {
	if _, err := Scan("testdata/no-such-dir"); err == nil {
		t.Fatal("Scan of a missing root succeeded")
	}
}

func TestIsTestFunc(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{"func TestX(t *testing.T) {}", true},
		{"func Test(t *testing.T) {}", true},
		{"func Test_x(t *testing.T) {}", true},
		{"func FuzzX(f *testing.F) {}", true},
		{"func BenchmarkX(b *testing.B) {}", true},
		{"func Testify(t *testing.T) {}", false},
		{"func helper(t *testing.T) {}", false},
		{"func (s suite) TestX(t *testing.T) {}", false},
	}
	for _, tt := range tests {
		fn := parseFunc(t, tt.src)
		if got := isTestFunc(fn); got != tt.want {
			t.Errorf("isTestFunc(%s) = %v, want %v", tt.src, got, tt.want)
		}
	}
}
