package sim

import (
	"math"
	"math/rand/v2"
	"time"

	"hearth/internal/sensors"
)

// Indoor limits of the climate simulation: a lived-in room, heated or cooled, never
// anywhere near the limits the gateway accepts.
const (
	minIndoorC, maxIndoorC   = 12.0, 32.0
	minIndoorRH, maxIndoorRH = 20.0, 80.0
)

// climate is a room's temperature and humidity, measured every interval.
//
// Temperature is a mean set by the house (19.5 to 22.5 C), a daily cycle peaking in
// the afternoon, a slow drift (weather, heating) and measurement noise. Relative
// humidity falls as the air warms: it follows the temperature's deviation from the
// mean the other way, with its own drift and noise.
type climate struct {
	rng        *rand.Rand
	loc        *time.Location
	interval   time.Duration
	temp, hum  bool
	meanC, amp float64
	meanRH     float64
	driftC     ou
	driftRH    ou
	at         time.Time
	pending    []sensors.Reading
}

func newClimate(cfg GeneratorConfig, r *rand.Rand) *climate {
	c := &climate{
		rng: r, loc: cfg.Location, interval: cfg.Interval,
		temp: cfg.Model.Reports(sensors.Temperature), hum: cfg.Model.Reports(sensors.Humidity),
		meanC:   19.5 + 3*r.Float64(),
		amp:     1 + r.Float64(),
		meanRH:  40 + 15*r.Float64(),
		driftC:  ou{sd: 0.8, tau: 6 * time.Hour},
		driftRH: ou{sd: 4, tau: 12 * time.Hour},
		at:      cfg.Start,
	}
	c.driftC.x = c.driftC.sd * r.NormFloat64()
	c.driftRH.x = c.driftRH.sd * r.NormFloat64()
	c.measure(0)
	return c
}

// measure appends the readings taken at c.at, dt after the previous ones.
func (c *climate) measure(dt time.Duration) {
	dc, dh := c.driftC.x, c.driftRH.x
	if dt > 0 {
		dc, dh = c.driftC.step(dt, c.rng), c.driftRH.step(dt, c.rng)
	}
	daily := c.amp * math.Cos(2*math.Pi*(hourOf(c.at, c.loc)-16)/24)
	dev := daily + dc
	t := clamp(round1(c.meanC+dev+0.05*c.rng.NormFloat64()), minIndoorC, maxIndoorC)
	h := clamp(round1(c.meanRH-3*dev+dh+0.3*c.rng.NormFloat64()), minIndoorRH, maxIndoorRH)
	if c.temp {
		c.pending = append(c.pending, sensors.Reading{Kind: sensors.Temperature, Value: t, Time: c.at})
	}
	if c.hum {
		c.pending = append(c.pending, sensors.Reading{Kind: sensors.Humidity, Value: h, Time: c.at})
	}
}

func (c *climate) head() sensors.Reading { return c.pending[0] }

func (c *climate) advance() {
	c.pending = c.pending[1:]
	if len(c.pending) == 0 {
		c.at = c.at.Add(c.interval)
		c.measure(c.interval)
	}
}

// battery is a coin cell draining over about two years, reported every BatteryEvery
// in whole percent, never rising.
type battery struct {
	at      time.Time
	start   time.Time
	full    float64 // percent at start
	perHour float64 // percent drained per hour
}

func newBattery(cfg GeneratorConfig, r *rand.Rand) *battery {
	lifeDays := 600 + 250*r.Float64()
	return &battery{at: cfg.Start, start: cfg.Start, full: 60 + 40*r.Float64(), perHour: 100 / (lifeDays * 24)}
}

func (b *battery) head() sensors.Reading {
	left := b.full - b.at.Sub(b.start).Hours()*b.perHour
	return sensors.Reading{Kind: sensors.Battery, Value: clamp(math.Floor(left), 0, 100), Time: b.at}
}

func (b *battery) advance() { b.at = b.at.Add(BatteryEvery) }
