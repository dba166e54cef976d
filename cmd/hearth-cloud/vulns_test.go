package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"hearth/internal/vuln"
)

// TS-0045 5.2.1.1, 5.2.1.2: the operators' workflow and the overdue alert.
// The operator's workflow through the command line.
func TestVulnsCommands(t *testing.T) {
	v := t.TempDir()
	st, err := vuln.Open(vuln.Config{VendorDir: v, Now: func() time.Time { return time.Now().AddDate(0, 0, -20) }})
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := st.Submit(vuln.Submission{Title: "Old \x1b report", Description: "d", Product: "HG-100"}, "api")
	if err == nil {
		t.Fatal("control character accepted")
	}
	old, _, err = st.Submit(vuln.Submission{Title: "Old report", Description: "d", Product: "HG-100", Contact: "r@example.org"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "vulns", "overdue", "--dir", v)
	if !errors.Is(err, errOverdue) || !strings.Contains(out, old.ID+" ack") || !strings.Contains(out, old.ID+" update") {
		t.Fatalf("overdue: %v\n%s", err, out)
	}
	if out := mustRun(t, "vulns", "list", "--dir", v); !strings.Contains(out, old.ID) || !strings.Contains(out, "received") {
		t.Fatalf("list:\n%s", out)
	}
	if _, err := run(t, "vulns", "set-state", "--dir", v, old.ID, "fixed"); err == nil {
		t.Fatal("received -> fixed accepted")
	}
	if _, err := run(t, "vulns", "set-state", "--dir", v, old.ID, "bogus"); err == nil {
		t.Fatal("unknown state accepted")
	}
	mustRun(t, "vulns", "set-state", "--dir", v, old.ID, "triaged", "--note", "Confirmed.")
	out = mustRun(t, "vulns", "set-cvss", "--dir", v, old.ID, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N")
	if !strings.Contains(out, "5.3 medium") {
		t.Fatalf("set-cvss: %s", out)
	}
	if _, err := run(t, "vulns", "set-cvss", "--dir", v, old.ID, "CVSS:3.1/AV:N"); err == nil {
		t.Fatal("bad vector accepted")
	}
	mustRun(t, "vulns", "note", "--dir", v, old.ID, "Fix in progress.")
	out = mustRun(t, "vulns", "show", "--dir", v, old.ID)
	for _, want := range []string{"triaged", `"Confirmed."`, `"Fix in progress."`, "medium"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if out := mustRun(t, "vulns", "overdue", "--dir", v); !strings.Contains(out, "no report is overdue") {
		t.Fatalf("overdue after triage: %s", out)
	}
	mail, err := st.Outbox()
	if err != nil || len(mail) != 4 {
		t.Fatalf("outbox: %d %v", len(mail), err)
	}
	mustRun(t, "vulns", "set-state", "--dir", v, old.ID, "rejected", "--note", "Not reproducible.")
	if out := mustRun(t, "vulns", "list", "--dir", v); strings.Contains(out, old.ID) {
		t.Fatalf("list shows a rejected report:\n%s", out)
	}
	if out := mustRun(t, "vulns", "list", "--dir", v, "--all"); !strings.Contains(out, "rejected") {
		t.Fatalf("list --all:\n%s", out)
	}
	if _, err := run(t, "vulns", "show", "--dir", v, "HV-0000000000000000"); !errors.Is(err, vuln.ErrNotFound) {
		t.Fatalf("show unknown: %v", err)
	}
	if _, err := run(t, "vulns", "list"); err == nil {
		t.Fatal("list without --dir")
	}
}
