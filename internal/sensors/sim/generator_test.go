package sim

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"hearth/internal/sensors"
)

var week0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday

func model(t *testing.T, id string) sensors.Model {
	t.Helper()
	m, ok := sensors.LookupModel(id)
	if !ok {
		t.Fatalf("no model %s", id)
	}
	return m
}

// week generates a week of readings of a model.
func week(t *testing.T, id string, seed uint64, interval time.Duration) []sensors.Reading {
	t.Helper()
	g, err := NewGenerator(GeneratorConfig{Model: model(t, id), Seed: seed, Start: week0, Interval: interval, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	var rs []sensors.Reading
	for {
		r := g.Next()
		if !r.Time.Before(week0.Add(7 * 24 * time.Hour)) {
			return rs
		}
		rs = append(rs, r)
	}
}

// TestEveryReadingParses checks that the gateway would accept every generated reading:
// the wire payload parses, and the kind is one the model reports.
func TestEveryReadingParses(t *testing.T) {
	for _, m := range sensors.Models() {
		// Climate sensors every ten minutes: a week of them at the default interval
		// takes long to parse under the race detector and shows nothing more.
		var interval time.Duration
		if m.Reports(sensors.Temperature) {
			interval = 10 * time.Minute
		}
		for seed := range uint64(5) {
			t.Run(fmt.Sprintf("%s/seed=%d", m.ID, seed), func(t *testing.T) {
				t.Parallel()
				rs := week(t, m.ID, seed, interval)
				if len(rs) < 50 {
					t.Fatalf("only %d readings in a week", len(rs))
				}
				seen := map[sensors.Kind]int{}
				for i, r := range rs {
					got, err := sensors.ParseReading(r.Marshal(), r.Time)
					if err != nil {
						t.Fatalf("reading %d %s refused: %v", i, r.Marshal(), err)
					}
					if got.Kind != r.Kind || got.Value != r.Value || !got.Time.Equal(r.Time) {
						t.Fatalf("reading %d changed on the wire: %+v -> %+v", i, r, got)
					}
					if !m.Reports(r.Kind) {
						t.Fatalf("%s reports %s", m.ID, r.Kind)
					}
					if i > 0 && r.Time.Before(rs[i-1].Time) {
						t.Fatalf("reading %d at %v before the previous one at %v", i, r.Time, rs[i-1].Time)
					}
					seen[r.Kind]++
				}
				for _, k := range m.Kinds {
					if seen[k] == 0 {
						t.Errorf("no %s reading in a week", k)
					}
				}
			})
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b, c := week(t, "HS-TH1", 7, 0), week(t, "HS-TH1", 7, 0), week(t, "HS-TH1", 8, 0)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave different readings")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds gave the same readings")
	}
}

func TestClimateIsPlausible(t *testing.T) {
	for seed := range uint64(10) {
		rs := week(t, "HS-TH2", seed, time.Minute)
		var temps, hums []float64
		var afternoon, night []float64
		for _, r := range rs {
			switch r.Kind {
			case sensors.Temperature:
				if r.Value < minIndoorC || r.Value > maxIndoorC {
					t.Fatalf("seed %d: %v C indoors", seed, r.Value)
				}
				if r.Value*10 != math.Round(r.Value*10) {
					t.Fatalf("seed %d: %v C finer than a tenth", seed, r.Value)
				}
				temps = append(temps, r.Value)
				switch h := r.Time.Hour(); {
				case h >= 14 && h < 18:
					afternoon = append(afternoon, r.Value)
				case h >= 2 && h < 6:
					night = append(night, r.Value)
				}
			case sensors.Humidity:
				if r.Value < minIndoorRH || r.Value > maxIndoorRH {
					t.Fatalf("seed %d: %v %%RH indoors", seed, r.Value)
				}
				hums = append(hums, r.Value)
			}
		}
		if len(temps) != 7*24*60 || len(hums) != len(temps) {
			t.Fatalf("seed %d: %d temperatures and %d humidities in a week at one a minute", seed, len(temps), len(hums))
		}
		if d := mean(afternoon) - mean(night); d < 1 || d > 6 {
			t.Errorf("seed %d: afternoons %.1f C warmer than nights; want a daily cycle of a few degrees", seed, d)
		}
		if r := correlation(temps, hums); r > -0.3 {
			t.Errorf("seed %d: temperature and humidity correlate %.2f; want clearly negative", seed, r)
		}
		if s := stddev(diffs(temps)); s > 0.3 || s == 0 {
			t.Errorf("seed %d: minute-to-minute temperature changes have sd %.2f; want small but noisy", seed, s)
		}
	}
}

func TestMotionFollowsOccupancy(t *testing.T) {
	var evening, night, total int
	for seed := range uint64(5) {
		rs := week(t, "HS-M1", seed, 0)
		var last time.Time
		for _, r := range rs {
			if r.Kind != sensors.Motion {
				continue
			}
			if r.Value != 1 {
				t.Fatalf("motion value %v", r.Value)
			}
			if !last.IsZero() && r.Time.Sub(last) < DefaultInterval(model(t, "HS-M1")) {
				t.Fatalf("motion %v after the previous one, within the blind time", r.Time.Sub(last))
			}
			last = r.Time
			total++
			switch h := r.Time.Hour(); {
			case h >= 18 && h < 21:
				evening++
			case h >= 1 && h < 4:
				night++
			}
		}
	}
	// Over 5 weeks: about 5*7*3*40 = 4200 in the evenings, 5*7*3*0.3 = 32 at night.
	if evening < 2000 || night > 150 || evening < 10*night {
		t.Fatalf("motion events: %d in evenings, %d at night (of %d)", evening, night, total)
	}
}

func TestDoorOpensThenCloses(t *testing.T) {
	rs := week(t, "HS-D1", 3, 0)
	n := 0
	for _, r := range rs {
		if r.Kind != sensors.Door {
			continue
		}
		if want := float64(1 - n%2); r.Value != want {
			t.Fatalf("door event %d is %v, want %v (open and close alternate, open first)", n, r.Value, want)
		}
		n++
	}
	if n < 2*7*10 || n > 2*7*80 {
		t.Fatalf("%d door events in a week", n)
	}
}

func TestBatteryDrainsSlowly(t *testing.T) {
	rs := week(t, "HS-TH1", 1, 0)
	var bat []sensors.Reading
	for _, r := range rs {
		if r.Kind == sensors.Battery {
			bat = append(bat, r)
		}
	}
	if len(bat) != 7*24/int(BatteryEvery.Hours()) {
		t.Fatalf("%d battery readings in a week", len(bat))
	}
	for i := 1; i < len(bat); i++ {
		if bat[i].Value > bat[i-1].Value {
			t.Fatalf("battery rose from %v to %v", bat[i-1].Value, bat[i].Value)
		}
	}
	if d := bat[0].Value - bat[len(bat)-1].Value; d > 3 {
		t.Fatalf("battery fell %v%% in a week", d)
	}
}

func TestGeneratorConfigValidates(t *testing.T) {
	th := model(t, "HS-TH1")
	for name, cfg := range map[string]GeneratorConfig{
		"no model":            {},
		"faster than allowed": {Model: th, Interval: time.Second},
		"slower than a day":   {Model: th, Interval: 25 * time.Hour},
		"door too fast":       {Model: model(t, "HS-D1"), Interval: 100 * time.Millisecond},
	} {
		if _, err := NewGenerator(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewGenerator(GeneratorConfig{Model: th, Interval: MinInterval(th)}); err != nil {
		t.Errorf("minimum interval %v refused: %v", MinInterval(th), err)
	}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func stddev(v []float64) float64 {
	m, s := mean(v), 0.0
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(v)))
}

func diffs(v []float64) []float64 {
	d := make([]float64, len(v)-1)
	for i := range d {
		d[i] = v[i+1] - v[i]
	}
	return d
}

func correlation(a, b []float64) float64 {
	ma, mb := mean(a), mean(b)
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}
