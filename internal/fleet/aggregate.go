package fleet

import (
	"time"
)

// Day is a UTC calendar day, counted from 1970-01-01.
type Day int32

// DayOf returns the UTC day of t.
func DayOf(t time.Time) Day {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return Day(d)
}

// ParseDay reads YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, err
	}
	return DayOf(t), nil
}

// Time returns the day's first instant.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String returns the day as YYYY-MM-DD.
func (d Day) String() string { return d.Time().Format(time.DateOnly) }

// Kinds of stored documents the aggregator reads (privacy.KindTelemetry and
// privacy.KindSecurityEvent).
const (
	KindSummary = "telemetry"
	KindEvent   = "security_event"
)

// Doc is one stored document of a device: its kind, the time the device gave it, when
// the vendor received it, and the document.
type Doc struct {
	Kind     string
	Time     string
	Received time.Time
	Doc      []byte
}

// dayAcc is what one day of a device's documents added up to.
type dayAcc struct {
	summary  Counts // sum of the summaries' counts
	events   Counts // security events counted by kind
	reported bool   // a summary with counts arrived
}

// Aggregator adds up one device's documents per UTC day, within [From, To].
//
// A day's count for a metric is the larger of the summaries' sum and the number of
// matching security events: a gateway that sends counts also sends (some of) the
// events, so adding them would count twice, while taking the larger survives summaries
// missing for some hours (an update during the day) or events dropped by a full outbox.
type Aggregator struct {
	From, To Day
	days     map[Day]*dayAcc
}

// NewAggregator returns an aggregator for the days from..to.
func NewAggregator(from, to Day) *Aggregator {
	return &Aggregator{From: from, To: to, days: map[Day]*dayAcc{}}
}

// Add counts one document. Its day is the device's time for it (the event's own time
// for an event) unless that time is missing or more than an hour after the vendor
// received it, when the receipt time is used. Documents of other kinds or outside the
// days still mark the device active on their day.
func (a *Aggregator) Add(d Doc) {
	at, err := time.Parse(time.RFC3339Nano, d.Time)
	var kind string
	var evAt time.Time
	var isEvent bool
	if d.Kind == KindEvent {
		kind, evAt, isEvent = ParseEvent(d.Doc)
		if isEvent && !evAt.IsZero() {
			at, err = evAt, nil
		}
	}
	if err != nil || (!d.Received.IsZero() && at.After(d.Received.Add(time.Hour))) {
		at = d.Received
	}
	day := DayOf(at)
	if day < a.From || day > a.To {
		return
	}
	acc := a.days[day]
	if acc == nil {
		acc = &dayAcc{}
		a.days[day] = acc
	}
	switch {
	case d.Kind == KindSummary:
		if c, ok := ParseSummaryCounts(d.Doc); ok {
			acc.reported = true
			for i := range c {
				acc.summary[i] = min(acc.summary[i]+c[i], maxCount)
			}
		}
	case isEvent:
		if m, ok := EventMetric(kind); ok {
			acc.events[m]++
		}
	}
}

// Days returns the device's counts per active day (a day with any document).
func (a *Aggregator) Days() map[Day]Counts {
	out := make(map[Day]Counts, len(a.days))
	for d, acc := range a.days {
		var c Counts
		for i := range c {
			c[i] = max(acc.summary[i], acc.events[i])
		}
		out[d] = c
	}
	return out
}
