package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"hearth/bench/internal/latency"
	"hearth/bench/internal/rig"
)

// report prints the machine, the settings and one table with a column per broker.
func report(w io.Writer, c config, e *env, rs []result) error {
	fmt.Fprintln(w, "## MQTT broker benchmark")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| | |")
	fmt.Fprintln(w, "|---|---|")
	fmt.Fprintf(w, "| CPUs | %d online (`nproc`), `%s` |\n", onlineCPUs(), cpuModel())
	fmt.Fprintf(w, "| Kernel | Linux %s |\n", strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")))
	fmt.Fprintf(w, "| Go | %s |\n", e.goVersion)
	fmt.Fprintf(w, "| hearthd | `%s`, %s |\n", e.build, rateMode(c))
	fmt.Fprintf(w, "| Mosquitto | %s |\n", mosquittoVersion(c.mosquitto))
	fmt.Fprintf(w, "| Pinning | %s |\n", pinning(c))
	fmt.Fprintf(w, "| Load | MQTT %s, %d publishers, %d-byte readings, QoS 0 and QoS 1 (%d in flight per connection) for %s each; one in flight for %s; %d sensors connected at once, idle %s before memory is read |\n",
		versionName(c.version), c.publishers, len(new(payloader).next(time.Now())), c.window, c.duration, c.latencyDuration, c.sensors, c.settle)
	for _, r := range rs {
		fmt.Fprintf(w, "| Load average, %s phases | %s before, %s after |\n", r.broker, r.loadAvgs[0], r.loadAvgs[1])
	}
	fmt.Fprintln(w)
	head := "| |"
	rule := "|---|"
	for _, r := range rs {
		head += " " + r.broker + " |"
		rule += "---|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	row := func(name string, cell func(r result) string) {
		line := "| " + name + " |"
		for _, r := range rs {
			line += " " + cell(r) + " |"
		}
		fmt.Fprintln(w, line)
	}
	row("TLS negotiated", func(r result) string { return r.tls })
	row("RSS idle (VmRSS)", func(r result) string { return mem(r.idle.RSS) })
	row(fmt.Sprintf("RSS with %d sensors connected, idle (VmRSS)", c.sensors), func(r result) string { return mem(r.held.usage.RSS) })
	row("Peak RSS until then (VmHWM)", func(r result) string { return mem(r.held.usage.HWM) })
	row(fmt.Sprintf("Time to connect %d sensors, 32 at a time, each first reading acknowledged", c.sensors), func(r result) string { return secs(r.held.connect) })
	row("**QoS 0** messages/s sent", func(r result) string { return perSec(r.qos0.count, r.qos0.duration) })
	row("QoS 0 readings stored", func(r result) string { return stored(r.qos0) })
	row("QoS 0 readings stored/s (until the last was stored)", func(r result) string {
		if r.qos0.stored < 0 {
			return "—"
		}
		return perSec(r.qos0.stored, r.qos0.duration+r.qos0.storedLag)
	})
	row("QoS 0 CPU: broker / this program (% of one core)", func(r result) string { return cpuCell(r.qos0) })
	row("QoS 0 broker CPU per message", func(r result) string { return perMsg(r.qos0.cpu.broker, r.qos0.total) })
	row("**QoS 1** messages/s acknowledged", func(r result) string { return perSec(r.qos1.count, r.qos1.duration) })
	row("QoS 1 readings stored / acknowledged", func(r result) string { return stored(r.qos1) + " / " + num(r.qos1.total) })
	row("QoS 1 PUBACK latency p50 / p99 / max", func(r result) string { return lat(r.qos1.lat) })
	row("QoS 1 CPU: broker / this program (% of one core)", func(r result) string { return cpuCell(r.qos1) })
	row("QoS 1 broker CPU per message", func(r result) string { return perMsg(r.qos1.cpu.broker, r.qos1.total) })
	row("**QoS 1, one in flight** PUBACK latency p50 / p99 / max", func(r result) string { return lat(r.one.lat) })
	row("QoS 1, one in flight, messages/s", func(r result) string { return perSec(r.one.count, r.one.d) })
	row("Peak RSS over the run (VmHWM)", func(r result) string { return mem(r.final.HWM) })
	row("PUBACK failures, connection errors", func(r result) string {
		return fmt.Sprintf("%d, %d", r.qos0.refused+r.qos1.refused, len(r.qos0.connErrors)+len(r.qos1.connErrors))
	})
	for _, r := range rs {
		for _, err := range append(r.qos0.connErrors, r.qos1.connErrors...) {
			fmt.Fprintf(w, "\n%s connection error: %v\n", r.broker, err)
		}
	}
	return nil
}

func mem(n int64) string { return fmt.Sprintf("%s (%.1f MB)", rig.MiB(n), float64(n)/1e6) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func num(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func perSec(n int64, d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return num(int64(rate(n, d)))
}

func stored(t throughput) string {
	if t.stored < 0 {
		return "not stored (no subscriber)"
	}
	s := num(t.stored)
	if t.qos == 0 {
		s += fmt.Sprintf(" of %s sent, the last %.1f s after publishing stopped", num(t.total), t.storedLag.Seconds())
	}
	return s
}

func cpuCell(t throughput) string {
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / t.cpu.wall.Seconds() }
	return fmt.Sprintf("%.0f%% / %.0f%%", pct(t.cpu.broker), pct(t.cpu.client))
}

func perMsg(d time.Duration, n int64) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f µs", float64(d.Microseconds())/float64(n))
}

func lat(s latency.Summary) string {
	if s.N == 0 {
		return "—"
	}
	return latency.Millis(s.P50) + " / " + latency.Millis(s.P99) + " / " + latency.Millis(s.Max)
}

func rateMode(c config) string {
	if c.unlimited {
		return "run with `--insecure-unlimited-sensor-rate` (no per-sensor rate limit)"
	}
	return "per-sensor rate limit on (about 20 readings/s after a burst of 2000)"
}

func versionName(v int) string {
	if v == 5 {
		return "5"
	}
	return "3.1.1"
}

func pinning(c config) string {
	if c.brokerCPUs == "" && c.clientCPUs == "" {
		return "none"
	}
	return fmt.Sprintf("broker on CPU %s (`taskset -c %s`), load generator on CPU %s (`taskset -a -p`)", or(c.brokerCPUs, "any"), or(c.brokerCPUs, "-"), or(c.clientCPUs, "any"))
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func onlineCPUs() int {
	out, err := exec.Command("nproc", "--all").Output()
	if err != nil {
		return 0
	}
	var n int
	fmt.Sscan(string(out), &n)
	return n
}

func cpuModel() string {
	sc := bufio.NewScanner(strings.NewReader(readFile("/proc/cpuinfo")))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func mosquittoVersion(bin string) string {
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first)
}
