package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"hearth/internal/i18n"
	"hearth/internal/sensors"
)

func TestChartLayout(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	p := cat.Printer(i18n.English)
	w := chartWindows[0]
	from := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	at := func(buckets ...int) []sensors.Point {
		var out []sensors.Point
		for _, b := range buckets {
			out = append(out, sensors.Point{Time: from.Add(time.Duration(b) * w.Step), Avg: 20, Min: 19, Max: 21, Count: 2})
		}
		return out
	}
	for _, tc := range []struct {
		name          string
		buckets       []int
		lines, dots   int
		pointsInLines int
	}{
		{"hourly readings draw one line", []int{0, 2, 4, 6, 8}, 1, 0, 5},
		{"an outage breaks the line", []int{0, 1, 2, 7, 8}, 2, 0, 5},
		{"a lone reading is a dot", []int{0, 1, 20}, 1, 1, 2},
		{"every period", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47}, 1, 0, 48},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := buildChart(p, "c", sensors.Temperature, w, from, at(tc.buckets...))
			n := 0
			for _, l := range c.Lines {
				n += len(strings.Fields(l))
			}
			if len(c.Lines) != tc.lines || len(c.Bands) != tc.lines || len(c.Dots) != tc.dots || n != tc.pointsInLines {
				t.Fatalf("%d lines (%d points), %d bands, %d dots", len(c.Lines), n, len(c.Bands), len(c.Dots))
			}
			for _, pt := range append(strings.Fields(strings.Join(c.Lines, " ")), strings.Fields(strings.Join(c.Bands, " "))...) {
				var x, y float64
				if _, err := fmt.Sscanf(pt, "%g,%g", &x, &y); err != nil || x < c.Left || x > c.Right || y < c.Top || y > c.Bottom {
					t.Fatalf("point %q outside the plot", pt)
				}
			}
		})
	}
	if c := buildChart(p, "c", sensors.Temperature, w, from, nil); !c.Empty || len(c.Lines)+len(c.Dots)+len(c.Bars) != 0 {
		t.Fatal("a chart without readings draws something")
	}
	motion := []sensors.Point{{Time: from, Avg: 0.5, Count: 4}, {Time: from.Add(w.Step), Avg: 0, Count: 3}, {Time: from.Add(5 * w.Step), Avg: 1, Count: 1}}
	c := buildChart(p, "m", sensors.Motion, w, from, motion)
	if len(c.Bars) != 2 || c.Bars[0].H <= c.Bars[1].H || !strings.Contains(c.Desc, "3 movements, at most 2 in one period") {
		t.Fatalf("motion bars %+v, %q", c.Bars, c.Desc)
	}
}
