package standard

import (
	"slices"
	"testing"
)

func allConditions() map[Condition]bool {
	met := make(map[Condition]bool)
	for c := MinCondition; c <= MaxCondition; c++ {
		met[c] = true
	}
	return met
}

func tally(app map[string]Applicability) map[Applicability]int {
	n := make(map[Applicability]int)
	for _, a := range app {
		n[a]++
	}
	return n
}

func TestApplicableNoConditionsMet(t *testing.T) {
	app := Applicable(nil)
	if len(app) != 67 {
		t.Fatalf("len(Applicable(nil)) = %d, want 67", len(app))
	}
	var mandatory []string
	for _, it := range Items() {
		if app[it.ID] == AppliesMandatory {
			mandatory = append(mandatory, it.ID)
		}
	}
	// Every M item except 5.3.1.10, which carries conditions (11, 12).
	want := []string{
		"5.1.2.3", "5.2.1.1", "5.2.2.1", "5.2.2.2", "5.3.1.13", "5.3.1.16",
		"5.4.1.1", "5.4.1.3", "5.4.1.4", "5.4.2.1", "5.4.2.5", "5.4.2.7", "5.4.2.8",
		"5.5.2.1", "5.7.1.2", "5.7.1.3", "5.7.1.4", "5.7.1.8", "5.7.1.10",
	}
	if !slices.Equal(mandatory, want) {
		t.Errorf("mandatory with no conditions met =\n%v\nwant\n%v", mandatory, want)
	}
	n := tally(app)
	if n[AppliesRecommended] != 25 || n[NotApplicable] != 23 {
		t.Errorf("recommended = %d, not applicable = %d; want 25, 23", n[AppliesRecommended], n[NotApplicable])
	}
	if empty := Applicable(map[Condition]bool{}); !mapsEqual(empty, app) {
		t.Error("Applicable(empty map) differs from Applicable(nil)")
	}
}

func mapsEqual(a, b map[string]Applicability) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestApplicableAllConditionsMet(t *testing.T) {
	app := Applicable(allConditions())
	n := tally(app)
	if n[AppliesMandatory] != 32 || n[AppliesRecommended] != 35 || n[NotApplicable] != 0 {
		t.Errorf("tally = %v, want 32 mandatory, 35 recommended", n)
	}
	for _, it := range Items() {
		if got, want := app[it.ID] == AppliesMandatory, it.Level.Mandatory(); got != want {
			t.Errorf("%s (%s) applies as %s", it.ID, it.Level, app[it.ID])
		}
	}
}

func TestApplicabilityNeedsEveryCondition(t *testing.T) {
	tests := []struct {
		id   string
		met  []Condition
		want Applicability
	}{
		{"5.3.1.6", nil, NotApplicable},
		{"5.3.1.6", []Condition{9}, NotApplicable},
		{"5.3.1.6", []Condition{12}, NotApplicable},
		{"5.3.1.6", []Condition{9, 12}, AppliesRecommended},
		{"5.3.1.6", []Condition{1, 9, 11, 12}, AppliesRecommended},
		{"5.3.1.10", nil, NotApplicable},
		{"5.3.1.10", []Condition{11}, NotApplicable},
		{"5.3.1.10", []Condition{12}, NotApplicable},
		{"5.3.1.10", []Condition{11, 12}, AppliesMandatory},
		{"5.1.1.1", []Condition{1}, AppliesMandatory},
		{"5.1.1.1", []Condition{2}, NotApplicable},
		{"5.3.1.14", []Condition{3}, NotApplicable},
		{"5.3.1.14", []Condition{3, 4}, AppliesRecommended},
		{"5.1.2.3", nil, AppliesMandatory},
		{"5.2.1.2", nil, AppliesRecommended},
	}
	for _, tt := range tests {
		it, ok := Lookup(tt.id)
		if !ok {
			t.Fatalf("Lookup(%s) not found", tt.id)
		}
		met := make(map[Condition]bool)
		for _, c := range tt.met {
			met[c] = true
		}
		if got := it.Applicability(met); got != tt.want {
			t.Errorf("%s with %v = %s, want %s", tt.id, tt.met, got, tt.want)
		}
	}
}

func TestApplicabilityIgnoresFalseEntries(t *testing.T) {
	it, _ := Lookup("5.3.1.10")
	met := map[Condition]bool{11: true, 12: false}
	if got := it.Applicability(met); got != NotApplicable {
		t.Errorf("5.3.1.10 with 12 explicitly unmet = %s, want %s", got, NotApplicable)
	}
}

func TestLevelMandatory(t *testing.T) {
	for l, want := range map[Level]bool{Mandatory: true, MandatoryConditional: true, Recommended: false, RecommendedConditional: false, "X": false} {
		if got := l.Mandatory(); got != want {
			t.Errorf("Level(%q).Mandatory() = %v, want %v", l, got, want)
		}
	}
	if Level("X").Valid() || !RecommendedConditional.Valid() {
		t.Error("Level.Valid is wrong")
	}
}
