package sensors

import (
	"slices"
	"time"
)

// Model is a kind of sensor the gateway can pair, with what it senses and how long it is
// supported. Hearth's sensors are constrained devices: a microcontroller on a coin cell
// with no room for a second firmware image, so none can be updated in the field; each
// says so, says until when it is supported, and how it is replaced.
//
// TS-0045 5.3.1.14: for constrained devices that cannot be updated, the reason, the
// support period for hardware replacement and the method are explained in plain words.
// TS-0045 5.7.1.3: what each sensor senses is told to the user.
type Model struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Kinds []Kind `json:"kinds"`
	// Updatable is whether its firmware can be updated; false for all current models.
	Updatable bool `json:"updatable"`
	// SupportEnd is the last day the model is supported: security fixes are then
	// delivered by replacing the hardware, free of charge until this date.
	SupportEnd time.Time `json:"support_end"`
	// Replacement is the model that replaces it.
	Replacement string `json:"replacement"`
	// MaxRate is the most readings per second the model sends in normal operation,
	// including the burst of a backlog after an outage (see RateLimit).
	MaxRate float64 `json:"max_rate"`
	// Text keys (internal/i18n) for the plain-words explanations.
	SensesKey, NotUpdatableKey, ReplaceKey string `json:"-"`
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

var models = []Model{
	{ID: "HS-TH1", Name: "Hearth climate sensor", Kinds: []Kind{Temperature, Humidity, Battery},
		SupportEnd: day("2031-12-31"), Replacement: "HS-TH2", MaxRate: 1,
		SensesKey: "model.HS-TH1.senses", NotUpdatableKey: "model.not_updatable", ReplaceKey: "model.replace"},
	{ID: "HS-TH2", Name: "Hearth climate sensor (2nd generation)", Kinds: []Kind{Temperature, Humidity, Battery},
		SupportEnd: day("2034-12-31"), Replacement: "HS-TH2", MaxRate: 1,
		SensesKey: "model.HS-TH1.senses", NotUpdatableKey: "model.not_updatable", ReplaceKey: "model.replace"},
	{ID: "HS-M1", Name: "Hearth motion sensor", Kinds: []Kind{Motion, Battery},
		SupportEnd: day("2031-12-31"), Replacement: "HS-M1", MaxRate: 2,
		SensesKey: "model.HS-M1.senses", NotUpdatableKey: "model.not_updatable", ReplaceKey: "model.replace"},
	{ID: "HS-D1", Name: "Hearth door sensor", Kinds: []Kind{Door, Battery},
		SupportEnd: day("2031-12-31"), Replacement: "HS-D1", MaxRate: 2,
		SensesKey: "model.HS-D1.senses", NotUpdatableKey: "model.not_updatable", ReplaceKey: "model.replace"},
}

// Models lists the models the gateway can pair.
func Models() []Model { return slices.Clone(models) }

// LookupModel finds a model by ID.
func LookupModel(id string) (Model, bool) {
	i := slices.IndexFunc(models, func(m Model) bool { return m.ID == id })
	if i < 0 {
		return Model{}, false
	}
	return models[i], true
}

// Reports is whether sensors of model m send readings of kind k.
func (m Model) Reports(k Kind) bool { return slices.Contains(m.Kinds, k) }

// Supported is whether the model is still supported at t.
func (m Model) Supported(t time.Time) bool { return !t.After(m.SupportEnd.Add(24*time.Hour - 1)) }
