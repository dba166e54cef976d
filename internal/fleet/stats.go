package fleet

import (
	"math"
	"slices"
)

// madScale makes the MAD of normally distributed data comparable to its standard
// deviation (0.6745 is the 75th percentile of the standard normal).
const madScale = 0.6745

// Baseline is the median and median absolute deviation of a set of counts.
type Baseline struct {
	Median float64 `json:"median"`
	MAD    float64 `json:"mad"`
	N      int     `json:"n"` // how many counts: days for a device, devices for the fleet
}

// baselineOf computes the baseline of vs, reordering vs (no copy).
func baselineOf(vs []int64) Baseline {
	if len(vs) == 0 {
		return Baseline{}
	}
	med := median(vs)
	for i, v := range vs {
		vs[i] = absDev2(v, med)
	}
	// The deviations were doubled to stay integers; halve the result.
	return Baseline{Median: med, MAD: median(vs) / 2, N: len(vs)}
}

// absDev2 returns 2·|v−med| as an integer (med is a whole or half number).
func absDev2(v int64, med float64) int64 {
	return int64(math.Abs(2*float64(v) - 2*med))
}

// median sorts vs and returns its median.
func median(vs []int64) float64 {
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return float64(vs[n/2])
	}
	return (float64(vs[n/2-1]) + float64(vs[n/2])) / 2
}

// Z returns the robust z-score of x against b, its MAD raised to floor first: with a
// floor above zero the score is finite.
func (b Baseline) Z(x int64, floor float64) float64 {
	return b.z(x, max(b.MAD, floor))
}

// CountZ is Z for counts of events: the MAD is also raised to the spread a Poisson
// count of the median's size has (0.6745·√median), so that a device or a fleet whose
// counts are steadily high is not flagged for ordinary noise around them.
func (b Baseline) CountZ(x int64, floor float64) float64 {
	return b.z(x, max(b.MAD, floor, madScale*math.Sqrt(max(b.Median, 0))))
}

func (b Baseline) z(x int64, mad float64) float64 {
	if mad <= 0 {
		if float64(x) > b.Median {
			return math.Inf(1)
		}
		return 0
	}
	return madScale * (float64(x) - b.Median) / mad
}
