package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestDisplayWidth(t *testing.T) {
	tests := map[string]int{"": 0, "abc": 3, "身分鑑別": 8, "a，b": 4, "(a)最高 5 次": 12}
	for s, want := range tests {
		if got := displayWidth(s); got != want {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"The product should support a secure boot mechanism.", 30, "The product should support a…"},
		{"abcdefghijklmnop", 8, "abcdefg…"},
		{"產品宜支援安全啟動機制", 9, "產品宜支…"},
		{"one, two three", 5, "one…"},
	}
	for _, tt := range tests {
		got := truncate(tt.in, tt.width)
		if got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		if w := displayWidth(got); w > tt.width {
			t.Errorf("truncate(%q, %d) is %d wide", tt.in, tt.width, w)
		}
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	rows := [][]string{{"1", "a long last column value"}, {"22", "x"}}
	if err := writeTable(&b, []string{"N", "TEXT"}, rows, 26); err != nil {
		t.Fatal(err)
	}
	want := "N   TEXT\n1   a long last column…\n22  x\n"
	if b.String() != want {
		t.Errorf("table =\n%s\nwant\n%s", b.String(), want)
	}
	if err := writeTable(&b, nil, nil, 80); err == nil {
		t.Error("writeTable with no columns succeeded")
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %q has trailing space", l)
		}
	}
}
