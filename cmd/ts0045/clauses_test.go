package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"hearth/internal/standard"
)

func runArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(args, &stdout, &stderr)
	return stdout.String(), err
}

func tableLines(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 68 {
		t.Fatalf("table has %d lines, want header + 67", len(lines))
	}
	return lines
}

func TestClausesTable(t *testing.T) {
	out, err := runArgs(t, "clauses")
	if err != nil {
		t.Fatalf("clauses: %v", err)
	}
	lines := tableLines(t, out)
	if h := strings.Fields(lines[0]); strings.Join(h, " ") != "ID LEVEL CONDITIONS EN 303 645 REQUIREMENT" {
		t.Errorf("header = %q", lines[0])
	}
	for i, it := range standard.Items() {
		line := lines[i+1]
		if !strings.HasPrefix(line, it.ID+" ") {
			t.Errorf("line %d = %q, want item %s", i+1, line, it.ID)
		}
		if w := displayWidth(line); w > lineWidth {
			t.Errorf("%s: line is %d columns wide", it.ID, w)
		}
	}
	row := lineFor(t, lines, "5.3.1.6")
	for _, want := range []string{"RC", "9, 12", "5.3-6", "Where the product supports automatic updates"} {
		if !strings.Contains(row, want) {
			t.Errorf("5.3.1.6 row %q lacks %q", row, want)
		}
	}
	if !strings.Contains(lineFor(t, lines, "5.2.1.5"), "The product should provide guidance on the secure setup of the product.") {
		t.Error("short requirement text was truncated")
	}
}

func lineFor(t *testing.T, lines []string, id string) string {
	t.Helper()
	for _, l := range lines {
		if strings.HasPrefix(l, id+" ") {
			return l
		}
	}
	t.Fatalf("no line for %s", id)
	return ""
}

func TestClausesTableZH(t *testing.T) {
	out, err := runArgs(t, "clauses", "--lang", "zh", "--format", "table")
	if err != nil {
		t.Fatalf("clauses --lang zh: %v", err)
	}
	lines := tableLines(t, out)
	if !strings.Contains(lineFor(t, lines, "5.5.1.1"), "產品宜支援安全啟動(Secure boot)機制。") {
		t.Error("zh table lacks the zh-TW text of 5.5.1.1")
	}
	for _, l := range lines {
		if w := displayWidth(l); w > lineWidth {
			t.Errorf("line %q is %d columns wide", l, w)
		}
	}
}

func TestClausesJSON(t *testing.T) {
	out, err := runArgs(t, "clauses", "--format", "json")
	if err != nil {
		t.Fatalf("clauses --format json: %v", err)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(got) != 67 {
		t.Fatalf("JSON has %d items, want 67", len(got))
	}
	keys := []string{"id", "aspect", "aspect_zh", "aspect_en", "group", "group_zh", "group_en", "level", "conditions", "text_zh", "text_en", "en_303_645"}
	for _, k := range keys {
		if _, ok := got[0][k]; !ok {
			t.Errorf("JSON item lacks key %q", k)
		}
	}
	if _, ok := got[0]["applies"]; ok {
		t.Error("JSON has applies without --conditions")
	}
	var items []clauseJSON
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatalf("decode items: %v", err)
	}
	for i, it := range standard.Items() {
		if want := toClauseJSON(it, nil); !reflect.DeepEqual(items[i], want) {
			t.Errorf("JSON item %d = %+v, want %+v", i, items[i], want)
		}
	}
	if !strings.Contains(out, `"conditions": []`) {
		t.Error("unconditional items should have an empty conditions array")
	}
}

func TestClausesConditions(t *testing.T) {
	out, err := runArgs(t, "clauses", "--conditions", "9, 12")
	if err != nil {
		t.Fatalf("clauses --conditions: %v", err)
	}
	lines := tableLines(t, out)
	if !strings.Contains(lines[0], "APPLIES") {
		t.Errorf("header %q lacks APPLIES", lines[0])
	}
	want := map[string]standard.Applicability{
		"5.3.1.6":  standard.AppliesRecommended,
		"5.3.1.10": standard.NotApplicable,
		"5.3.1.3":  standard.AppliesMandatory,
		"5.1.1.1":  standard.NotApplicable,
		"5.1.2.3":  standard.AppliesMandatory,
		"5.2.1.2":  standard.AppliesRecommended,
	}
	for id, app := range want {
		if f := strings.Fields(lineFor(t, lines, id)); !slices.Contains(f, string(app)) {
			t.Errorf("%s row %v, want %s", id, f, app)
		}
	}
}

func TestClausesConditionsJSON(t *testing.T) {
	out, err := runArgs(t, "clauses", "--format", "json", "--conditions", "11,12")
	if err != nil {
		t.Fatalf("clauses: %v", err)
	}
	var items []clauseJSON
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatalf("decode: %v", err)
	}
	met := map[standard.Condition]bool{11: true, 12: true}
	for i, it := range standard.Items() {
		if items[i].Applies != it.Applicability(met) {
			t.Errorf("%s applies = %q, want %q", it.ID, items[i].Applies, it.Applicability(met))
		}
	}
}

func TestClausesEmptyConditions(t *testing.T) {
	out, err := runArgs(t, "clauses", "--conditions", "")
	if err != nil {
		t.Fatalf("clauses --conditions '': %v", err)
	}
	lines := tableLines(t, out)
	if f := strings.Fields(lineFor(t, lines, "5.3.1.10")); !slices.Contains(f, string(standard.NotApplicable)) {
		t.Errorf("5.3.1.10 with no conditions met: %v", f)
	}
}

func TestClausesErrors(t *testing.T) {
	tests := []struct {
		args    []string
		mention string
	}{
		{[]string{"clauses", "--format", "xml"}, `invalid --format "xml"`},
		{[]string{"clauses", "--lang", "fr"}, `invalid --lang "fr"`},
		{[]string{"clauses", "--conditions", "1,14"}, `invalid --conditions "1,14"`},
		{[]string{"clauses", "--conditions", "x"}, `"x" is not a number`},
		{[]string{"clauses", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"clauses", "extra"}, `unknown command "extra"`},
		{[]string{"nope"}, `unknown command "nope"`},
	}
	for _, tt := range tests {
		out, err := runArgs(t, tt.args...)
		if err == nil {
			t.Errorf("%v succeeded, want error", tt.args)
			continue
		}
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%v error %q does not mention %q", tt.args, err, tt.mention)
		}
		if out != "" {
			t.Errorf("%v wrote output despite the error: %q", tt.args, out)
		}
	}
	_, err := runArgs(t, "clauses", "--conditions", "0")
	if !errors.Is(err, standard.ErrInvalidCondition) {
		t.Errorf("--conditions 0 error %v does not wrap ErrInvalidCondition", err)
	}
}

func TestVerifyEventsNeedsRootAndFile(t *testing.T) {
	if _, err := runArgs(t, "verify-events", "x.json"); err == nil || !strings.Contains(err.Error(), "--root") {
		t.Fatalf("without --root: %v", err)
	}
	if _, err := runArgs(t, "verify-events", "--root", "/nonexistent.crt", "x.json"); err == nil {
		t.Fatal("missing root file accepted")
	}
}
