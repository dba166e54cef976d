package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"hearth/internal/mqttload"
	"hearth/internal/sensors"
)

var sensorKillTrials = flag.Int("sensor-kill-trials", 20, "kill -9 trials in TestAcknowledgedReadingsSurviveKill")

// TS-0045 5.6.1.1: a reading the gateway acknowledged (QoS 1 PUBACK) survives the
// gateway being killed at any moment. A sensor publishes as fast as the gateway takes
// readings (the rate limit lifted, so the gateway is under sustained load); hearthd is
// killed with SIGKILL at a random moment; after restart every acknowledged reading is
// listed by the API. Repeated at -sensor-kill-trials points (default 20).
func TestAcknowledgedReadingsSurviveKill(t *testing.T) {
	mqttAddr := freeAddr(t)
	d := provision(t, newVendor(t))
	flags := []string{"--mqtts-addr", mqttAddr, "--insecure-unlimited-sensor-rate"}
	d.start(bin.hearthdDev, flags...)
	c := d.ownerClient()
	s := d.pair(c, "Kitchen", "HS-TH1")
	pem, err := os.ReadFile(d.root)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tlsCfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}

	total, complete := 0, 0
	for trial := range *sensorKillTrials {
		if trial > 0 {
			d.start(bin.hearthdDev, flags...)
		}
		conn, err := mqttload.Dial(t.Context(), mqttload.Options{Addr: mqttAddr, TLS: tlsCfg, ClientID: s.Sensor.ID,
			Username: s.Sensor.ID, Password: []byte(s.Connection.Password), Window: 256})
		if err != nil {
			t.Fatalf("trial %d: connect: %v\n%s", trial, err, d.logs)
		}
		// Each reading's time is unique (base + n µs, trials more than 9 ms apart), so
		// it identifies the reading.
		base := time.Now().Add(-time.Minute)
		var mu sync.Mutex
		acked := map[int64]bool{}
		stop := make(chan struct{})
		published := make(chan int)
		go func() {
			n := 0
			defer func() { published <- n }()
			start := time.Now()
			for ; n < 9000; n++ {
				// Paced at 8000 readings/s, so the kill lands while readings are in
				// flight and one trial fits one API page.
				if n%80 == 0 {
					conn.Flush()
					time.Sleep(time.Until(start.Add(time.Duration(n) * time.Second / 8000)))
				}
				select {
				case <-stop:
					return
				default:
				}
				ts := base.Add(time.Duration(n) * time.Microsecond)
				payload := sensors.Reading{Kind: sensors.Temperature, Value: float64(n%1000) / 10, Time: ts}.Marshal()
				err := conn.Publish(s.Connection.Topic, payload, 1, func(code byte) {
					if code == 0 {
						mu.Lock()
						acked[ts.UnixNano()] = true
						mu.Unlock()
					}
				})
				if err != nil {
					return
				}
			}
			conn.Flush()
		}()
		time.Sleep(time.Duration(100+rand.IntN(900)) * time.Millisecond)
		d.cmd.Process.Kill()
		<-d.done
		d.cmd = nil
		close(stop)
		n := <-published
		<-conn.Done()
		conn.Close()
		mu.Lock()
		want := len(acked)
		mu.Unlock()

		d.start(bin.hearthdDev, flags...)
		q := url.Values{"from": {base.UTC().Format(time.RFC3339Nano)}, "to": {base.Add(9 * time.Millisecond).UTC().Format(time.RFC3339Nano)}, "limit": {"10000"}}
		r := d.call(c, "GET", "/api/v1/sensors/"+s.Sensor.ID+"/readings?"+q.Encode(), nil)
		var got struct {
			Readings []struct {
				Ts time.Time `json:"ts"`
			} `json:"readings"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &got) != nil {
			t.Fatalf("trial %d: readings: %v", trial, r)
		}
		stored := map[int64]bool{}
		for _, rd := range got.Readings {
			stored[rd.Ts.UnixNano()] = true
		}
		lost := 0
		for ts := range acked {
			if !stored[ts] {
				lost++
			}
		}
		if lost > 0 {
			var minLost int64 = 1 << 62
			for ts := range acked {
				if !stored[ts] && ts < minLost {
					minLost = ts
				}
			}
			t.Logf("first lost reading at +%d µs; stored from %v to %v", (minLost-base.UnixNano())/1000, got.Readings[0].Ts.Sub(base), got.Readings[len(got.Readings)-1].Ts.Sub(base))
			t.Fatalf("trial %d: %d of %d acknowledged readings lost (%d published, %d stored)", trial, lost, want, n, len(stored))
		}
		if len(stored) > n {
			t.Fatalf("trial %d: %d stored, only %d published", trial, len(stored), n)
		}
		t.Logf("trial %d: published %d, acknowledged %d, stored %d", trial, n, want, len(stored))
		total += want
		if n == 9000 && want == n {
			complete++
		}
		d.stop()
	}
	if total == 0 || complete > *sensorKillTrials/4 {
		t.Fatalf("%d readings acknowledged, %d trials ended before the kill: the kills did not land under load", total, complete)
	}
	t.Logf("%d trials, %d acknowledged readings, none lost", *sensorKillTrials, total)

}
