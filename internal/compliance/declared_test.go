package compliance

import (
	"strings"
	"testing"

	"hearth/internal/standard"
)

func TestDeclaredCoversEveryCondition(t *testing.T) {
	ds := Declared()
	if len(ds) != int(standard.MaxCondition) {
		t.Fatalf("len(Declared()) = %d, want %d", len(ds), standard.MaxCondition)
	}
	for i, d := range ds {
		if want := standard.Condition(i + 1); d.Condition != want {
			t.Errorf("declaration %d is for condition %d, want %d", i, d.Condition, want)
		}
		if d.Reason == "" || strings.ContainsAny(d.Reason, "\n|") {
			t.Errorf("condition %d: reason %q is not one plain line", d.Condition, d.Reason)
		}
	}
}

func TestDeclaredIsACopy(t *testing.T) {
	Declared()[0].Met = false
	if !Declared()[0].Met {
		t.Fatal("changing the result of Declared changed the declaration")
	}
}

// Hearth meets every condition but (13), so only the physical debug interface
// item 5.2.2.4, MC (13), does not apply.
func TestDeclaredApplicability(t *testing.T) {
	met := Met(Declared())
	if met[13] || len(met) != 12 {
		t.Errorf("Met(Declared()) = %v, want conditions 1 to 12", met)
	}
	var na []string
	for _, it := range standard.Items() {
		if it.Applicability(met) == standard.NotApplicable {
			na = append(na, it.ID)
		}
	}
	if len(na) != 1 || na[0] != "5.2.2.4" {
		t.Errorf("not applicable items = %v, want [5.2.2.4]", na)
	}
}
