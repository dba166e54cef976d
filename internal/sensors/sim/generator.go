package sim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"hearth/internal/sensors"
)

// GeneratorConfig configures a Generator.
type GeneratorConfig struct {
	Model sensors.Model
	// Seed makes the readings reproducible: the same seed, model, start, interval and
	// location give the same readings.
	Seed uint64
	// Start is the time of the first readings; zero means the Unix epoch.
	Start time.Time
	// Interval is how often a climate sensor measures, or for motion and door sensors
	// the shortest time between two events (the detector's blind time). Zero means
	// DefaultInterval(Model).
	Interval time.Duration
	// Location is the house's time zone, which sets its day; nil means time.Local.
	Location *time.Location
}

// BatteryEvery is how often a sensor reports its battery: rarely, since every
// transmission costs the coin cell.
const BatteryEvery = 6 * time.Hour

// DefaultInterval is the interval a model's sensors use unless told otherwise.
func DefaultInterval(m sensors.Model) time.Duration {
	switch {
	case m.Reports(sensors.Temperature) || m.Reports(sensors.Humidity):
		return 30 * time.Second
	case m.Reports(sensors.Motion):
		return 10 * time.Second
	default:
		return time.Second
	}
}

// MinInterval is the shortest interval at which a model's sensors stay within its
// MaxRate: a climate sensor sends two readings per interval, an event sensor at most
// one.
func MinInterval(m sensors.Model) time.Duration {
	if m.MaxRate <= 0 {
		return 0
	}
	per := 0
	for _, k := range []sensors.Kind{sensors.Temperature, sensors.Humidity} {
		if m.Reports(k) {
			per++
		}
	}
	per = max(per, 1)
	return time.Duration(math.Ceil(float64(per) / m.MaxRate * float64(time.Second)))
}

// Validate checks the configuration.
func (c GeneratorConfig) Validate() error {
	if len(c.Model.Kinds) == 0 || c.Model.MaxRate <= 0 {
		return errors.New("sim: a sensor model with kinds and a rate is required")
	}
	if c.Interval == 0 {
		return nil
	}
	if lo := MinInterval(c.Model); c.Interval < lo || c.Interval > 24*time.Hour {
		return fmt.Errorf("sim: interval %v for %s outside %v..24h (its rate is at most %v readings a second)", c.Interval, c.Model.ID, lo, c.Model.MaxRate)
	}
	return nil
}

// Generator produces one simulated sensor's readings in time order.
type Generator struct {
	streams []stream
}

// stream is one source of readings inside a sensor; head is its next reading.
type stream interface {
	head() sensors.Reading
	advance()
}

// NewGenerator builds the generator for cfg.Model, with a stream for each kind the
// model reports and for no other.
func NewGenerator(cfg GeneratorConfig) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval(cfg.Model)
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Unix(0, 0)
	}
	m := cfg.Model
	g := &Generator{}
	if m.Reports(sensors.Temperature) || m.Reports(sensors.Humidity) {
		g.streams = append(g.streams, newClimate(cfg, rng(cfg.Seed, "climate")))
	}
	if m.Reports(sensors.Motion) {
		g.streams = append(g.streams, newMotion(cfg, rng(cfg.Seed, "motion")))
	}
	if m.Reports(sensors.Door) {
		g.streams = append(g.streams, newDoor(cfg, rng(cfg.Seed, "door")))
	}
	if m.Reports(sensors.Battery) {
		g.streams = append(g.streams, newBattery(cfg, rng(cfg.Seed, "battery")))
	}
	return g, nil
}

// Next returns the next reading: the earliest head of the streams (on a tie, the
// stream listed first).
func (g *Generator) Next() sensors.Reading {
	best := 0
	for i, s := range g.streams[1:] {
		if s.head().Time.Before(g.streams[best].head().Time) {
			best = i + 1
		}
	}
	r := g.streams[best].head()
	g.streams[best].advance()
	return r
}

// rng is an independent random source per stream, so adding a kind to a model does
// not change the readings of the others.
func rng(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// hourOf is the time of day at t in loc, in hours [0, 24).
func hourOf(t time.Time, loc *time.Location) float64 {
	t = t.In(loc)
	return float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600
}

// round1 rounds to the sensor's resolution of a tenth.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

func clamp(v, lo, hi float64) float64 { return min(max(v, lo), hi) }

// ou is an Ornstein-Uhlenbeck process: a random walk pulled back to zero with time
// constant tau, whose values have standard deviation sd. It models slow drift.
type ou struct {
	x, sd float64
	tau   time.Duration
}

func (o *ou) step(dt time.Duration, r *rand.Rand) float64 {
	a := math.Exp(-dt.Seconds() / o.tau.Seconds())
	o.x = o.x*a + o.sd*math.Sqrt(1-a*a)*r.NormFloat64()
	return o.x
}

// Play hands gen's readings to add as their time comes, in real time, until ctx ends.
// A reading whose time has already passed is handed over at once.
func Play(ctx context.Context, gen *Generator, add func(sensors.Reading)) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		r := gen.Next()
		t.Reset(time.Until(r.Time))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			add(r)
		}
	}
}
