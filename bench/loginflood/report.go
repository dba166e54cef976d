package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"hearth/bench/internal/latency"
	"hearth/bench/internal/rig"
)

// report writes the Markdown report, with level-4 headings so that it can be pasted
// under a section of a larger document.
func report(w io.Writer, c config, e *env, r result) error {
	var b strings.Builder
	writeSetup(&b, c, e, r)
	writeFlood(&b, r)
	writeOwner(&b, r)
	writeResources(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSetup(b *strings.Builder, c config, e *env, r result) {
	fmt.Fprintf(b, "#### Settings\n\n| Setting | Value |\n|---|---|\n")
	fmt.Fprintf(b, "| hearthd | %s, release build, PID %d on %s |\n", rig.ReleaseVersion, e.proc.PID, e.proc.Addr)
	fmt.Fprintf(b, "| Flood | %s at %d guesses/s from %d sources (127.0.0.2-%s), %d keep-alive connections each; wrong passwords for random and common user names, never the owner's |\n",
		c.duration, c.rate, c.sources, rig.Loopback(0, 0, byte(c.sources+1)), c.conns)
	fmt.Fprintf(b, "| Owner logins | one per %s per client kind, new TCP+TLS connection each; %d before the flood; each kind rotates over %d source address(es) (127.0.1.x returning, 127.0.2.x fresh) |\n",
		c.ownerEvery, c.baseline, c.ownerSources)
	fmt.Fprintf(b, "| Machine | %d CPUs, %s; load average %s before the flood, %s after |\n\n", runtime.NumCPU(), e.goVersion, r.loadBefore, r.loadAfter)
}

func writeFlood(b *strings.Builder, r result) {
	secs := r.elapsed.Seconds()
	fmt.Fprintf(b, "#### Flood outcomes\n\n| Outcome | Count | Per second | Latency p50 | p99 |\n|---|---:|---:|---:|---:|\n")
	row := func(name string, n int, lat string) {
		fmt.Fprintf(b, "| %s | %d | %.1f | %s |\n", name, n, float64(n)/secs, lat)
	}
	row("guesses sent", int(r.flood.sent), " | ")
	keys := slices.SortedFunc(maps.Keys(r.flood.outcomes), func(x, y string) int {
		return cmp.Compare(len(r.flood.outcomes[y]), len(r.flood.outcomes[x]))
	})
	for _, k := range keys {
		s := latency.Summarize(r.flood.outcomes[k])
		row("answered "+k, s.N, ms(s.N, s.P50)+" | "+ms(s.N, s.P99))
	}
	row("not sent: all connections of the source busy", int(r.flood.skipped), " | ")
	fmt.Fprintf(b, "\nRates are over %.1f s, from the first guess to the answer of the last.\n", secs)
	if r.flood.otherErr != nil {
		fmt.Fprintf(b, "First unclassified error: `%v`.\n", r.flood.otherErr)
	}
	b.WriteString("\n")
}

// row is one kind of owner client in one phase.
type row struct {
	kind  ownerKind
	phase string
	res   ownerResult
}

// rows lists the owner results in report order.
func rows(r result) []row {
	var out []row
	for i, k := range kinds {
		if i < len(r.baseline) {
			out = append(out, row{k, "no flood", r.baseline[i]})
		}
		if i < len(r.during) {
			out = append(out, row{k, "flood", r.during[i]})
		}
	}
	return out
}

func writeOwner(b *strings.Builder, r result) {
	fmt.Fprintf(b, "#### Owner logins\n\nLatency of successful logins, from sending the request (new connection) to the response.\n\n")
	fmt.Fprintf(b, "| Client | Phase | Logins | Failed | p50 | p90 | p99 | max |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	var notable []string
	for _, x := range rows(r) {
		s := latency.Summarize(x.res.ok)
		fmt.Fprintf(b, "| %s | %s | %d | %d | %s | %s | %s | %s |\n", x.kind.name, x.phase, x.res.attempts(), x.res.failures(),
			ms(s.N, s.P50), ms(s.N, s.P90), ms(s.N, s.P99), ms(s.N, s.Max))
		if len(x.res.notable) > 0 {
			notable = append(notable, fmt.Sprintf("%s, %s: %s", x.kind.name, x.phase, strings.Join(x.res.notable, ", ")))
		}
	}
	if len(notable) > 0 {
		fmt.Fprintf(b, "\nFailed owner logins and logins slower than %s, by start time from the beginning of the phase:\n\n", slowLogin)
		for _, n := range notable {
			fmt.Fprintf(b, "- %s\n", n)
		}
	}
	writeBreakdown(b, r)
}

// writeBreakdown splits successful owner logins into handshake and server time.
func writeBreakdown(b *strings.Builder, r result) {
	fmt.Fprintf(b, "\nWhere the time goes (p50 / p99): TCP+TLS handshake, and request written to first response byte.\n\n")
	fmt.Fprintf(b, "| Client | Phase | Handshake | Server |\n|---|---|---:|---:|\n")
	for _, x := range rows(r) {
		h, s := latency.Summarize(x.res.handshake), latency.Summarize(x.res.server)
		fmt.Fprintf(b, "| %s | %s | %s / %s | %s / %s |\n", x.kind.name, x.phase, ms(h.N, h.P50), ms(h.N, h.P99), ms(s.N, s.P50), ms(s.N, s.P99))
	}
	b.WriteString("\n")
}

func ms(n int, d time.Duration) string {
	if n == 0 {
		return "-"
	}
	return latency.Millis(d)
}

func writeResources(b *strings.Builder, r result) {
	secs := r.elapsed.Seconds()
	cpu := r.after.CPU - r.before.CPU
	fmt.Fprintf(b, "#### Resources\n\n| Measure | Value |\n|---|---:|\n")
	fmt.Fprintf(b, "| hearthd CPU time during the flood | %.1f s (%.2f cores) |\n", cpu.Seconds(), cpu.Seconds()/secs)
	fmt.Fprintf(b, "| hearthd peak RSS (VmHWM) before the flood | %s |\n", rig.MiB(r.before.HWM))
	fmt.Fprintf(b, "| hearthd peak RSS (VmHWM) after the flood | %s |\n", rig.MiB(r.after.HWM))
	fmt.Fprintf(b, "| hearthd RSS (VmRSS) after the flood | %s |\n", rig.MiB(r.after.RSS))
	fmt.Fprintf(b, "| of which private (RssAnon) | %s |\n", rig.MiB(r.after.Anon))
	fmt.Fprintf(b, "| load generator CPU time during the flood (same machine) | %.1f s (%.2f cores) |\n\n", r.selfCPU.Seconds(), r.selfCPU.Seconds()/secs)
}
