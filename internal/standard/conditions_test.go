package standard

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestConditions(t *testing.T) {
	cs := Conditions()
	if len(cs) != 13 {
		t.Fatalf("len(Conditions()) = %d, want 13", len(cs))
	}
	for i, c := range cs {
		if c.ID != Condition(i+1) {
			t.Errorf("condition %d has id %d", i+1, c.ID)
		}
		if c.TextZH == "" || c.TextEN == "" {
			t.Errorf("condition %d has empty text", c.ID)
		}
	}
	if cs[11].TextZH != "有更新機制" {
		t.Errorf("condition 12 = %q, want 有更新機制", cs[11].TextZH)
	}
	cs[0].TextZH = "changed"
	if Conditions()[0].TextZH != "使用通行碼" {
		t.Error("modifying Conditions() result changed the data")
	}
	if info, ok := ConditionText(13); !ok || info.TextZH != "除錯介面是透過實體存取" {
		t.Errorf("ConditionText(13) = %+v, %v", info, ok)
	}
	if _, ok := ConditionText(14); ok {
		t.Error("ConditionText(14) found a condition")
	}
}

func set(cs ...Condition) map[Condition]bool {
	m := make(map[Condition]bool)
	for _, c := range cs {
		m[c] = true
	}
	return m
}

func TestParseConditions(t *testing.T) {
	tests := []struct {
		in   string
		want map[Condition]bool
	}{
		{"1,2,5,12", set(1, 2, 5, 12)},
		{"9, 12", set(9, 12)},
		{" 13 ", set(13)},
		{"1,1,1", set(1)},
		{"", set()},
		{"   ", set()},
	}
	for _, tt := range tests {
		got, err := ParseConditions(tt.in)
		if err != nil {
			t.Errorf("ParseConditions(%q) error: %v", tt.in, err)
			continue
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("ParseConditions(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseConditionsErrors(t *testing.T) {
	tests := []struct {
		in, mention string
	}{
		{"a", `"a" is not a number`},
		{"1,x", `element 2: "x" is not a number`},
		{"1,,2", "element 2: empty element"},
		{"1,", "element 2: empty element"},
		{",", "element 1: empty element"},
		{"0", "0 is outside 1-13"},
		{"14", "14 is outside 1-13"},
		{"-1", "-1 is outside 1-13"},
		{"1;2", `"1;2" is not a number`},
		{"1 2", `"1 2" is not a number`},
		{"99999999999999999999", "is not a number"},
	}
	for _, tt := range tests {
		got, err := ParseConditions(tt.in)
		if err == nil {
			t.Errorf("ParseConditions(%q) = %v, want error", tt.in, got)
			continue
		}
		if !errors.Is(err, ErrInvalidCondition) {
			t.Errorf("ParseConditions(%q) error %v does not wrap ErrInvalidCondition", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("ParseConditions(%q) error %q does not mention %q", tt.in, err, tt.mention)
		}
	}
}

func TestFormatConditions(t *testing.T) {
	if got := FormatConditions([]Condition{9, 12}); got != "9, 12" {
		t.Errorf("FormatConditions = %q", got)
	}
	if got := FormatConditions(nil); got != "" {
		t.Errorf("FormatConditions(nil) = %q", got)
	}
}

func FuzzParseConditions(f *testing.F) {
	for _, s := range []string{"1,2,5,12", "9, 12", "13", "", " ", "a", "1,,2", "0", "14", "-3", "1;2", "+4", "１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		met, err := ParseConditions(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidCondition) {
				t.Fatalf("error %v does not wrap ErrInvalidCondition", err)
			}
			if met != nil {
				t.Fatalf("non-nil set %v with error", met)
			}
			return
		}
		var keys []string
		for c, ok := range met {
			if !c.Valid() || !ok {
				t.Fatalf("ParseConditions(%q) produced %d=%v", s, c, ok)
			}
			keys = append(keys, strconv.Itoa(int(c)))
		}
		slices.Sort(keys)
		again, err := ParseConditions(strings.Join(keys, ","))
		if err != nil || !maps.Equal(again, met) {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
	})
}
