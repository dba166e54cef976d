package fleet

import (
	"fmt"
	"math"
	"slices"
)

// DayCounts is a device's counts on one day it was active.
type DayCounts struct {
	Day    Day
	Counts Counts
}

// Device is one device's (one pseudonymous stream's) active days, in increasing order
// of Day.
type Device struct {
	ID   string
	Days []DayCounts
}

// on returns the device's counts on day d.
func (d *Device) on(day Day) (Counts, bool) {
	i, ok := slices.BinarySearchFunc(d.Days, day, func(dc DayCounts, t Day) int { return int(dc.Day - t) })
	if !ok {
		return Counts{}, false
	}
	return d.Days[i].Counts, true
}

// history returns the device's counts for metric m on its active days in
// [day-n, day-1], appended to buf.
func (d *Device) history(day Day, n int, m Metric, buf []int64) []int64 {
	lo, _ := slices.BinarySearchFunc(d.Days, day-Day(n), func(dc DayCounts, t Day) int { return int(dc.Day - t) })
	for _, dc := range d.Days[lo:] {
		if dc.Day >= day {
			break
		}
		buf = append(buf, dc.Counts[m])
	}
	return buf
}

// Types of anomaly.
const (
	TypeDevice   = "device"   // one device's count is far above its own and the fleet's
	TypeTamper   = "tamper"   // one device reported what is anomalous on its own
	TypeCampaign = "campaign" // many devices are anomalous in the same metric on the same day
)

// Anomaly is one finding.
type Anomaly struct {
	ID     string `json:"id"` // stable: day/metric/type[/device]
	Type   string `json:"type"`
	Day    string `json:"day"`
	Metric Metric `json:"metric"`
	// Device is the stream of a device or tamper finding; empty for a campaign.
	Device string `json:"device,omitempty"`
	// Value is the device's count, or the flagged devices' total for a campaign.
	Value int64 `json:"value"`
	// Devices is how many devices a campaign covers, Active how many were active.
	Devices int `json:"devices,omitempty"`
	Active  int `json:"active"`
	// DeviceBaseline is nil when the device had too little history.
	DeviceBaseline *Baseline `json:"device_baseline,omitempty"`
	FleetBaseline  Baseline  `json:"fleet_baseline"`
	// Score is the smaller of the two robust z-scores (a device finding).
	Score  float64 `json:"score,omitempty"`
	Reason string  `json:"reason"`
}

// Detect scores day for every device active on it (a device with an entry for the
// day) and returns its anomalies: device and tamper findings in the order of devices,
// then campaigns in the order of metrics. The thresholds must be valid.
//
// TS-0045 5.8.1.2: a device's day is anomalous in a metric when its count reaches the
// metric's minimum and its robust z-score exceeds the threshold against both its own
// previous days and the whole fleet that day (the fleet alone for a device with too
// little history; its own days alone when the fleet's median reaches the minimum, as in
// a campaign against most of the fleet); integrity violations and refused-update bursts
// are anomalous on their own; many anomalous devices make a campaign.
func Detect(devices []Device, day Day, t Thresholds) []Anomaly {
	active, fleet := fleetBaselines(devices, day)
	var out []Anomaly
	var flagged [NumMetrics]int
	var total [NumMetrics]int64
	var buf []int64
	for i := range devices {
		d := &devices[i]
		c, ok := d.on(day)
		if !ok {
			continue
		}
		for m := range NumMetrics {
			a, hit := judge(d, day, m, c[m], t, fleet[m], &buf)
			if !hit {
				continue
			}
			a.Active = active
			out = append(out, a)
			flagged[m]++
			total[m] += c[m]
		}
	}
	for m := range NumMetrics {
		n := flagged[m]
		if n >= t.CampaignDevices || (n >= t.CampaignMinDevices && float64(n) > t.CampaignFraction*float64(active)) {
			out = append(out, Anomaly{ID: fmt.Sprintf("%s/%s/%s", day, m, TypeCampaign), Type: TypeCampaign, Day: day.String(),
				Metric: m, Value: total[m], Devices: n, Active: active, FleetBaseline: fleet[m],
				Reason: fmt.Sprintf("%d of %d active devices anomalous in %s", n, active, m)})
		}
	}
	return out
}

// fleetBaselines returns how many devices were active on day and each metric's
// baseline across them.
func fleetBaselines(devices []Device, day Day) (int, [NumMetrics]Baseline) {
	var vals [NumMetrics][]int64
	active := 0
	for i := range devices {
		c, ok := devices[i].on(day)
		if !ok {
			continue
		}
		active++
		for m := range NumMetrics {
			vals[m] = append(vals[m], c[m])
		}
	}
	var b [NumMetrics]Baseline
	for m := range NumMetrics {
		b[m] = baselineOf(vals[m])
	}
	return active, b
}

// judge decides one device's count x for metric m.
func judge(d *Device, day Day, m Metric, x int64, t Thresholds, fleet Baseline, buf *[]int64) (Anomaly, bool) {
	r := t.Rules[m]
	var a Anomaly
	switch {
	case r.Alone > 0 && x >= r.Alone:
		a.Type, a.Reason = TypeTamper, fmt.Sprintf("%d %s in a day (anomalous from %d on)", x, m, r.Alone)
	case r.Min > 0 && x >= r.Min:
		// When the fleet's median itself reaches the minimum, more than half of the
		// active devices are affected: the fleet baseline is contaminated and the
		// device's own baseline decides alone.
		zf := fleet.CountZ(x, r.MADFloor)
		contaminated := fleet.Median >= float64(r.Min)
		if !(zf > r.Z) && !contaminated {
			return a, false
		}
		*buf = d.history(day, t.HistoryDays, m, (*buf)[:0])
		score := zf
		why := "too little history for its own baseline"
		if len(*buf) >= t.MinHistory {
			own := baselineOf(*buf)
			zd := own.CountZ(x, r.MADFloor)
			if !(zd > r.Z) {
				return a, false
			}
			a.DeviceBaseline = &own
			score = math.Min(zd, zf)
			why = fmt.Sprintf("z %.1f against its last %d days", zd, own.N)
		}
		if contaminated && a.DeviceBaseline == nil {
			return a, false
		}
		a.Type, a.Score = TypeDevice, score
		a.Reason = fmt.Sprintf("%d %s: z %.1f against the fleet, %s", x, m, zf, why)
		if contaminated {
			a.Score = a.DeviceBaseline.CountZ(x, r.MADFloor)
			a.Reason = fmt.Sprintf("%d %s: the fleet's median is %.0f, %s", x, m, fleet.Median, why)
		}
	default:
		return a, false
	}
	a.ID = fmt.Sprintf("%s/%s/%s/%s", day, m, a.Type, d.ID)
	a.Day, a.Metric, a.Device, a.Value, a.FleetBaseline = day.String(), m, d.ID, x, fleet
	return a, true
}
