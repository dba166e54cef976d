// Command erasure measures "delete my data" end to end on loopback, with the real
// binaries: for a gateway holding 1 million sensor readings, with telemetry and a cloud
// backup at the vendor, the time from the owner's request until the gateway's part is
// done (the API's answer), and until the vendor confirmed its part and the gateway
// verified that the vendor holds nothing more. The peer is `shred -u` of a copy of the
// same readings file: what a careful administrator would run to destroy it by hand.
//
//	go run ./bench/erasure [-readings 1000000] [-runs 3]
//
// All traffic stays on 127.0.0.1; the run ends by itself.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"hearth/bench/internal/rig"
	"hearth/internal/privacy"
	"hearth/internal/sensors"
	"hearth/internal/store/sqlite"
)

func main() {
	readings := flag.Int("readings", 1_000_000, "readings stored before the deletion")
	runs := flag.Int("runs", 3, "measurements")
	flag.Parse()
	if err := run(*readings, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "erasure bench:", err)
		os.Exit(1)
	}
}

type result struct {
	device, total, shred time.Duration
	size                 int64 // of the readings file
}

func run(readings, runs int) error {
	ctx := context.Background()
	root, err := rig.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "hearth-erasure-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	hearthd, cloud := filepath.Join(tmp, "hearthd"), filepath.Join(tmp, "hearth-cloud")
	for _, b := range []rig.Build{{Out: hearthd, Pkg: "./cmd/hearthd", Release: true}, {Out: cloud, Pkg: "./cmd/hearth-cloud"}} {
		if err := b.Run(ctx, root); err != nil {
			return err
		}
	}
	var res []result
	for i := range runs {
		r, err := measure(ctx, hearthd, cloud, filepath.Join(tmp, fmt.Sprint(i)), readings)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "run %d: gateway %s, confirmed %s, shred %s (readings file %s)\n", i+1, r.device, r.total, r.shred, rig.MiB(r.size))
		res = append(res, r)
	}
	med := func(f func(result) time.Duration) string {
		var v []time.Duration
		for _, r := range res {
			v = append(v, f(r))
		}
		slices.Sort(v)
		return fmt.Sprintf("%s (%s-%s)", v[len(v)/2].Round(time.Millisecond), v[0].Round(time.Millisecond), v[len(v)-1].Round(time.Millisecond))
	}
	fmt.Printf("| Readings (file) | Request to the gateway's part done | Request to the vendor's part confirmed and verified | `shred -u` of the readings file alone |\n|---:|---:|---:|---:|\n")
	fmt.Printf("| %d (%s) | %s | %s | %s |\n", readings, rig.MiB(res[0].size), med(func(r result) time.Duration { return r.device }),
		med(func(r result) time.Duration { return r.total }), med(func(r result) time.Duration { return r.shred }))
	fmt.Printf("\nMedian (min-max) of %d runs.\n", runs)
	return nil
}

func measure(ctx context.Context, hearthd, cloud, dir string, readings int) (result, error) {
	var r result
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	dev, err := rig.Provision(ctx, cloud, dir)
	if err != nil {
		return r, err
	}
	vendor := filepath.Join(dir, "vendor")
	srv, err := startCloud(cloud, vendor, dir)
	if err != nil {
		return r, err
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	args := []string{"--data", dev.Data, "--mqtts-addr", "127.0.0.1:0", "--cloud-url", srv.url}
	gw, err := rig.Start(ctx, hearthd, args, dir, io.Discard, time.Minute)
	if err != nil {
		return r, err
	}
	roots, err := rig.LoadRoots(dev.RootCA)
	if err != nil {
		return r, err
	}
	target := rig.Target{Addr: gw.Addr, ServerName: "localhost", Roots: roots}
	tr, err := target.Transport(rig.Loopback(0, 0, 1), rig.Conns{Max: 2, KeepAlive: true})
	if err != nil {
		return r, err
	}
	c := rig.Client(tr, nil)
	const password = "measured quiet passphrase"
	if err := rig.SetOwnerPassword(ctx, c, target, dev, password); err != nil {
		return r, err
	}
	call := func(method, path string, body any, want int) ([]byte, error) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, method, target.URL(path), strings.NewReader(string(raw)))
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		return b, nil
	}
	b, err := call("POST", "/api/v1/sensors", map[string]string{"name": "Living room", "model": "HS-TH1"}, 201)
	if err != nil {
		return r, err
	}
	var paired struct{ Sensor struct{ ID string } }
	json.Unmarshal(b, &paired)
	gw.Stop()
	if err := fill(ctx, filepath.Join(dev.Data, "readings.db"), paired.Sensor.ID, readings); err != nil {
		return r, err
	}
	if gw, err = rig.Start(ctx, hearthd, args, dir, io.Discard, time.Minute); err != nil {
		return r, err
	}
	defer gw.Stop()
	target.Addr = gw.Addr
	if tr, err = target.Transport(rig.Loopback(0, 0, 1), rig.Conns{Max: 2, KeepAlive: true}); err != nil {
		return r, err
	}
	c = rig.Client(tr, nil)
	if _, err := call("POST", "/api/v1/session", map[string]string{"username": dev.Username, "password": password}, 200); err != nil {
		return r, err
	}
	// The vendor holds telemetry and a backup of the first readings.
	if _, err := call("PUT", "/api/v1/privacy/consents", map[string]bool{"telemetry": true, "cloud_backup": true}, 200); err != nil {
		return r, err
	}
	if err := waitQuiet(vendor, 30*time.Second); err != nil {
		return r, err
	}
	// The peer: shred a copy of the readings file.
	peer := filepath.Join(dir, "readings-copy.db")
	if err := exec.Command("cp", filepath.Join(dev.Data, "readings.db"), peer).Run(); err != nil {
		return r, err
	}
	if r.size, err = rig.FileSize(peer); err != nil {
		return r, err
	}
	t0 := time.Now()
	if out, err := exec.Command("shred", "-u", peer).CombinedOutput(); err != nil {
		return r, fmt.Errorf("shred: %v %s", err, out)
	}
	r.shred = time.Since(t0)

	start := time.Now()
	if _, err := call("POST", "/api/v1/privacy/erasure", map[string]string{"confirm": "delete-all-user-data"}, 202); err != nil {
		return r, err
	}
	r.device = time.Since(start)
	journal := filepath.Join(dev.Data, privacy.ErasureFile)
	for {
		var j privacy.Erasure
		if raw, err := os.ReadFile(journal); err == nil && json.Unmarshal(raw, &j) == nil && j.Complete() && j.Cloud.Verified {
			break
		}
		if time.Since(start) > 5*time.Minute {
			return r, fmt.Errorf("vendor deletion not confirmed within 5 minutes")
		}
		time.Sleep(2 * time.Millisecond)
	}
	r.total = time.Since(start)
	return r, nil
}

// fill stores n readings of a sensor in the stopped gateway's readings database.
func fill(ctx context.Context, path, sensor string, n int) error {
	rd, err := sqlite.OpenReadings(ctx, path)
	if err != nil {
		return err
	}
	defer rd.Close()
	start := time.Now().Add(-29 * 24 * time.Hour)
	step := 29 * 24 * time.Hour / time.Duration(n)
	batch := make([]sensors.Record, 0, 4096)
	for i := range n {
		at := start.Add(time.Duration(i) * step)
		batch = append(batch, sensors.Record{Sensor: sensor, Reading: sensors.Reading{Kind: sensors.Temperature, Value: 18 + float64(i%80)/10, Time: at}, Received: at})
		if len(batch) == cap(batch) || i == n-1 {
			if err := rd.Insert(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

type cloudProc struct {
	*exec.Cmd
	url string
}

func startCloud(bin, vendor, dir string) (*cloudProc, error) {
	ready := filepath.Join(dir, "cloud.json")
	cmd := exec.Command(bin, "serve", "--dir", vendor, "--addr", "127.0.0.1:0", "--ready-file", ready)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var r struct{ Addr string }
		if raw, err := os.ReadFile(ready); err == nil && json.Unmarshal(raw, &r) == nil && r.Addr != "" {
			return &cloudProc{cmd, "https://localhost:" + r.Addr[strings.LastIndex(r.Addr, ":")+1:]}, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil, fmt.Errorf("hearth-cloud serve not ready")
}

// waitQuiet waits until the vendor directory has stopped growing for two seconds
// (the gateway's queue has drained).
func waitQuiet(dir string, within time.Duration) error {
	size := func() int64 {
		var n int64
		filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				n += fi.Size()
			}
			return nil
		})
		return n
	}
	deadline := time.Now().Add(within)
	last, since := size(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if s := size(); s != last {
			last, since = s, time.Now()
		} else if time.Since(since) > 2*time.Second {
			return nil
		}
	}
	return fmt.Errorf("vendor directory still growing after %s", within)
}
