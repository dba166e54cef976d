package fleet

import (
	"errors"
	"fmt"
)

// Rule is how one metric is judged.
type Rule struct {
	// Min is the least count that can be anomalous by comparison: below it a day is
	// never flagged, however unusual for the device. 0 disables the comparison.
	Min int64 `json:"min"`
	// Z is the robust z-score a count must exceed against both baselines.
	Z float64 `json:"z"`
	// MADFloor is the least MAD a baseline is scored with, so that a device with days
	// of identical counts (MAD 0) does not score infinitely on a slightly larger one.
	// In counts: with Z 5, a floor f needs a count 7.4·f above the median.
	MADFloor float64 `json:"mad_floor"`
	// Alone is the count that is anomalous on its own, whatever the baselines say (a
	// tampered device). 0: never on its own.
	Alone int64 `json:"alone"`
}

// Thresholds is the detector's configuration, kept as data.
type Thresholds struct {
	Rules [NumMetrics]Rule `json:"rules"`
	// HistoryDays is how many days before the scored day make a device's baseline.
	HistoryDays int `json:"history_days"`
	// MinHistory is the least number of active history days a device needs for its
	// own baseline; a newer device is judged by the fleet baseline and Min alone.
	MinHistory int `json:"min_history"`
	// A campaign is flagged for a metric and day when at least CampaignDevices devices,
	// or at least CampaignMinDevices devices that are more than CampaignFraction of
	// the active devices, are anomalous in it.
	CampaignDevices    int     `json:"campaign_devices"`
	CampaignMinDevices int     `json:"campaign_min_devices"`
	CampaignFraction   float64 `json:"campaign_fraction"`
}

// DefaultThresholds returns the thresholds Hearth ships with:
//
//	metric               min   z   MAD floor  alone   why
//	login_failed          20   5   1            -     an owner mistypes a few times a day; 20 is guessing
//	account_locked         3   5   0.25         -     a lockout needs 5 failures; 3 a day is an attack
//	update_refused         -   -   -            3     a burst of refused updates: tampering or a hostile network
//	integrity_violation    -   -   -            1     any altered firmware or state is a tampered device
//	sensor_reconnects     50   5   1            -     flapping sensors: jamming or a rogue broker client
//
// with 14 days of history (at least 3 active), and a campaign at 10
// devices, or at 3 devices that are more than 1% of the active ones.
func DefaultThresholds() Thresholds {
	var t Thresholds
	t.Rules[LoginFailed] = Rule{Min: 20, Z: 5, MADFloor: 1}
	t.Rules[AccountLocked] = Rule{Min: 3, Z: 5, MADFloor: 0.25}
	t.Rules[UpdateRefused] = Rule{Alone: 3}
	t.Rules[IntegrityViolation] = Rule{Alone: 1}
	t.Rules[SensorReconnects] = Rule{Min: 50, Z: 5, MADFloor: 1}
	t.HistoryDays = 14
	t.MinHistory = 3
	t.CampaignDevices = 10
	t.CampaignMinDevices = 3
	t.CampaignFraction = 0.01
	return t
}

// Validate reports thresholds that would flag everything or divide by zero.
func (t Thresholds) Validate() error {
	for m, r := range t.Rules {
		if r.Min < 0 || r.Alone < 0 || (r.Min > 0 && !(r.Z > 0 && r.MADFloor > 0)) {
			return fmt.Errorf("rule for %s: min and alone must not be negative, z and mad_floor must be positive with min", Metric(m))
		}
	}
	switch {
	case t.HistoryDays < 1 || t.HistoryDays > 366:
		return errors.New("history_days must be 1 to 366")
	case t.MinHistory < 1 || t.MinHistory > t.HistoryDays:
		return errors.New("min_history must be 1 to history_days")
	case t.CampaignDevices < 1 || t.CampaignMinDevices < 1:
		return errors.New("campaign device counts must be positive")
	case !(t.CampaignFraction > 0 && t.CampaignFraction <= 1):
		return errors.New("campaign_fraction must be in (0, 1]")
	}
	return nil
}
