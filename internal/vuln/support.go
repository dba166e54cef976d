package vuln

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ModelsFile is the vendor's statement of each model's support period, under the
// vendor directory:
//
//	[{"model": "HG-100", "name": "Hearth Gateway", "support_end": "2031-12-31"}]
//
// Without it, the period is derived from the registered units (devices/*.json): for
// each model, five years after its most recently provisioned unit, which is
// provision's default support end for a unit (the label's support_end). A vendor that
// provisions with an explicit --support-end should publish ModelsFile.
const ModelsFile = "models.json"

// Model is one model's support period.
type Model struct {
	Model      string `json:"model"`
	Name       string `json:"name,omitempty"`
	SupportEnd string `json:"support_end"` // YYYY-MM-DD, last day of security updates
}

// defaultSupportYears is provision's default support period for a unit.
const defaultSupportYears = 5

// SupportPeriods lists the models' support periods, by model.
//
// TS-0045 5.3.1.13: the support period is published where anyone can read it.
func SupportPeriods(vendorDir string) ([]Model, error) {
	b, err := os.ReadFile(filepath.Join(vendorDir, ModelsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return derivedPeriods(vendorDir)
	}
	if err != nil {
		return nil, fmt.Errorf("support periods: %w", err)
	}
	var ms []Model
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ms); err != nil {
		return nil, fmt.Errorf("support periods %s: %w", ModelsFile, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("support periods %s: data after the list", ModelsFile)
	}
	for i, m := range ms {
		if m.Model == "" || CheckText(m.Model, 64, false) != nil || CheckText(m.Name, 200, false) != nil {
			return nil, fmt.Errorf("support periods %s: entry %d: bad model or name", ModelsFile, i+1)
		}
		if _, err := time.Parse(time.DateOnly, m.SupportEnd); err != nil {
			return nil, fmt.Errorf("support periods %s: entry %d: support_end: %w", ModelsFile, i+1, err)
		}
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Model < ms[j].Model })
	return ms, nil
}

func derivedPeriods(vendorDir string) ([]Model, error) {
	dir := filepath.Join(vendorDir, "devices")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []Model{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("support periods: %w", err)
	}
	latest := map[string]time.Time{}
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("support periods: %w", err)
		}
		var reg struct {
			Model         string    `json:"model"`
			ProvisionedAt time.Time `json:"provisioned_at"`
		}
		if json.Unmarshal(b, &reg) != nil || reg.Model == "" {
			continue
		}
		if reg.ProvisionedAt.After(latest[reg.Model]) {
			latest[reg.Model] = reg.ProvisionedAt
		}
	}
	ms := []Model{}
	for m, t := range latest {
		ms = append(ms, Model{Model: m, SupportEnd: t.UTC().AddDate(defaultSupportYears, 0, 0).Format(time.DateOnly)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Model < ms[j].Model })
	return ms, nil
}
