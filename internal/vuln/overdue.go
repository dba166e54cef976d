package vuln

import (
	"fmt"
	"time"
)

// Finding is a report that missed a deadline of the policy.
type Finding struct {
	Report   Report
	Kind     string    // "ack", "fix", "update" or "disclose"
	Deadline time.Time // the deadline missed
}

func (f Finding) String() string {
	what := map[string]string{"ack": "not triaged", "fix": "not fixed", "update": "no status update",
		"disclose": "not disclosed"}[f.Kind]
	return fmt.Sprintf("%s %s: %s since %s (%s, %q)", f.Report.ID, f.Kind, what,
		f.Deadline.UTC().Format(time.RFC3339), f.Report.State, oneLine(f.Report.Title, 60))
}

// Overdue lists the reports past their deadlines at now: not triaged within the
// acknowledgement time, not fixed by their severity's fix deadline, open without a
// status update for UpdateDays, or not disclosed (nor rejected) DisclosureDays after
// receipt.
//
// TS-0045 5.2.1.2: the vendor sees every report that is not handled in time.
func (p Policy) Overdue(reports []Report, now time.Time) []Finding {
	var fs []Finding
	for _, r := range reports {
		if !r.State.Open() {
			continue
		}
		if d := p.AckDeadline(r.Received); r.State == Received && now.After(d) {
			fs = append(fs, Finding{Report: r, Kind: "ack", Deadline: d})
		}
		if d := p.FixDeadline(r.Received, r.Severity()); r.State != Fixed && now.After(d) {
			fs = append(fs, Finding{Report: r, Kind: "fix", Deadline: d})
		}
		if d := r.LastChange().AddDate(0, 0, p.UpdateDays); now.After(d) {
			fs = append(fs, Finding{Report: r, Kind: "update", Deadline: d})
		}
		if d := r.Received.AddDate(0, 0, p.DisclosureDays); now.After(d) {
			fs = append(fs, Finding{Report: r, Kind: "disclose", Deadline: d})
		}
	}
	return fs
}
