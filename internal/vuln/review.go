package vuln

import (
	"bytes"
	"fmt"
	"time"
)

// ReviewDir holds the security review record of each release in the vendor directory.
const ReviewDir = "reviews"

// Review is the security review record of a release, written when it is signed: what
// was released, the software it contains, and the state of every known vulnerability
// at that moment. A release is blocked while a critical or high report is past its fix
// deadline, unless the vendor accepts the risk in writing (recorded here).
//
// TS-0045 5.4.2.2: the product's network and security functions are reviewed before
// delivery, including the vendor's known defects and the state of their fixes.
type Review struct {
	Product    string    `json:"product"`
	Version    string    `json:"version"`
	SHA256     string    `json:"sha256"`
	Length     int64     `json:"length"`
	Generated  time.Time `json:"generated"`
	Reviewer   string    `json:"reviewer"`
	Components int       `json:"sbom_components"` // 0: the program carries no build information
	// Open are reports not yet fixed, disclosed or rejected; Fixed those fixed or
	// disclosed.
	Open  []ReviewItem `json:"open"`
	Fixed []ReviewItem `json:"fixed"`
	// Blocking are the open critical or high reports past their fix deadline.
	Blocking []ReviewItem `json:"blocking"`
	// AcceptedRisk is the vendor's written reason to release despite Blocking.
	AcceptedRisk string `json:"accepted_risk,omitempty"`
	Decision     string `json:"decision"` // "release" or "blocked"
}

// ReviewItem is one report as the review saw it.
type ReviewItem struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Severity    Severity  `json:"severity,omitempty"`
	State       State     `json:"state"`
	FixDeadline time.Time `json:"fix_deadline"`
}

// Review builds the record for a release of product version from the store's reports.
func (s *Store) Review(product, version, sha256 string, length int64, components int, reviewer, acceptedRisk string) (Review, error) {
	reports, err := s.List()
	if err != nil {
		return Review{}, err
	}
	now := s.cfg.Now().UTC()
	r := Review{Product: product, Version: version, SHA256: sha256, Length: length, Generated: now, Reviewer: reviewer,
		Components: components, Open: []ReviewItem{}, Fixed: []ReviewItem{}, Blocking: []ReviewItem{}, AcceptedRisk: acceptedRisk}
	for _, rep := range reports {
		it := ReviewItem{ID: rep.ID, Title: rep.Title, Severity: rep.Severity(), State: rep.State,
			FixDeadline: s.cfg.Policy.FixDeadline(rep.Received, rep.Severity())}
		switch {
		case rep.State == Fixed || rep.State == Disclosed:
			r.Fixed = append(r.Fixed, it)
		case rep.State == Rejected:
		default:
			r.Open = append(r.Open, it)
			if (it.Severity == Critical || it.Severity == High) && now.After(it.FixDeadline) {
				r.Blocking = append(r.Blocking, it)
			}
		}
	}
	r.Decision = "release"
	if len(r.Blocking) > 0 && acceptedRisk == "" {
		r.Decision = "blocked"
	}
	return r, nil
}

// Markdown renders the record for people.
func (r Review) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Security review: %s %s\n\n", r.Product, r.Version)
	fmt.Fprintf(&b, "- Generated: %s\n- Reviewer: %s\n- Program: %d bytes, SHA-256 %s\n- Software components (SBOM): %d\n- Decision: **%s**\n",
		r.Generated.Format(time.RFC3339), orNone(r.Reviewer), r.Length, r.SHA256, r.Components, r.Decision)
	if r.AcceptedRisk != "" {
		fmt.Fprintf(&b, "- Risk accepted by the vendor: %s\n", r.AcceptedRisk)
	}
	b.WriteString("\nChecked when the release was signed: the program is signed into the TUF repository with its length and SHA-256/512, its security version does not go back, its SBOM was written, and every known vulnerability report is listed below with its state.\n")
	section := func(title string, items []ReviewItem) {
		fmt.Fprintf(&b, "\n## %s (%d)\n\n", title, len(items))
		if len(items) == 0 {
			b.WriteString("None.\n")
			return
		}
		b.WriteString("| Report | Title | Severity | State | Fix deadline |\n|---|---|---|---|---|\n")
		for _, it := range items {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", it.ID, mdCell(it.Title), orNone(string(it.Severity)), it.State, it.FixDeadline.Format(time.DateOnly))
		}
	}
	section("Open critical or high reports past their fix deadline", r.Blocking)
	section("Open reports", r.Open)
	section("Fixed or disclosed reports", r.Fixed)
	return b.Bytes()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// mdCell keeps a reporter's title from breaking the table or adding markup.
func mdCell(s string) string {
	var b bytes.Buffer
	for _, c := range s {
		switch {
		case c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '[' || c == ']' || c == '<' || c == '>' || c == '#':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < ' ':
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
