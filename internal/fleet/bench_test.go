package fleet_test

import (
	"testing"

	"hearth/internal/fleet"
	"hearth/internal/fleet/fleettest"
)

// BenchmarkDetect scores one day of 100,000 devices against their previous 14 days.
func BenchmarkDetect(b *testing.B) {
	devs := fleettest.Normal(fleettest.Config{Devices: 100_000, Days: 15, Start: start, Seed: 1, Absent: 0.03})
	fleettest.BruteForce(devs, start+14, 0.05, 1)
	th := fleet.DefaultThresholds()
	b.ReportAllocs()
	for b.Loop() {
		if len(fleet.Detect(devs, start+14, th)) == 0 {
			b.Fatal("the campaign was missed")
		}
	}
}
