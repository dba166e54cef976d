package compliance

import (
	"fmt"

	"hearth/internal/standard"
)

// Command regenerates docs/COMPLIANCE.md; the generated file names it.
const Command = "go test ./internal/compliance -run TestComplianceMatrixCurrent -update"

// Generate scans the repository at root and renders its compliance matrix as
// Markdown for docs/COMPLIANCE.md. The output depends only on the catalogue,
// Declared and the tags, never on root's spelling or the time.
func Generate(root string) ([]byte, error) {
	ev, err := Scan(root)
	if err != nil {
		return nil, fmt.Errorf("generate compliance matrix: %w", err)
	}
	return Render(Build(Declared(), ev)), nil
}

// Status is how far an item is met in the code.
type Status string

// The statuses of a row, from most to least evidence.
const (
	ImplementedTested Status = "implemented+tested"
	Implemented       Status = "implemented"
	Tested            Status = "tested"
	NotYet            Status = "not yet"
	NotApplicable     Status = "n/a"
)

// Row is one requirement item of the matrix and its evidence.
type Row struct {
	Item    standard.Item
	Applies standard.Applicability
	Sites   []Site
	Tests   []string
}

// Status is NotApplicable for an item that does not apply, whatever its tags;
// otherwise it says whether the item has implementation sites and tests.
func (r Row) Status() Status {
	switch {
	case r.Applies == standard.NotApplicable:
		return NotApplicable
	case len(r.Sites) > 0 && len(r.Tests) > 0:
		return ImplementedTested
	case len(r.Sites) > 0:
		return Implemented
	case len(r.Tests) > 0:
		return Tested
	}
	return NotYet
}

// Matrix is the compliance matrix: the declaration and one row per item in
// document order.
type Matrix struct {
	Declared []Declaration
	Rows     []Row
}

// Build resolves every catalogue item under the declaration and attaches the
// evidence for it.
func Build(ds []Declaration, ev Evidence) Matrix {
	met := Met(ds)
	items := standard.Items()
	rows := make([]Row, len(items))
	for i, it := range items {
		rows[i] = Row{
			Item:    it,
			Applies: it.Applicability(met),
			Sites:   ev.Sites[it.ID],
			Tests:   ev.Tests[it.ID],
		}
	}
	return Matrix{Declared: ds, Rows: rows}
}

// Summary counts the rows of a matrix. The last four counts are of applicable
// items only.
type Summary struct {
	Items         int
	Mandatory     int // applicable as mandatory
	Recommended   int // applicable as recommended
	NotApplicable int
	WithSites     int
	WithTests     int
	Both          int // with sites and tests
	NotYet        int // with neither
}

// Applicable is the number of items that apply to Hearth.
func (s Summary) Applicable() int {
	return s.Mandatory + s.Recommended
}

// Summary counts the rows of m.
func (m Matrix) Summary() Summary {
	s := Summary{Items: len(m.Rows)}
	for _, r := range m.Rows {
		switch r.Applies {
		case standard.AppliesMandatory:
			s.Mandatory++
		case standard.AppliesRecommended:
			s.Recommended++
		default:
			s.NotApplicable++
			continue
		}
		s.count(r.Status())
	}
	return s
}

func (s *Summary) count(st Status) {
	switch st {
	case ImplementedTested:
		s.WithSites++
		s.WithTests++
		s.Both++
	case Implemented:
		s.WithSites++
	case Tested:
		s.WithTests++
	case NotYet:
		s.NotYet++
	}
}
