// Command fleet measures the vendor's fleet anomaly detection (item 5.8.1.2 of TS-0045):
// scoring one day of a simulated fleet (default 100,000 devices) against 14 days of
// history, with a brute-force campaign against 5% of the devices on the scored day, and
// optionally the whole scan from stored telemetry files (cloud.ScanFleet: read every
// stream's file, aggregate per day, detect, write fleet/anomalies.json).
//
//	go run ./bench/fleet [-devices 100000] [-days 14] [-runs 3] [-scan-devices 10000]
//
// It prints a Markdown table: time per run (median of runs) and peak memory (the
// process's VmHWM from /proc/self/status, and the heap allocated by one run).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"hearth/internal/cloud"
	"hearth/internal/fleet"
	"hearth/internal/fleet/fleettest"
)

func main() {
	devices := flag.Int("devices", 100_000, "devices in the simulated fleet")
	days := flag.Int("days", 14, "days of history before the scored day")
	runs := flag.Int("runs", 3, "measurements")
	scanDevices := flag.Int("scan-devices", 10_000, "devices for the scan from stored files (0: skip)")
	flag.Parse()
	if err := run(*devices, *days, *runs, *scanDevices); err != nil {
		fmt.Fprintln(os.Stderr, "fleet bench:", err)
		os.Exit(1)
	}
}

type row struct {
	what      string
	runs      []time.Duration
	allocated uint64
	found     int
}

func run(devices, days, runs, scanDevices int) error {
	start := fleet.Day(20500)
	devs := fleettest.Normal(fleettest.Config{Devices: devices, Days: days + 1, Start: start, Seed: 1, Absent: 0.03})
	scored := start + fleet.Day(days)
	fleettest.BruteForce(devs, scored, 0.05, 1)
	th := fleet.DefaultThresholds()
	th.HistoryDays = days
	var rows []row
	r := row{what: fmt.Sprintf("detect: %d devices × %d days + 1 scored day (in memory)", devices, days)}
	for range runs {
		d, alloc, n := measure(func() int { return len(fleet.Detect(devs, scored, th)) })
		r.runs, r.allocated, r.found = append(r.runs, d), alloc, n
	}
	rows = append(rows, r)
	if scanDevices > 0 {
		dir, err := os.MkdirTemp("", "fleet-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := writeFleet(dir, devs[:min(scanDevices, len(devs))]); err != nil {
			return err
		}
		r := row{what: fmt.Sprintf("scan: %d streams' files, %d daily summaries each (cloud.ScanFleet)", min(scanDevices, len(devs)), days+1)}
		opts := cloud.ScanOptions{Days: []fleet.Day{scored}, Thresholds: &th, Now: func() time.Time { return scored.Time().Add(20 * time.Hour) }}
		for range runs {
			var err error
			d, alloc, n := measure(func() int {
				var rep cloud.FleetReport
				rep, _, err = cloud.ScanFleet(dir, opts)
				return len(rep.Anomalies)
			})
			if err != nil {
				return err
			}
			r.runs, r.allocated, r.found = append(r.runs, d), alloc, n
		}
		rows = append(rows, r)
	}
	fmt.Printf("Go %s, %s/%s, %d CPUs; peak RSS (VmHWM) of the whole run: %s\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), vmHWM())
	fmt.Println("| Measurement | Runs | Median time | Fastest | Heap allocated per run | Anomalies |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, r := range rows {
		slices.Sort(r.runs)
		fmt.Printf("| %s | %d | %v | %v | %.1f MiB | %d |\n", r.what, len(r.runs), r.runs[len(r.runs)/2].Round(time.Millisecond),
			r.runs[0].Round(time.Millisecond), float64(r.allocated)/(1<<20), r.found)
	}
	return nil
}

// measure runs fn once after a collection and returns its time and the heap it allocated.
func measure(fn func() int) (time.Duration, uint64, int) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	n := fn()
	d := time.Since(t0)
	runtime.ReadMemStats(&after)
	return d, after.TotalAlloc - before.TotalAlloc, n
}

// writeFleet stores each device's days as one summary a day, as the services would.
func writeFleet(vendor string, devs []fleet.Device) error {
	dir := filepath.Join(vendor, "telemetry")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var b strings.Builder
	for _, d := range devs {
		b.Reset()
		for i, dc := range d.Days {
			at := dc.Day.Time().Add(12 * time.Hour)
			counts := map[string]int64{}
			for m := range fleet.NumMetrics {
				if dc.Counts[m] > 0 {
					counts[m.String()] = dc.Counts[m]
				}
			}
			doc, _ := json.Marshal(map[string]any{"firmware": "1.2.0", "sensors": map[string]int{"HS-1/paired": 2}, "counts": counts})
			line, _ := json.Marshal(cloud.Record{Received: at, Stream: d.ID, Seq: int64(i + 1), Kind: "telemetry", Time: at.Format(time.RFC3339), Doc: doc, ConsentVersion: "1"})
			b.Write(line)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, d.ID+".jsonl"), []byte(b.String()), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// vmHWM returns the process's peak resident set size, as /proc/self/status reports it.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
