package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"hearth/bench/internal/latency"
	"hearth/bench/internal/rig"
)

// results is everything measured.
type results struct {
	bins   binaries
	starts []startSeries   // per server, in prepare's order: hearthd, peer
	bursts [][]burstSample // per server
	// loadBefore and loadAfter are the machine's load averages around the measurements.
	loadBefore, loadAfter string
}

// report writes the Markdown report.
func report(w io.Writer, c config, r results) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d CPUs, %s; load average %s before, %s after. Release build: `%s`.\n\n",
		runtime.NumCPU(), r.bins.goVersion, r.loadBefore, r.loadAfter, r.bins.hearthd.Command())
	fmt.Fprintf(&b, "| Measure | hearthd | peer (minimal Go HTTPS server) |\n|---|---:|---:|\n")
	writeSizes(&b, r.bins)
	writeStarts(&b, c, r.starts)
	writeBursts(&b, c, r.bursts)
	fmt.Fprintf(&b, "\nMedians, with the range (min-max) in brackets. RSS is VmRSS, peak RSS VmHWM, from /proc; RssAnon is private memory (heap, stacks), RssFile mapped file pages (the binary's code and read-only data: clean, shared with the page cache, dropped under memory pressure). 1 MiB = 1,048,576 bytes.\n")
	fmt.Fprintf(&b, "Burst: %d requests at once, each from its own loopback address over a new TLS connection; hearthd: correct owner logins (the owner's password set first), peer: GET /.\n\n", c.burst)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSizes(b *strings.Builder, bins binaries) {
	fmt.Fprintf(b, "| Binary size, release build (-s -w) | %s | %s |\n", size(bins.size[bins.hearthd.Out]), size(bins.size[bins.peer.Out]))
	fmt.Fprintf(b, "| Binary size, release build without -s -w | %s | |\n", size(bins.size[bins.hearthdUnstripped.Out]))
}

func size(n int64) string { return fmt.Sprintf("%s (%d bytes)", rig.MiB(n), n) }

func writeStarts(b *strings.Builder, c config, series []startSeries) {
	row := func(name string, f func(startSeries) string) {
		fmt.Fprintf(b, "| %s | %s | %s |\n", name, f(series[0]), f(series[1]))
	}
	row("Start to ready file, first start (hearthd: first after provisioning)", func(s startSeries) string { return latency.Millis(s.first.ready) })
	row(fmt.Sprintf("Start to ready file, %d starts", c.starts), func(s startSeries) string {
		return durations(s.samples, func(x startSample) time.Duration { return x.ready })
	})
	row(fmt.Sprintf("Start to first TLS handshake, %d starts", c.starts), func(s startSeries) string {
		return durations(s.samples, func(x startSample) time.Duration { return x.tls })
	})
	row(fmt.Sprintf("RSS at ready, %d starts", c.starts), func(s startSeries) string {
		return sizes(s.samples, func(x startSample) int64 { return x.memReady.RSS })
	})
	row("of which private (RssAnon)", func(s startSeries) string {
		return sizes(s.samples, func(x startSample) int64 { return x.memReady.Anon })
	})
	if c.idleRuns > 0 {
		idle := func(s startSeries) []startSample { return s.samples[:c.idleRuns] }
		row(fmt.Sprintf("RSS after %s idle, %d starts", c.idle, c.idleRuns), func(s startSeries) string {
			return sizes(idle(s), func(x startSample) int64 { return x.memIdle.RSS })
		})
		row("of which private (RssAnon)", func(s startSeries) string {
			return sizes(idle(s), func(x startSample) int64 { return x.memIdle.Anon })
		})
		row("of which mapped file pages (RssFile)", func(s startSeries) string {
			return sizes(idle(s), func(x startSample) int64 { return x.memIdle.File })
		})
	}
}

func writeBursts(b *strings.Builder, c config, bursts [][]burstSample) {
	row := func(name string, f func([]burstSample) string) {
		fmt.Fprintf(b, "| %s | %s | %s |\n", name, f(bursts[0]), f(bursts[1]))
	}
	n := c.burstRuns
	row(fmt.Sprintf("RSS before the burst, %d runs", n), func(s []burstSample) string {
		return sizes(s, func(x burstSample) int64 { return x.rssBefore })
	})
	row(fmt.Sprintf("Peak RSS after a burst of %d, %d runs", c.burst, n), func(s []burstSample) string {
		return sizes(s, func(x burstSample) int64 { return x.hwm })
	})
	row(fmt.Sprintf("Burst duration, %d runs", n), func(s []burstSample) string {
		return durations(s, func(x burstSample) time.Duration { return x.took })
	})
	row("Burst outcomes, all runs", func(s []burstSample) string {
		all := map[string]int{}
		for _, x := range s {
			for k, v := range x.outcomes {
				all[k] += v
			}
		}
		return outcomeText(all)
	})
}

// durations formats the median and range of f over samples.
func durations[T any](samples []T, f func(T) time.Duration) string {
	v := make([]time.Duration, len(samples))
	for i, s := range samples {
		v[i] = f(s)
	}
	slices.Sort(v)
	return fmt.Sprintf("%s (%s-%s)", latency.Millis(median(v)), latency.Millis(v[0]), latency.Millis(v[len(v)-1]))
}

// sizes formats the median and range of f over samples, in MiB.
func sizes[T any](samples []T, f func(T) int64) string {
	v := make([]int64, len(samples))
	for i, s := range samples {
		v[i] = f(s)
	}
	slices.Sort(v)
	return fmt.Sprintf("%s (%.1f-%.1f)", rig.MiB(median(v)), float64(v[0])/(1<<20), float64(v[len(v)-1])/(1<<20))
}

// median of sorted values: the middle one, or the mean of the two middle ones.
func median[T ~int64](sorted []T) T {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
