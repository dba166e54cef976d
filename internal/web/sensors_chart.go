package web

import (
	"math"
	"strconv"
	"strings"
	"time"

	"hearth/internal/i18n"
	"hearth/internal/sensors"
)

// chart is one chart of a sensor's readings, drawn on the server as inline SVG: no
// script, no external library, nothing fetched, so it works under the strict CSP and
// without JavaScript. Measured kinds show the average of each period as a line over a
// band from its lowest to its highest value; two-state kinds (motion, door) show how
// many times they fired in each period as bars.
type chart struct {
	ID, Title, Desc string
	Empty           bool
	// W and H are the size of the viewBox.
	W, H float64
	// Lines and Bands are the SVG points of each run of consecutive periods with data.
	Lines, Bands []string
	Dots         []chartPoint
	Bars         []chartBar
	YTicks       []chartTick
	XTicks       []chartTick
	// The plot area, in viewBox units.
	Left, Right, Top, Bottom float64
}

type chartPoint struct{ X, Y float64 }

type chartBar struct{ X, Y, W, H float64 }

// chartTick is an axis label at (X, Y), with a grid line through it.
type chartTick struct {
	X, Y float64
	Text string
}

// chartWindow is one period a chart covers, split into buckets of step.
type chartWindow struct {
	Key    string // message key of the period's name
	Span   time.Duration
	Step   time.Duration
	Tick   time.Duration // distance between time labels
	Suffix string        // part of the chart's element ID
}

var chartWindows = []chartWindow{
	{Key: "chart.24h", Span: 24 * time.Hour, Step: 30 * time.Minute, Tick: 6 * time.Hour, Suffix: "24h"},
	{Key: "chart.7d", Span: 7 * 24 * time.Hour, Step: 3 * time.Hour, Tick: 48 * time.Hour, Suffix: "7d"},
}

// Chart geometry, in viewBox units (the SVG scales to the page's width).
const (
	chartW, chartH                                    = 480.0, 200.0
	chartLeft, chartRight, chartTop, chartBottomSpace = 68.0, 14.0, 12.0, 32.0
)

// maxGap is the most periods a line bridges: a sensor reporting less often than the
// chart's period still draws a line, while an outage (maxGap or more empty periods in a
// row) shows as a break.
const maxGap = 4

func binaryKind(k sensors.Kind) bool { return k == sensors.Motion || k == sensors.Door }

// buildChart lays out the points of one kind over [from, from+w.Span).
func buildChart(p i18n.Printer, id string, k sensors.Kind, w chartWindow, from time.Time, pts []sensors.Point) chart {
	c := chart{ID: id, Title: p.T("chart.title", p.T("sensor.kind."+string(k)), p.T(w.Key)), W: chartW, H: chartH,
		Left: chartLeft, Right: chartW - chartRight, Top: chartTop, Bottom: chartH - chartBottomSpace}
	to := from.Add(w.Span)
	if len(pts) == 0 {
		c.Empty = true
		return c
	}
	n := float64(w.Span / w.Step)
	slot := (c.Right - c.Left) / n
	x := func(t time.Time) float64 { return c.Left + float64(t.Sub(from))/float64(w.Span)*(c.Right-c.Left) }
	if binaryKind(k) {
		c.layoutBars(p, k, w, from, to, pts, slot, x)
	} else {
		c.layoutLines(p, k, w, from, to, pts, slot, x)
	}
	c.XTicks = timeTicks(p, from, to, w.Tick, x, c.Bottom)
	return c
}

// layoutLines draws the average as a line and the min-max range as a band, broken where
// the sensor was silent for maxGap periods or more.
func (c *chart) layoutLines(p i18n.Printer, k sensors.Kind, w chartWindow, from, to time.Time, pts []sensors.Point, slot float64, x func(time.Time) float64) {
	lo, hi, total := pts[0].Min, pts[0].Max, 0
	for _, pt := range pts {
		lo, hi, total = math.Min(lo, pt.Min), math.Max(hi, pt.Max), total+pt.Count
	}
	yLo, yHi := lo, hi
	if yHi-yLo < 1 {
		yLo, yHi = yLo-0.5, yHi+0.5
	}
	pad := (yHi - yLo) * 0.08
	yLo, yHi = yLo-pad, yHi+pad
	y := func(v float64) float64 { return c.Bottom - (v-yLo)/(yHi-yLo)*(c.Bottom-c.Top) }
	var line, upper, lower []chartPoint
	flush := func() {
		switch len(line) {
		case 0:
		case 1:
			c.Dots = append(c.Dots, line[0])
		default:
			c.Lines = append(c.Lines, svgPoints(line))
			for i := len(lower) - 1; i >= 0; i-- {
				upper = append(upper, lower[i])
			}
			c.Bands = append(c.Bands, svgPoints(upper))
		}
		line, upper, lower = nil, nil, nil
	}
	prev := math.MinInt / 2
	for _, pt := range pts {
		i := int(pt.Time.Sub(from) / w.Step)
		if i-prev > maxGap {
			flush()
		}
		prev = i
		cx := round1(x(pt.Time) + slot/2)
		line = append(line, chartPoint{cx, round1(y(pt.Avg))})
		upper = append(upper, chartPoint{cx, round1(y(pt.Max))})
		lower = append(lower, chartPoint{cx, round1(y(pt.Min))})
	}
	flush()
	for _, v := range []float64{lo, (lo + hi) / 2, hi} {
		c.YTicks = append(c.YTicks, chartTick{X: c.Left - 6, Y: round1(y(v)), Text: formatValue(k, v)})
	}
	if lo == hi {
		c.YTicks = c.YTicks[:1]
	}
	c.Desc = p.T("chart.desc", p.DateTime(from), p.DateTime(to), strconv.Itoa(total), formatValue(k, lo), formatValue(k, hi))
}

// layoutBars draws how many times a two-state sensor fired (reported 1) in each period.
func (c *chart) layoutBars(p i18n.Printer, k sensors.Kind, w chartWindow, from, to time.Time, pts []sensors.Point, slot float64, x func(time.Time) float64) {
	most, total := 1, 0
	counts := make([]int, len(pts))
	for i, pt := range pts {
		counts[i] = int(math.Round(pt.Avg * float64(pt.Count)))
		most, total = max(most, counts[i]), total+counts[i]
	}
	y := func(v float64) float64 { return c.Bottom - v/float64(most)*(c.Bottom-c.Top) }
	for i, pt := range pts {
		if counts[i] == 0 {
			continue
		}
		top := y(float64(counts[i]))
		c.Bars = append(c.Bars, chartBar{X: round1(x(pt.Time) + slot*0.15), Y: round1(top), W: round1(slot * 0.7), H: round1(c.Bottom - top)})
	}
	ticks := []int{0, most}
	if most >= 4 {
		ticks = []int{0, most / 2, most}
	}
	for _, v := range ticks {
		c.YTicks = append(c.YTicks, chartTick{X: c.Left - 6, Y: round1(y(float64(v))), Text: strconv.Itoa(v)})
	}
	c.Desc = p.T("chart.desc_events", p.DateTime(from), p.DateTime(to), strconv.Itoa(total), p.T("sensor.event."+string(k)), strconv.Itoa(most))
}

// timeTicks labels the time axis at every multiple of every in local time: hours for a
// day, dates for a week.
func timeTicks(p i18n.Printer, from, to time.Time, every time.Duration, x func(time.Time) float64, bottom float64) []chartTick {
	lf := from.Local()
	t := time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, lf.Location())
	var out []chartTick
	for ; t.Before(to); t = t.Add(every) {
		if t.Before(from) {
			continue
		}
		label := t.Format("15:04")
		if every >= 24*time.Hour {
			label = t.Format("2 Jan")
			if p.Tag == i18n.Chinese {
				label = t.Format("1/2")
			}
		}
		out = append(out, chartTick{X: round1(x(t)), Y: bottom + 22, Text: label})
	}
	return out
}

// svgPoints writes points as an SVG points attribute: "x,y x,y ...".
func svgPoints(pts []chartPoint) string {
	var b strings.Builder
	for i, pt := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(pt.X, 'f', -1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(pt.Y, 'f', -1, 64))
	}
	return b.String()
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// formatValue writes a measured value with its unit: "21.5 °C", "48 %".
func formatValue(k sensors.Kind, v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	switch k.Unit() {
	case "C":
		return s + " °C"
	case "":
		return s
	default:
		return s + " " + k.Unit()
	}
}
