package compliance

import (
	"testing"

	"hearth/internal/standard"
)

func TestRowStatus(t *testing.T) {
	site := []Site{{File: "a.go", Line: 1}}
	test := []string{"a.TestA"}
	tests := []struct {
		applies standard.Applicability
		sites   []Site
		tests   []string
		want    Status
	}{
		{standard.AppliesMandatory, site, test, ImplementedTested},
		{standard.AppliesRecommended, site, nil, Implemented},
		{standard.AppliesMandatory, nil, test, Tested},
		{standard.AppliesRecommended, nil, nil, NotYet},
		{standard.NotApplicable, site, test, NotApplicable},
		{standard.NotApplicable, nil, nil, NotApplicable},
	}
	for _, tt := range tests {
		r := Row{Applies: tt.applies, Sites: tt.sites, Tests: tt.tests}
		if got := r.Status(); got != tt.want {
			t.Errorf("Status(%s, %d sites, %d tests) = %q, want %q", tt.applies, len(tt.sites), len(tt.tests), got, tt.want)
		}
	}
}

func TestBuildSummary(t *testing.T) {
	ev := Evidence{
		Sites: map[string][]Site{
			"5.1.1.1": {{File: "a.go", Line: 1}},
			"5.1.1.2": {{File: "a.go", Line: 2}},
			"5.2.2.4": {{File: "a.go", Line: 3}}, // not applicable: not counted
		},
		Tests: map[string][]string{
			"5.1.1.1": {"TestA"},
			"5.2.1.2": {"TestB"},
		},
	}
	m := Build(Declared(), ev)
	if len(m.Rows) != 67 || m.Rows[0].Item.ID != "5.1.1.1" {
		t.Fatalf("Build gave %d rows starting at %s, want 67 from 5.1.1.1", len(m.Rows), m.Rows[0].Item.ID)
	}
	got := m.Summary()
	want := Summary{
		Items: 67, Mandatory: 31, Recommended: 35, NotApplicable: 1,
		WithSites: 2, WithTests: 2, Both: 1, NotYet: 63,
	}
	if got != want {
		t.Errorf("Summary() = %+v, want %+v", got, want)
	}
	if got.Applicable() != 66 {
		t.Errorf("Applicable() = %d, want 66", got.Applicable())
	}
}
