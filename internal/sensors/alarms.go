package sensors

import (
	"context"
	"strconv"
	"sync"
	"time"

	"hearth/internal/events"
)

// alarms publishes the broker's refusals as security events without letting a flood of
// them (a scanner, a misconfigured sensor retrying) flood the event log: per kind and
// source, the first refusal is published at once and later ones within alarmWindow are
// counted and reported with the next published one.
//
// TS-0045 5.4.2.4: attempts to reach the gateway without authentication are recorded.
type alarms struct {
	pub events.Publisher
	now func() time.Time
	mu  sync.Mutex
	// last holds, per kind and source, when an event was last published and how many
	// were suppressed since.
	last map[alarmKey]*alarmState
}

type alarmKey struct {
	kind   events.Kind
	source string
}

type alarmState struct {
	at         time.Time
	suppressed int
}

const (
	alarmWindow = time.Minute
	// maxAlarmSources bounds the table; beyond it the oldest entries are forgotten.
	maxAlarmSources = 4096
)

func newAlarms(pub events.Publisher, now func() time.Time) *alarms {
	return &alarms{pub: pub, now: now, last: map[alarmKey]*alarmState{}}
}

// raise publishes or counts one refusal. source is the remote host; detail and args
// describe this occurrence.
func (a *alarms) raise(kind events.Kind, sev events.Severity, remote, detail string, args ...string) {
	now := a.now()
	key := alarmKey{kind, host(remote)}
	a.mu.Lock()
	st, ok := a.last[key]
	if ok && now.Sub(st.at) < alarmWindow && now.Sub(st.at) >= 0 {
		st.suppressed++
		a.mu.Unlock()
		return
	}
	suppressed := 0
	if ok {
		suppressed = st.suppressed
	}
	if !ok && len(a.last) >= maxAlarmSources {
		a.evict(now)
	}
	a.last[key] = &alarmState{at: now}
	a.mu.Unlock()
	if suppressed > 0 {
		detail += " (and " + strconv.Itoa(suppressed) + " more in the previous minute)"
	}
	a.pub.Publish(context.Background(), events.Event{Time: now.UTC(), Kind: kind, Severity: sev, Remote: remote, Detail: detail, Args: args})
}

// evict forgets entries older than the window, or all of them if none is.
func (a *alarms) evict(now time.Time) {
	for k, st := range a.last {
		if now.Sub(st.at) >= alarmWindow {
			delete(a.last, k)
		}
	}
	if len(a.last) >= maxAlarmSources {
		clear(a.last)
	}
}

func host(remote string) string {
	for i := len(remote) - 1; i >= 0; i-- {
		if remote[i] == ':' {
			return remote[:i]
		}
	}
	return remote
}
