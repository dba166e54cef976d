package standard

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func countLevels(items []Item) map[Level]int {
	n := make(map[Level]int)
	for _, it := range items {
		n[it.Level]++
	}
	return n
}

func TestItemCounts(t *testing.T) {
	items := Items()
	if len(items) != 67 {
		t.Fatalf("len(Items()) = %d, want 67", len(items))
	}
	n := countLevels(items)
	want := map[Level]int{Mandatory: 20, MandatoryConditional: 12, Recommended: 25, RecommendedConditional: 10}
	for l, w := range want {
		if n[l] != w {
			t.Errorf("%s items = %d, want %d", l, n[l], w)
		}
	}
	if got := n[Mandatory] + n[MandatoryConditional]; got != 32 {
		t.Errorf("M+MC items = %d, want 32", got)
	}
}

func TestMandatoryPrivacyItems(t *testing.T) {
	var got []string
	for _, it := range Items() {
		if it.Aspect == "5.7" && it.Level.Mandatory() {
			got = append(got, it.ID)
		}
	}
	want := []string{"5.7.1.2", "5.7.1.3", "5.7.1.4", "5.7.1.8", "5.7.1.9", "5.7.1.10", "5.7.1.12"}
	if !slices.Equal(got, want) {
		t.Errorf("mandatory items in 5.7 = %v, want %v", got, want)
	}
}

var (
	itemIDPattern   = regexp.MustCompile(`^5\.[1-8]\.[1-9]\.[1-9][0-9]?$`)
	provisionFormat = regexp.MustCompile(`^(5\.[1-9][0-9]?-[1-9][0-9]?|6\.1)$`)
)

// idKey turns "5.3.1.10" into [5 3 1 10] so that ids compare numerically.
func idKey(t *testing.T, id string) []int {
	t.Helper()
	var key []int
	for _, f := range strings.Split(id, ".") {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("id %q: %v", id, err)
		}
		key = append(key, n)
	}
	return key
}

func TestItemIDsUniqueAndOrdered(t *testing.T) {
	items := Items()
	seen := make(map[string]bool)
	for i, it := range items {
		if !itemIDPattern.MatchString(it.ID) {
			t.Errorf("malformed id %q", it.ID)
		}
		if seen[it.ID] {
			t.Errorf("duplicate id %s", it.ID)
		}
		seen[it.ID] = true
		if i > 0 && slices.Compare(idKey(t, items[i-1].ID), idKey(t, it.ID)) >= 0 {
			t.Errorf("%s follows %s: not in document order", it.ID, items[i-1].ID)
		}
	}
}

func TestItemFields(t *testing.T) {
	for _, it := range Items() {
		t.Run(it.ID, func(t *testing.T) {
			if strings.TrimSpace(it.TextZH) == "" || strings.TrimSpace(it.TextEN) == "" {
				t.Error("empty requirement text")
			}
			if strings.ContainsAny(it.TextZH, "\n\t") || strings.ContainsAny(it.TextEN, "\n\t") {
				t.Error("requirement text contains line breaks or tabs")
			}
			if strings.Contains(it.TextZH, "  ") || strings.Contains(it.TextEN, "  ") {
				t.Error("requirement text contains double spaces")
			}
			if !provisionFormat.MatchString(it.EN303645) {
				t.Errorf("EN 303 645 provision %q malformed", it.EN303645)
			}
			if !it.Level.Valid() {
				t.Errorf("invalid level %q", it.Level)
			}
			if it.Conditional() != (it.Level == MandatoryConditional || it.Level == RecommendedConditional) &&
				it.ID != "5.3.1.10" {
				t.Errorf("level %s with conditions %v", it.Level, it.Conditions)
			}
			for _, c := range it.Conditions {
				if !c.Valid() {
					t.Errorf("invalid condition %d", c)
				}
			}
		})
	}
}

func TestItemAspectAndGroup(t *testing.T) {
	for _, it := range Items() {
		if !strings.HasPrefix(it.ID, it.Group+".") || !strings.HasPrefix(it.Group, it.Aspect+".") {
			t.Errorf("%s: group %q / aspect %q do not prefix the id", it.ID, it.Group, it.Aspect)
		}
		if it.AspectZH == "" || it.AspectEN == "" || it.GroupZH == "" || it.GroupEN == "" {
			t.Errorf("%s: missing aspect or group name", it.ID)
		}
	}
	first, _ := Lookup("5.1.1.1")
	want := Item{Aspect: "5.1", AspectZH: "身分鑑別", AspectEN: "Authentication", Group: "5.1.1", GroupZH: "通行碼鑑別", GroupEN: "Password authentication"}
	if first.Aspect != want.Aspect || first.AspectZH != want.AspectZH || first.AspectEN != want.AspectEN ||
		first.Group != want.Group || first.GroupZH != want.GroupZH || first.GroupEN != want.GroupEN {
		t.Errorf("5.1.1.1 aspect/group = %+v", first)
	}
	if n := len(Aspects()); n != 8 {
		t.Errorf("len(Aspects()) = %d, want 8", n)
	}
	if n := len(Groups()); n != 12 {
		t.Errorf("len(Groups()) = %d, want 12", n)
	}
}

func TestLookup(t *testing.T) {
	it, ok := Lookup("5.3.1.6")
	if !ok {
		t.Fatal("Lookup(5.3.1.6) not found")
	}
	if it.Level != RecommendedConditional || !slices.Equal(it.Conditions, []Condition{9, 12}) {
		t.Errorf("5.3.1.6 = %s %v, want RC [9 12]", it.Level, it.Conditions)
	}
	for _, id := range []string{"", "5.1.1", "5.3.1.17", "5.1.1.1 "} {
		if _, ok := Lookup(id); ok {
			t.Errorf("Lookup(%q) found an item", id)
		}
	}
}

func TestItemsReturnsCopy(t *testing.T) {
	a := Items()
	i := slices.IndexFunc(a, func(it Item) bool { return it.ID == "5.3.1.6" })
	if i < 0 {
		t.Fatal("5.3.1.6 missing")
	}
	a[0].ID = "changed"
	a[i].Conditions[0] = 99
	b := Items()
	if b[0].ID != "5.1.1.1" {
		t.Error("modifying Items() result changed the catalogue ids")
	}
	if b[i].Conditions[0] == 99 {
		t.Error("modifying Items() result changed the catalogue conditions")
	}
	it, _ := Lookup("5.3.1.6")
	it.Conditions[0] = 99
	if again, _ := Lookup("5.3.1.6"); again.Conditions[0] == 99 {
		t.Error("modifying Lookup() result changed the catalogue")
	}
}

func TestBuildRejectsUnknownGroup(t *testing.T) {
	if _, err := build([]Item{{ID: "5.9.9.9"}}); err == nil {
		t.Error("build accepted an item in an unknown group")
	}
	if _, err := build([]Item{{ID: "x"}}); err == nil {
		t.Error("build accepted a malformed id")
	}
}
