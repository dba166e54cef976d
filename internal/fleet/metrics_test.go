package fleet

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestParseSummaryCounts(t *testing.T) {
	for name, tc := range map[string]struct {
		doc  string
		want string
		ok   bool
	}{
		"full": {`{"firmware":"1.2.0","sensors":{"a/paired":1},"counts":{"login_failed":3,"account_locked":1,"update_refused":2,"integrity_violation":4,"sensor_reconnects":5}}`,
			"[3 1 2 4 5]", true},
		"missing and unknown keys": {`{"counts":{"login_failed":7,"shell":9}}`, "[7 0 0 0 0]", true},
		"empty counts":             {`{"counts":{}}`, "[0 0 0 0 0]", true},
		"no counts (old gateway)":  {`{"firmware":"1.1.0","sensors":{}}`, "[0 0 0 0 0]", false},
		"counts null":              {`{"counts":null}`, "[0 0 0 0 0]", false},
		"bad values ignored":       {`{"counts":{"login_failed":-1,"account_locked":1.5,"update_refused":"3","integrity_violation":1e300,"sensor_reconnects":2}}`, "[0 0 0 0 2]", true},
		"too large ignored":        {`{"counts":{"login_failed":1099511627776}}`, "[0 0 0 0 0]", true},
		"not an object":            {`[1]`, "[0 0 0 0 0]", false},
		"truncated":                {`{"counts":{"login_failed":3`, "[0 0 0 0 0]", false},
	} {
		t.Run(name, func(t *testing.T) {
			c, ok := ParseSummaryCounts([]byte(tc.doc))
			if fmt.Sprint(c) != tc.want || ok != tc.ok {
				t.Fatalf("got %v %v, want %s %v", c, ok, tc.want, tc.ok)
			}
		})
	}
}

// TS-0045 5.8.1.2: a day's count is the larger of the summaries' sum and the matching
// security events, never both added; events fall back when summaries carry no counts;
// a time far in the future is replaced by the receipt time.
func TestAggregator(t *testing.T) {
	recv := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	day := DayOf(recv)
	a := NewAggregator(day-1, day)
	ev := func(kind, at string) Doc {
		return Doc{Kind: KindEvent, Time: at, Received: recv, Doc: fmt.Appendf(nil, `{"kind":%q,"severity":"warning","time":%q}`, kind, at)}
	}
	sum := func(at, counts string) Doc {
		return Doc{Kind: KindSummary, Time: at, Received: recv, Doc: []byte(`{"firmware":"1.2.0","counts":` + counts + `}`)}
	}
	for _, d := range []Doc{
		// Day before: events only (an older gateway), one of them an integrity finding.
		ev("login.failed", "2026-03-01T08:00:00Z"), ev("login.failed", "2026-03-01T08:01:00Z"),
		ev("account.locked", "2026-03-01T08:01:00Z"), ev("integrity.slot_altered", "2026-03-01T09:00:00Z"),
		ev("sensor.connect_refused", "2026-03-01T09:00:00Z"),
		{Kind: KindSummary, Time: "2026-03-01T10:00:00Z", Received: recv, Doc: []byte(`{"firmware":"1.1.0"}`)},
		// Day: two summaries with counts and some of their events.
		sum("2026-03-02T01:00:00Z", `{"login_failed":30,"update_refused":1}`),
		sum("2026-03-02T02:00:00Z", `{"login_failed":25}`),
		ev("login.failed", "2026-03-02T01:10:00Z"), ev("update.failed", "2026-03-02T01:20:00Z"),
		ev("update.failed", "2026-03-02T03:20:00Z"),
		// A summary claiming to come from next week counts on the receipt day.
		sum("2026-03-09T02:00:00Z", `{"sensor_reconnects":4}`),
		// Outside the window.
		ev("login.failed", "2026-02-20T00:00:00Z"),
	} {
		a.Add(d)
	}
	got := fmt.Sprint(a.Days())
	want := "map[2026-03-01:[2 1 0 1 0] 2026-03-02:[55 0 2 0 4]]"
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestDays(t *testing.T) {
	for _, s := range []string{"1970-01-01", "2026-03-01", "1969-12-31", "2100-02-28"} {
		d, err := ParseDay(s)
		if err != nil || d.String() != s {
			t.Fatalf("%s: %v %v", s, d, err)
		}
	}
	if DayOf(time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)) != -1 {
		t.Fatal("days before 1970 round down")
	}
	if _, err := ParseDay("2026-3-1"); err == nil {
		t.Fatal("accepted a malformed day")
	}
}

func TestBaseline(t *testing.T) {
	for _, tc := range []struct {
		vs       []int64
		med, mad float64
	}{
		{[]int64{1, 2, 3, 4, 100}, 3, 1},
		{[]int64{0, 0, 0, 0}, 0, 0},
		{[]int64{1, 2}, 1.5, 0.5},
		{[]int64{5}, 5, 0},
	} {
		b := baselineOf(append([]int64(nil), tc.vs...))
		if b.Median != tc.med || b.MAD != tc.mad || b.N != len(tc.vs) {
			t.Errorf("%v: got %+v, want median %v MAD %v", tc.vs, b, tc.med, tc.mad)
		}
	}
	b := Baseline{Median: 1, MAD: 0}
	if z := b.Z(21, 1); math.Abs(z-13.49) > 0.001 {
		t.Errorf("z with floor = %v", z)
	}
	if z := (Baseline{Median: 400}).CountZ(440, 1); math.Abs(z-2) > 0.001 {
		t.Errorf("count z at a high median = %v, want 2 (Poisson spread)", z)
	}
	if z := b.Z(21, 0); !math.IsInf(z, 1) {
		t.Errorf("z without floor = %v", z)
	}
}

// FuzzParseDocs: stored documents come from devices; the parsers and the aggregator
// take any bytes without panicking, and counts stay in range.
func FuzzParseDocs(f *testing.F) {
	for _, s := range []string{
		`{"firmware":"1.2.0","sensors":{},"counts":{"login_failed":3,"account_locked":1,"update_refused":0,"integrity_violation":0,"sensor_reconnects":2}}`,
		`{"kind":"login.failed","severity":"warning","time":"2026-03-01T12:34:00Z"}`,
		`{"counts":{"login_failed":`,
		`{"kind":"integrity.x","time":"2026-13-01T12:34:00Z"}`,
		`{"counts":{"login_failed":1e400}}`,
		"{\"counts\":{\"login_failed\":3}\x00",
		``,
	} {
		f.Add([]byte(s), "2026-03-01T12:00:00Z")
		b := []byte(s)
		if len(b) > 3 {
			b[len(b)/2] ^= 0x20
		}
		f.Add(b, "2026-03-01")
	}
	f.Fuzz(func(t *testing.T, doc []byte, at string) {
		c, _ := ParseSummaryCounts(doc)
		for _, n := range c {
			if n < 0 || n >= maxCount {
				t.Fatalf("count %d out of range", n)
			}
		}
		ParseEvent(doc)
		recv := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		a := NewAggregator(DayOf(recv)-30, DayOf(recv))
		for range 3 {
			a.Add(Doc{Kind: KindSummary, Time: at, Received: recv, Doc: doc})
			a.Add(Doc{Kind: KindEvent, Time: at, Received: recv, Doc: doc})
		}
		for d, c := range a.Days() {
			if d < a.From || d > a.To {
				t.Fatalf("day %v outside the window", d)
			}
			for _, n := range c {
				if n < 0 || n > maxCount {
					t.Fatalf("count %d out of range", n)
				}
			}
		}
	})
}
