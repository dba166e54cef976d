package fleet_test

import (
	"fmt"
	"slices"
	"testing"

	"hearth/internal/fleet"
	"hearth/internal/fleet/fleettest"
)

var start = fleet.Day(20500) // 2026-02-15

// byType groups anomalies by type, each as a set of "metric device".
func byType(as []fleet.Anomaly) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, a := range as {
		if out[a.Type] == nil {
			out[a.Type] = map[string]bool{}
		}
		out[a.Type][a.Metric.String()+" "+a.Device] = true
	}
	return out
}

// TS-0045 5.8.1.2: a normal fleet of 1,000 devices raises no anomaly on any of its 30
// days, for several seeds (the false-positive test).
func TestNormalFleetNoAnomaly(t *testing.T) {
	th := fleet.DefaultThresholds()
	for _, seed := range []uint64{1, 2, 3, 42, 2026} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			devs := fleettest.Normal(fleettest.Config{Devices: 1000, Days: 30, Start: start, Seed: seed, Absent: 0.03})
			for d := range 30 {
				if as := fleet.Detect(devs, start+fleet.Day(d), th); len(as) != 0 {
					t.Fatalf("day %d: %d anomalies, first %+v", d, len(as), as[0])
				}
			}
		})
	}
}

// TS-0045 5.8.1.2: a brute-force campaign against 5% of the fleet on one day flags
// every attacked device in login failures and lockouts, and one campaign per metric;
// nothing else is flagged, and the day before is quiet.
func TestBruteForceCampaign(t *testing.T) {
	devs := fleettest.Normal(fleettest.Config{Devices: 1000, Days: 20, Start: start, Seed: 7, Absent: 0.03})
	day := start + 18
	hit := fleettest.BruteForce(devs, day, 0.05, 7)
	if len(hit) < 30 {
		t.Fatalf("only %d devices attacked", len(hit))
	}
	as := fleet.Detect(devs, day, fleet.DefaultThresholds())
	got := byType(as)
	for _, id := range hit {
		for _, m := range []string{"login_failed", "account_locked"} {
			if !got[fleet.TypeDevice][m+" "+id] {
				t.Errorf("attacked device %s not flagged in %s", id, m)
			}
		}
	}
	if n := len(got[fleet.TypeDevice]); n != 2*len(hit) {
		t.Errorf("%d device findings, want %d", n, 2*len(hit))
	}
	if len(got[fleet.TypeTamper]) != 0 {
		t.Errorf("tamper findings: %v", got[fleet.TypeTamper])
	}
	want := map[string]bool{"login_failed ": true, "account_locked ": true}
	if fmt.Sprint(got[fleet.TypeCampaign]) != fmt.Sprint(want) {
		t.Errorf("campaigns %v, want %v", got[fleet.TypeCampaign], want)
	}
	for _, a := range as {
		if a.Type == fleet.TypeCampaign && a.Devices != len(hit) {
			t.Errorf("campaign %s covers %d devices, want %d", a.ID, a.Devices, len(hit))
		}
	}
	if as := fleet.Detect(devs, day-1, fleet.DefaultThresholds()); len(as) != 0 {
		t.Errorf("day before: %v", as)
	}
}

// TS-0045 5.8.1.2: one device reporting integrity violations and refused updates is
// flagged as tampered on its own, without a campaign.
func TestTamperedDevice(t *testing.T) {
	devs := fleettest.Normal(fleettest.Config{Devices: 500, Days: 15, Start: start, Seed: 9})
	day := start + 14
	if !fleettest.Tamper(&devs[123], day) {
		t.Fatal("device not active")
	}
	as := fleet.Detect(devs, day, fleet.DefaultThresholds())
	var got []string
	for _, a := range as {
		got = append(got, a.Type+" "+a.Metric.String()+" "+a.Device)
	}
	id := devs[123].ID
	want := []string{"tamper update_refused " + id, "tamper integrity_violation " + id}
	if !slices.Equal(got, want) {
		t.Fatalf("anomalies %v, want %v", got, want)
	}
}

func dev(id string, first fleet.Day, logins ...int64) fleet.Device {
	d := fleet.Device{ID: id}
	for i, n := range logins {
		var c fleet.Counts
		c[fleet.LoginFailed] = n
		d.Days = append(d.Days, fleet.DayCounts{Day: first + fleet.Day(i), Counts: c})
	}
	return d
}

// TS-0045 5.8.1.2: the rules one at a time: the absolute minimum, the device's own
// baseline, the fleet's baseline, a new device, the campaign thresholds.
func TestDetectRules(t *testing.T) {
	quiet := func(n int) []fleet.Device {
		var ds []fleet.Device
		for i := range n {
			ds = append(ds, dev(fmt.Sprintf("q%03d", i), start, 1, 0, 2, 1, 0, 1, 1))
		}
		return ds
	}
	day := start + 6
	for name, tc := range map[string]struct {
		devs []fleet.Device
		want string
	}{
		"below the minimum": {append(quiet(20), dev("x", start, 0, 0, 0, 0, 0, 0, 19)), "[]"},
		"at the minimum":    {append(quiet(20), dev("x", start, 0, 0, 0, 0, 0, 0, 20)), "[device login_failed x]"},
		"usual for the device": {append(quiet(20), dev("x", start, 40, 35, 50, 45, 38, 42, 60)),
			"[]"},
		"new device, fleet only": {append(quiet(20), dev("x", day, 500)), "[device login_failed x]"},
		"fleet steadily high":    {fleetOf(20, 300), "[]"},
		"most of the fleet attacked": {append(attackedOf(12), quiet(8)...),
			"[device login_failed a0 device login_failed a1 device login_failed a2 device login_failed a3 device login_failed a4 device login_failed a5 device login_failed a6 device login_failed a7 device login_failed a8 device login_failed a9 device login_failed a10 device login_failed a11 campaign login_failed ]"},
		"three of 200 is a campaign": {append(quiet(197), dev("a", start, 0, 0, 0, 0, 0, 0, 90), dev("b", start, 0, 0, 0, 0, 0, 0, 90), dev("c", start, 0, 0, 0, 0, 0, 0, 90)),
			"[device login_failed a device login_failed b device login_failed c campaign login_failed ]"},
		"three of 400 is not": {append(quiet(397), dev("a", start, 0, 0, 0, 0, 0, 0, 90), dev("b", start, 0, 0, 0, 0, 0, 0, 90), dev("c", start, 0, 0, 0, 0, 0, 0, 90)),
			"[device login_failed a device login_failed b device login_failed c]"},
	} {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, a := range fleet.Detect(tc.devs, day, fleet.DefaultThresholds()) {
				got = append(got, a.Type+" "+a.Metric.String()+" "+a.Device)
			}
			if fmt.Sprint(got) != tc.want && !(len(got) == 0 && tc.want == "[]") {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
}

func attackedOf(n int) []fleet.Device {
	var ds []fleet.Device
	for i := range n {
		ds = append(ds, dev(fmt.Sprintf("a%d", i), start, 1, 0, 2, 1, 0, 1, 400+int64(i)))
	}
	return ds
}

func fleetOf(n int, logins int64) []fleet.Device {
	var ds []fleet.Device
	for i := range n {
		ds = append(ds, dev(fmt.Sprint(i), start, logins, logins, logins, logins, logins, logins, logins+int64(i)))
	}
	return ds
}

func TestThresholdsValidate(t *testing.T) {
	if err := fleet.DefaultThresholds().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*fleet.Thresholds){
		"zero floor":      func(t *fleet.Thresholds) { t.Rules[fleet.LoginFailed].MADFloor = 0 },
		"no history":      func(t *fleet.Thresholds) { t.HistoryDays = 0 },
		"min history big": func(t *fleet.Thresholds) { t.MinHistory = t.HistoryDays + 1 },
		"zero z":          func(t *fleet.Thresholds) { t.Rules[fleet.LoginFailed].Z = 0 },
		"negative min":    func(t *fleet.Thresholds) { t.Rules[fleet.AccountLocked].Min = -1 },
		"fraction":        func(t *fleet.Thresholds) { t.CampaignFraction = 0 },
		"campaign":        func(t *fleet.Thresholds) { t.CampaignDevices = 0 },
	} {
		th := fleet.DefaultThresholds()
		mut(&th)
		if th.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
