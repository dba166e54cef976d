package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"hearth/internal/vuln"
)

// newVulns is the operators' offline tool for vulnerability reports (TS-0045 5.2.1.1,
// 5.2.1.2): it works on the vendor directory, alongside a running serve.
func newVulns() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "vulns",
		Short: "Handle vulnerability reports: list, show, set-state, set-cvss, note, overdue, scan",
		Args:  cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", "", "vendor directory (required)")
	open := func() (*vuln.Store, error) {
		if dir == "" {
			return nil, errors.New("--dir is required")
		}
		p, err := vuln.LoadPolicy(dir)
		if err != nil {
			return nil, err
		}
		return vuln.Open(vuln.Config{VendorDir: dir, Policy: p})
	}
	cmd.AddCommand(vulnsList(open), vulnsShow(open), vulnsSetState(open), vulnsSetCVSS(open),
		vulnsNote(open), vulnsOverdue(open), vulnsScan(open))
	return cmd
}

type opener func() (*vuln.Store, error)

func vulnsList(open opener) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "list --dir V [--all]",
		Short: "List open reports (all with --all)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open()
			if err != nil {
				return err
			}
			rs, err := st.List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tRECEIVED\tSTATE\tSEVERITY\tFIX DUE\tSOURCE\tTITLE")
			for _, r := range rs {
				if !all && !r.State.Open() {
					continue
				}
				sev := string(r.Severity())
				if sev == "" {
					sev = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Received.Format(time.DateOnly), r.State, sev,
					st.Policy().FixDeadline(r.Received, r.Severity()).Format(time.DateOnly), r.Source, clip(r.Title, 60))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include disclosed and rejected reports")
	return cmd
}

func vulnsShow(open opener) *cobra.Command {
	return &cobra.Command{
		Use:   "show --dir V ID",
		Short: "Show a report and its history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open()
			if err != nil {
				return err
			}
			r, err := st.Get(args[0])
			if err != nil {
				return err
			}
			printReport(cmd.OutOrStdout(), st.Policy(), r)
			return nil
		},
	}
}

// printReport writes a report for a terminal. Reporters' text is printed with %q
// where it is one line, so control sequences cannot reach the operator's terminal
// (intake refuses them anyway).
func printReport(w io.Writer, p vuln.Policy, r vuln.Report) {
	fmt.Fprintf(w, "%s  %s\n", r.ID, r.State)
	fmt.Fprintf(w, "title:      %q\nproduct:    %q %q\nsource:     %s\ncontact:    %q\n", r.Title, r.Product, r.Version, r.Source, r.Contact)
	fmt.Fprintf(w, "received:   %s\ntriage due: %s\n", r.Received.Format(time.RFC3339), p.AckDeadline(r.Received).Format(time.RFC3339))
	if r.CVSS != nil {
		fmt.Fprintf(w, "cvss:       %s %.1f %s %s\n", r.CVSS.Version, r.CVSS.Score, r.CVSS.Severity, r.CVSS.Vector)
	}
	if r.ReporterCVSS != "" {
		fmt.Fprintf(w, "reporter's: %q\n", r.ReporterCVSS)
	}
	fmt.Fprintf(w, "fix due:    %s\n", p.FixDeadline(r.Received, r.Severity()).Format(time.DateOnly))
	if r.Advisory != "" {
		fmt.Fprintf(w, "advisory:   %s (%s)\n", r.Advisory, r.Component)
	}
	fmt.Fprintf(w, "\ndescription:\n%q\n\nhistory:\n", r.Description)
	for _, c := range r.History {
		fmt.Fprintf(w, "  %s  %-9s  %q\n", c.At.Format(time.RFC3339), c.State, c.Note)
	}
}

func vulnsSetState(open opener) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "set-state --dir V ID STATE --note TEXT",
		Short: "Move a report along received, triaged, fixing, fixed, disclosed (or rejected); the note goes to the reporter",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			to, ok := vuln.ParseState(args[1])
			if !ok {
				return fmt.Errorf("unknown state %q (triaged, fixing, fixed, disclosed, rejected)", args[1])
			}
			st, err := open()
			if err != nil {
				return err
			}
			r, err := st.SetState(args[0], to, note)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", r.ID, r.State)
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "message to the reporter")
	return cmd
}

func vulnsSetCVSS(open opener) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "set-cvss --dir V ID VECTOR",
		Short: "Record the vendor's CVSS v3.1 or v4.0 assessment (sets severity and fix deadline)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open()
			if err != nil {
				return err
			}
			r, err := st.SetCVSS(args[0], args[1], note)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: CVSS %s %.1f %s, fix due %s\n", r.ID, r.CVSS.Version, r.CVSS.Score,
				r.CVSS.Severity, st.Policy().FixDeadline(r.Received, r.Severity()).Format(time.DateOnly))
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "message to the reporter (default: the assessment and deadline)")
	return cmd
}

func vulnsNote(open opener) *cobra.Command {
	return &cobra.Command{
		Use:   "note --dir V ID TEXT",
		Short: "Send the reporter a status update without changing the state",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open()
			if err != nil {
				return err
			}
			r, err := st.Note(args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: update sent (%s)\n", r.ID, r.State)
			return nil
		},
	}
}

// errOverdue makes hearth-cloud exit with status 1, for alerting.
var errOverdue = errors.New("reports past their deadlines")

func vulnsOverdue(open opener) *cobra.Command {
	return &cobra.Command{
		Use:   "overdue --dir V",
		Short: "List reports past their triage or fix deadline or without an update; exit status 1 when any",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open()
			if err != nil {
				return err
			}
			rs, err := st.List()
			if err != nil {
				return err
			}
			fs := st.Policy().Overdue(rs, time.Now())
			for _, f := range fs {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			if len(fs) > 0 {
				return fmt.Errorf("%d %w", len(fs), errOverdue)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "no report is overdue")
			return nil
		},
	}
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
