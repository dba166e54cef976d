package standard

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// table1 is Table 1 (level and conditions) and Annex B (EN 303 645 provision)
// transcribed by hand, independently of items.go, in document order.
var table1 = []struct {
	id, level, conditions, en303645 string
}{
	{"5.1.1.1", "MC", "1", "5.1-1"},
	{"5.1.1.2", "MC", "2", "5.1-2"},
	{"5.1.2.1", "MC", "8", "5.1-4"},
	{"5.1.2.2", "MC", "5", "5.1-5"},
	{"5.1.2.3", "M", "", "5.1-3"},
	{"5.2.1.1", "M", "", "5.2-1"},
	{"5.2.1.2", "R", "", "5.2-2"},
	{"5.2.1.3", "R", "", "5.2-3"},
	{"5.2.1.4", "R", "", "5.12-1"},
	{"5.2.1.5", "R", "", "5.12-2"},
	{"5.2.1.6", "R", "", "5.12-3"},
	{"5.2.2.1", "M", "", "5.6-1"},
	{"5.2.2.2", "M", "", "5.6-2"},
	{"5.2.2.3", "R", "", "5.6-3"},
	{"5.2.2.4", "MC", "13", "5.6-4"},
	{"5.2.2.5", "R", "", "5.6-5"},
	{"5.2.2.6", "R", "", "5.6-6"},
	{"5.2.2.7", "R", "", "5.6-7"},
	{"5.2.2.8", "R", "", "5.6-8"},
	{"5.2.2.9", "R", "", "5.6-9"},
	{"5.3.1.1", "R", "", "5.3-1"},
	{"5.3.1.2", "MC", "5", "5.3-2"},
	{"5.3.1.3", "MC", "12", "5.3-3"},
	{"5.3.1.4", "RC", "12", "5.3-4"},
	{"5.3.1.5", "RC", "12", "5.3-5"},
	{"5.3.1.6", "RC", "9,12", "5.3-6"},
	{"5.3.1.7", "MC", "12", "5.3-7"},
	{"5.3.1.8", "MC", "12", "5.3-8"},
	{"5.3.1.9", "RC", "12", "5.3-9"},
	{"5.3.1.10", "M", "11,12", "5.3-10"},
	{"5.3.1.11", "RC", "12", "5.3-11"},
	{"5.3.1.12", "RC", "12", "5.3-12"},
	{"5.3.1.13", "M", "", "5.3-13"},
	{"5.3.1.14", "RC", "3,4", "5.3-14"},
	{"5.3.1.15", "RC", "3,4", "5.3-15"},
	{"5.3.1.16", "M", "", "5.3-16"},
	{"5.4.1.1", "M", "", "5.4-1"},
	{"5.4.1.2", "MC", "10", "5.4-2"},
	{"5.4.1.3", "M", "", "5.4-3"},
	{"5.4.1.4", "M", "", "5.4-4"},
	{"5.4.2.1", "M", "", "5.5-1"},
	{"5.4.2.2", "R", "", "5.5-2"},
	{"5.4.2.3", "R", "", "5.5-3"},
	{"5.4.2.4", "R", "", "5.5-4"},
	{"5.4.2.5", "M", "", "5.5-5"},
	{"5.4.2.6", "R", "", "5.5-6"},
	{"5.4.2.7", "M", "", "5.5-7"},
	{"5.4.2.8", "M", "", "5.5-8"},
	{"5.5.1.1", "R", "", "5.7-1"},
	{"5.5.2.1", "M", "", "5.13-1"},
	{"5.6.1.1", "R", "", "5.9-1"},
	{"5.6.1.2", "R", "", "5.9-2"},
	{"5.6.1.3", "R", "", "5.9-3"},
	{"5.7.1.1", "R", "", "5.8-1"},
	{"5.7.1.2", "M", "", "5.8-2"},
	{"5.7.1.3", "M", "", "5.8-3"},
	{"5.7.1.4", "M", "", "5.11-1"},
	{"5.7.1.5", "R", "", "5.11-2"},
	{"5.7.1.6", "R", "", "5.11-3"},
	{"5.7.1.7", "R", "", "5.11-4"},
	{"5.7.1.8", "M", "", "6.1"},
	{"5.7.1.9", "MC", "7", "6.1"},
	{"5.7.1.10", "M", "", "6.1"},
	{"5.7.1.11", "RC", "6", "6.1"},
	{"5.7.1.12", "MC", "6", "6.1"},
	{"5.8.1.1", "R", "", "5.7-2"},
	{"5.8.1.2", "RC", "6", "5.10-1"},
}

// conditionList parses "9,12" into []Condition{9, 12} without ParseConditions,
// which returns a set and is under test elsewhere.
func conditionList(t *testing.T, s string) []Condition {
	t.Helper()
	if s == "" {
		return nil
	}
	var out []Condition
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			t.Fatalf("bad condition %q in table: %v", s, err)
		}
		out = append(out, Condition(n))
	}
	return out
}

func TestItemsMatchTable1(t *testing.T) {
	items := Items()
	if len(items) != len(table1) {
		t.Fatalf("catalogue has %d items, table has %d", len(items), len(table1))
	}
	for i, want := range table1 {
		got := items[i]
		t.Run(want.id, func(t *testing.T) {
			if got.ID != want.id {
				t.Fatalf("item %d is %s, want %s (document order)", i, got.ID, want.id)
			}
			if string(got.Level) != want.level {
				t.Errorf("level = %s, want %s", got.Level, want.level)
			}
			if wantC := conditionList(t, want.conditions); !slices.Equal(got.Conditions, wantC) {
				t.Errorf("conditions = %v, want %v", got.Conditions, wantC)
			}
			if got.EN303645 != want.en303645 {
				t.Errorf("EN 303 645 = %q, want %q", got.EN303645, want.en303645)
			}
		})
	}
}
