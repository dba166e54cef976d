package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"hearth/internal/standard"
)

// lineWidth is the display width the table output is fitted to.
const lineWidth = 120

type clausesOptions struct {
	format     string
	lang       string
	conditions string
	// met is the parsed --conditions; nil when the flag was not given.
	met map[standard.Condition]bool
}

func newClausesCmd() *cobra.Command {
	var opts clausesOptions
	cmd := &cobra.Command{
		Use:   "clauses",
		Short: "List the requirement items of TS-0045",
		Long:  clausesLong(),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.resolve(cmd.Flags().Changed("conditions")); err != nil {
				return err
			}
			return writeClauses(cmd.OutOrStdout(), opts, standard.Items())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.format, "format", "table", "output format: table or json")
	f.StringVar(&opts.lang, "lang", "en", "requirement text language in the table: en or zh")
	f.StringVar(&opts.conditions, "conditions", "", "comma-separated conditions the product meets, e.g. 1,2,5; adds an APPLIES column")
	return cmd
}

func clausesLong() string {
	var b strings.Builder
	b.WriteString("List the 67 requirement items of TAICS TS-0045 v1.0:2021 with their level\n")
	b.WriteString("(M, R, MC, RC), conditions and ETSI EN 303 645 provision.\n\n")
	b.WriteString("With --conditions, each item is resolved for a product meeting those\n")
	b.WriteString("conditions: an item with conditions applies only when all of them are met.\n\n")
	b.WriteString("Conditions:\n")
	for _, c := range standard.Conditions() {
		fmt.Fprintf(&b, "  %2d  %s\n", c.ID, c.TextEN)
	}
	return b.String()
}

// resolve validates the flags and parses --conditions when it was given.
func (o *clausesOptions) resolve(conditionsSet bool) error {
	if o.format != "table" && o.format != "json" {
		return fmt.Errorf("invalid --format %q: want table or json", o.format)
	}
	if o.lang != "en" && o.lang != "zh" {
		return fmt.Errorf("invalid --lang %q: want en or zh", o.lang)
	}
	if !conditionsSet {
		return nil
	}
	met, err := standard.ParseConditions(o.conditions)
	if err != nil {
		return fmt.Errorf("invalid --conditions %q: %w", o.conditions, err)
	}
	o.met = met
	return nil
}

func writeClauses(w io.Writer, opts clausesOptions, items []standard.Item) error {
	if opts.format == "json" {
		return writeClausesJSON(w, opts, items)
	}
	return writeClausesTable(w, opts, items)
}

func writeClausesTable(w io.Writer, opts clausesOptions, items []standard.Item) error {
	header := []string{"ID", "LEVEL", "CONDITIONS", "EN 303 645"}
	if opts.met != nil {
		header = append(header, "APPLIES")
	}
	header = append(header, "REQUIREMENT")
	rows := make([][]string, len(items))
	for i, it := range items {
		rows[i] = clauseRow(it, opts)
	}
	if err := writeTable(w, header, rows, lineWidth); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func clauseRow(it standard.Item, opts clausesOptions) []string {
	conds := standard.FormatConditions(it.Conditions)
	if conds == "" {
		conds = "-"
	}
	row := []string{it.ID, string(it.Level), conds, it.EN303645}
	if opts.met != nil {
		row = append(row, string(it.Applicability(opts.met)))
	}
	text := it.TextEN
	if opts.lang == "zh" {
		text = it.TextZH
	}
	return append(row, text)
}

// clauseJSON is the JSON form of an item.
type clauseJSON struct {
	ID         string                 `json:"id"`
	Aspect     string                 `json:"aspect"`
	AspectZH   string                 `json:"aspect_zh"`
	AspectEN   string                 `json:"aspect_en"`
	Group      string                 `json:"group"`
	GroupZH    string                 `json:"group_zh"`
	GroupEN    string                 `json:"group_en"`
	Level      standard.Level         `json:"level"`
	Conditions []standard.Condition   `json:"conditions"`
	TextZH     string                 `json:"text_zh"`
	TextEN     string                 `json:"text_en"`
	EN303645   string                 `json:"en_303_645"`
	Applies    standard.Applicability `json:"applies,omitempty"`
}

func toClauseJSON(it standard.Item, met map[standard.Condition]bool) clauseJSON {
	c := clauseJSON{
		ID: it.ID, Aspect: it.Aspect, AspectZH: it.AspectZH, AspectEN: it.AspectEN,
		Group: it.Group, GroupZH: it.GroupZH, GroupEN: it.GroupEN,
		Level: it.Level, Conditions: it.Conditions,
		TextZH: it.TextZH, TextEN: it.TextEN, EN303645: it.EN303645,
	}
	if c.Conditions == nil {
		c.Conditions = []standard.Condition{}
	}
	if met != nil {
		c.Applies = it.Applicability(met)
	}
	return c
}

func writeClausesJSON(w io.Writer, opts clausesOptions, items []standard.Item) error {
	out := make([]clauseJSON, len(items))
	for i, it := range items {
		out[i] = toClauseJSON(it, opts.met)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	return nil
}
