// Package latency summarises samples of a duration, such as login response times, by
// nearest-rank percentiles: the p-th percentile of n sorted samples is the sample at rank
// ceil(p/100 * n), so every reported value is one that was measured, and p99 of fewer
// than 100 samples is the maximum.
//
// Pure functions; safe for concurrent use.
package latency

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Summary describes a set of samples.
type Summary struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// Summarize returns the summary of samples; the zero Summary when there are none. It does
// not modify samples.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return Summary{
		N:   len(s),
		P50: Percentile(s, 50),
		P90: Percentile(s, 90),
		P99: Percentile(s, 99),
		Max: s[len(s)-1],
	}
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100) of sorted, which
// must be in ascending order and not empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Millis formats d in milliseconds with three significant digits or more, e.g.
// "0.84 ms", "12.3 ms", "412 ms".
func Millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	prec := 0
	switch {
	case ms < 10:
		prec = 2
	case ms < 100:
		prec = 1
	}
	return strconv.FormatFloat(ms, 'f', prec, 64) + " ms"
}
