// Package fleettest simulates a fleet's daily telemetry for the detector's tests and
// benchmarks: normal days with realistic noise, and injected attacks. It is
// deterministic for a seed.
package fleettest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"hearth/internal/fleet"
)

// Config describes a simulated fleet.
type Config struct {
	Devices int
	Days    int
	Start   fleet.Day // first day; zero is 1970-01-01
	Seed    uint64
	// Absent is the chance a device sends nothing on a day (switched off, offline).
	Absent float64
}

// Normal returns a fleet without attacks: per device a login-failure rate of 0.1 to
// 1.2 a day (owners mistyping), Poisson-distributed, with a rare bad day of 4 to 12; a
// lockout on one day in 500; a refused update on one day in 1,000; a few sensor
// reconnects a day with an outage of 10 to 30 on one day in 100.
func Normal(cfg Config) []fleet.Device {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x48656172746821))
	devs := make([]fleet.Device, cfg.Devices)
	for i := range devs {
		devs[i].ID = fmt.Sprintf("%032x", uint64(i)+cfg.Seed<<40)
		login := 0.1 + 1.1*rng.Float64()
		reconnect := 2 * rng.Float64()
		days := make([]fleet.DayCounts, 0, cfg.Days)
		for d := range cfg.Days {
			if rng.Float64() < cfg.Absent {
				continue
			}
			var c fleet.Counts
			c[fleet.LoginFailed] = poisson(rng, login)
			if rng.Float64() < 0.005 {
				c[fleet.LoginFailed] += 4 + rng.Int64N(9)
			}
			if rng.Float64() < 0.002 {
				c[fleet.AccountLocked] = 1
			}
			if rng.Float64() < 0.001 {
				c[fleet.UpdateRefused] = 1
			}
			c[fleet.SensorReconnects] = poisson(rng, reconnect)
			if rng.Float64() < 0.01 {
				c[fleet.SensorReconnects] += 10 + rng.Int64N(21)
			}
			days = append(days, fleet.DayCounts{Day: cfg.Start + fleet.Day(d), Counts: c})
		}
		devs[i].Days = days
	}
	return devs
}

// poisson draws from a Poisson distribution of mean l (Knuth; l is small).
func poisson(rng *rand.Rand, l float64) int64 {
	limit, p := math.Exp(-l), 1.0
	var k int64
	for {
		p *= rng.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

// BruteForce makes a password-guessing campaign on day against a fraction of the
// devices active that day: 200 to 2,000 failed logins each and a lockout for every 100
// of them (at least 3). It returns the devices it attacked.
func BruteForce(devs []fleet.Device, day fleet.Day, fraction float64, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 0x6272757465))
	var hit []string
	for i := range devs {
		c := counts(&devs[i], day)
		if c == nil || rng.Float64() >= fraction {
			continue
		}
		n := 200 + rng.Int64N(1801)
		c[fleet.LoginFailed] += n
		c[fleet.AccountLocked] += max(3, n/100)
		hit = append(hit, devs[i].ID)
	}
	return hit
}

// Tamper makes dev report integrity violations and refused updates on day, as a device
// whose firmware was altered does. It reports whether dev was active that day.
func Tamper(dev *fleet.Device, day fleet.Day) bool {
	c := counts(dev, day)
	if c == nil {
		return false
	}
	c[fleet.IntegrityViolation] += 2
	c[fleet.UpdateRefused] += 4
	return true
}

func counts(dev *fleet.Device, day fleet.Day) *fleet.Counts {
	for j := range dev.Days {
		if dev.Days[j].Day == day {
			return &dev.Days[j].Counts
		}
	}
	return nil
}
