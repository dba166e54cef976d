package sim

import (
	"math/rand/v2"
	"time"

	"hearth/internal/sensors"
)

// Occupancy profiles: how many events an hour a household causes at each hour of the
// day. Quiet at night, busy in the morning and evening, quieter while people are out.
var (
	motionPerHour = [24]float64{
		0.3, 0.3, 0.3, 0.3, 0.3, 1, // night
		12, 30, 30, // getting up
		6, 6, 6, 12, 12, 6, 6, 6, // day, lunch
		30, 40, 40, 40, 30, // evening
		12, 4, // going to bed
	}
	doorPerHour = [24]float64{
		0.05, 0.05, 0.05, 0.05, 0.05, 0.1,
		2, 4, 3,
		1, 1, 1, 1.5, 1.5, 1, 1, 1,
		3, 3, 2, 1.5, 1,
		0.5, 0.2,
	}
)

// poisson is an inhomogeneous Poisson process with the rate of profile (events an
// hour at each hour of the day, scaled by the household), sampled by thinning: draw
// candidates at the peak rate and keep each with probability rate/peak.
type poisson struct {
	rng     *rand.Rand
	loc     *time.Location
	profile *[24]float64
	scale   float64
	peak    float64 // events an hour
}

func newPoisson(r *rand.Rand, loc *time.Location, profile *[24]float64) poisson {
	p := poisson{rng: r, loc: loc, profile: profile, scale: 0.7 + 0.6*r.Float64()}
	for _, v := range profile {
		p.peak = max(p.peak, v*p.scale)
	}
	return p
}

// next is the first event after t.
func (p *poisson) next(t time.Time) time.Time {
	for {
		t = t.Add(time.Duration(p.rng.ExpFloat64() / p.peak * float64(time.Hour)))
		if p.rng.Float64()*p.peak < p.profile[int(hourOf(t, p.loc))]*p.scale {
			return t.Truncate(time.Millisecond)
		}
	}
}

// motion reports movement (value 1) when the detector triggers; it does not trigger
// again within its blind time (the interval).
type motion struct {
	p     poisson
	blind time.Duration
	at    time.Time
}

func newMotion(cfg GeneratorConfig, r *rand.Rand) *motion {
	m := &motion{p: newPoisson(r, cfg.Location, &motionPerHour), blind: cfg.Interval}
	m.at = m.p.next(cfg.Start)
	return m
}

func (m *motion) head() sensors.Reading {
	return sensors.Reading{Kind: sensors.Motion, Value: 1, Time: m.at}
}

func (m *motion) advance() { m.at = m.p.next(m.at.Add(m.blind)) }

// door reports a door opening (1) and, some seconds later, closing (0). It sees no
// new opening within the interval after a close.
type door struct {
	p        poisson
	rng      *rand.Rand
	interval time.Duration
	at       time.Time
	open     bool // whether the head is the opening
}

// maxOpen bounds how long a door stays open.
const maxOpen = 10 * time.Minute

func newDoor(cfg GeneratorConfig, r *rand.Rand) *door {
	d := &door{p: newPoisson(r, cfg.Location, &doorPerHour), rng: r, interval: cfg.Interval, open: true}
	d.at = d.p.next(cfg.Start)
	return d
}

func (d *door) head() sensors.Reading {
	v := 0.0
	if d.open {
		v = 1
	}
	return sensors.Reading{Kind: sensors.Door, Value: v, Time: d.at}
}

func (d *door) advance() {
	if d.open {
		// Most doors are walked through in seconds; some are left open a while.
		held := d.interval + time.Duration(d.rng.ExpFloat64()*float64(15*time.Second))
		d.at = d.at.Add(min(held, maxOpen)).Truncate(time.Millisecond)
	} else {
		d.at = d.p.next(d.at.Add(d.interval))
	}
	d.open = !d.open
}
