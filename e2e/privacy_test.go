package e2e

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"hearth/internal/privacy"
	"hearth/internal/sensors"
	"hearth/internal/store/sqlite"
)

// startVendor runs hearth-cloud serve on addr for vendor until the test ends; stop
// kills it.
func startVendor(t *testing.T, vendor, addr string) (stop func()) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "cloud.json")
	cmd := exec.Command(bin.cloud, "serve", "--dir", vendor, "--addr", addr, "--ready-file", ready)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	waitAddr(t, ready, "addr", nil)
	return stop
}

func cloudURL(addr string) string {
	return "https://localhost:" + addr[strings.LastIndex(addr, ":")+1:]
}

// vendorCount counts occurrences of needle in what the vendor keeps about devices
// (everything but its keys, the update repository and the device registry), whatever
// its file layout.
func vendorCount(t *testing.T, vendor, needle string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(vendor, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(vendor, path)
		top := strings.Split(rel, string(filepath.Separator))[0]
		if e.IsDir() {
			if slices.Contains([]string{"pki", "offline", "tuf", "devices"}, top) {
				return filepath.SkipDir
			}
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n += bytes.Count(raw, []byte(needle))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (d *device) setConsents(c *http.Client, choices map[string]bool) {
	d.t.Helper()
	if r := d.call(c, "PUT", "/api/v1/privacy/consents", choices); r.status != 200 {
		d.t.Fatalf("consents %v: %v", choices, r)
	}
}

// publish sends a temperature reading as the sensor, over MQTTS.
func (d *device) publish(s pairedSensor, value float64) {
	d.t.Helper()
	_, port, _ := strings.Cut(d.mqttAddr(), ":")
	port = port[strings.LastIndex(port, ":")+1:]
	if ok, out := mosquitto(d.t, "mosquitto_pub", "-h", "localhost", "-p", port, "--cafile", d.root, "-u", s.Sensor.ID, "-P", s.Connection.Password,
		"-i", s.Sensor.ID, "-t", s.Connection.Topic, "-q", "1", "-m", reading(value)); !ok {
		d.t.Fatalf("publish: %s", out)
	}
}

// journal reads the device's deletion journal (zero value if none).
func (d *device) journal() privacy.Erasure {
	d.t.Helper()
	var j privacy.Erasure
	raw, err := os.ReadFile(filepath.Join(d.data, privacy.ErasureFile))
	if err == nil {
		json.Unmarshal(raw, &j)
	}
	return j
}

// rows returns every row of every table of a SQLite file in the data directory, as
// text, with the table names.
func rows(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables := map[string][]string{}
	names, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for names.Next() {
		var n string
		names.Scan(&n)
		list = append(list, n)
	}
	names.Close()
	for _, n := range list {
		q, err := db.Query(`SELECT * FROM "` + n + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := q.Columns()
		tables[n] = []string{}
		for q.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			q.Scan(ptrs...)
			b, _ := json.Marshal(vals)
			tables[n] = append(tables[n], string(b))
		}
		q.Close()
	}
	return tables
}

// dataFiles lists the files of the data directory, relative, with their contents.
func dataFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		raw, _ := os.ReadFile(path)
		out[rel] = raw
		return nil
	})
	return out
}

// TS-0045 5.7.1.2, 5.7.1.4, 5.7.1.5, 5.7.1.7, 5.7.1.9, 5.7.1.10, 5.7.1.11: the owner opts into
// telemetry, which then reaches the vendor minimised and under a pseudonym; withdraws,
// after which nothing more is sent; and deletes all data: afterwards the data directory
// holds nothing of the users (checked row by row and byte by byte against what was
// there), the vendor holds nothing for the device, and the status says both sides
// confirmed.
func TestPrivacyConsentWithdrawAndDelete(t *testing.T) {
	cloudAddr := freeAddr(t)
	vendor := newVendor(t)
	startVendor(t, vendor, cloudAddr)
	d := provision(t, vendor)
	d.start(bin.hearthd, "--cloud-url", cloudURL(cloudAddr))
	c := d.ownerClient()
	s := d.pair(c, "Bedroom window", "HS-TH1")
	d.publish(s, 21.5)
	d.publish(s, 22.5)
	const member, memberPassword = "cousin-mei", "lantern harbour violet"
	if r := d.call(c, "POST", "/api/v1/users", map[string]string{"username": member, "role": "member"}); r.status != 201 {
		t.Fatalf("add member: %v", r)
	}
	quarantine := func() {
		t.Helper()
		for _, op := range []string{"quarantine", "release"} {
			if r := d.call(c, "POST", "/api/v1/sensors/"+s.Sensor.ID+"/"+op, nil); r.status != 200 {
				t.Fatalf("%s: %v", op, r)
			}
		}
	}
	sent := func() int { return vendorCount(t, vendor, "sensor.quarantined") }

	// Every purpose is off: nothing leaves, not even a consent record.
	r := d.call(c, "GET", "/api/v1/privacy", nil)
	var pv struct {
		Consents []struct {
			Purpose string
			Granted bool
		}
	}
	if r.status != 200 || json.Unmarshal(r.body, &pv) != nil || len(pv.Consents) != 3 {
		t.Fatalf("privacy: %v", r)
	}
	for _, cs := range pv.Consents {
		if cs.Granted {
			t.Fatalf("%s on by default", cs.Purpose)
		}
	}
	quarantine()
	time.Sleep(3 * time.Second)
	if n := sent() + vendorCount(t, vendor, `"purpose"`); n != 0 {
		t.Fatalf("the vendor received %d documents without consent", n)
	}

	// Opt in: the consent record goes first, then the warning, minimised.
	d.setConsents(c, map[string]bool{"telemetry": true})
	quarantine()
	waitUntil(t, 20*time.Second, "the warning reaches the vendor", func() bool { return sent() == 1 })
	for _, private := range []string{s.Sensor.ID, "Bedroom", "owner", member, "127.0.0.1", d.label["serial"]} {
		if n := vendorCount(t, vendor, private); n != 0 {
			t.Errorf("the vendor's telemetry holds %q %d times", private, n)
		}
	}

	// Withdraw: the withdrawal reaches the vendor; nothing more is sent.
	d.setConsents(c, map[string]bool{"telemetry": false})
	waitUntil(t, 20*time.Second, "the withdrawal reaches the vendor", func() bool { return vendorCount(t, vendor, `"granted":false`) >= 1 })
	quarantine()
	quarantine()
	time.Sleep(3 * time.Second)
	if n := sent(); n != 1 {
		t.Fatalf("the vendor received %d warnings; only the one sent under consent may be there", n)
	}

	// Cloud backup: the readings reach the vendor sealed under a key it does not have.
	d.setConsents(c, map[string]bool{"cloud_backup": true})
	waitUntil(t, 20*time.Second, "the backup reaches the vendor", func() bool { return vendorCount(t, vendor, `"sealed"`) >= 1 })
	for _, private := range []string{s.Sensor.ID, `"t"`, "21.5"} {
		if n := vendorCount(t, vendor, private); n != 0 {
			t.Errorf("the vendor can read %q in the backup", private)
		}
	}

	// Everything the vendor received is listed in the inventory, field by field.
	kinds := vendorKinds(t, vendor)
	for _, k := range []string{privacy.KindSecurityEvent, privacy.KindBackup} {
		if kinds[k] == 0 {
			t.Errorf("the vendor holds no %s document (holds %v)", k, kinds)
		}
	}
	// Every table the gateway keeps is listed in the inventory.
	for name := range dataFiles(t, d.data) {
		if !strings.HasSuffix(name, ".db") {
			continue
		}
		for table := range rows(t, filepath.Join(d.data, name)) {
			if table != "sqlite_sequence" && !declared(name+":"+table) {
				t.Errorf("%s:%s is stored but the privacy inventory does not list it", name, table)
			}
		}
	}

	// Delete all data. First what the device held, for the comparison.
	before := dataFiles(t, d.data)
	oldStream := outboxStream(t, d.data)
	// What the vendor holds, as the owner can download it (data portability).
	r = d.call(c, "GET", "/api/v1/privacy/vendor-export", nil)
	var export struct {
		Serial   string
		Streams  []string
		Consents []json.RawMessage
		Records  []json.RawMessage
	}
	if r.status != 200 || json.Unmarshal(r.body, &export) != nil || export.Serial != d.label["serial"] || !slices.Contains(export.Streams, oldStream) ||
		len(export.Consents) < 3 || len(export.Records) < 2 {
		t.Fatalf("vendor export: %d %.300s", r.status, r.body)
	}
	r = d.call(c, "POST", "/api/v1/privacy/erasure", map[string]string{"confirm": "no"})
	if r.status != 400 {
		t.Fatalf("erase without the confirmation phrase: %v", r)
	}
	r = d.call(c, "POST", "/api/v1/privacy/erasure", map[string]string{"confirm": "delete-all-user-data"})
	var started struct {
		Erasure struct {
			Device struct{ State string }
			Cloud  struct{ State string }
		}
		StatusToken string `json:"status_token"`
		StatusURL   string `json:"status_url"`
	}
	if r.status != 202 || json.Unmarshal(r.body, &started) != nil || started.Erasure.Device.State != "completed" || len(started.StatusToken) != 32 {
		t.Fatalf("erase: %v", r)
	}
	// The caller's session went with the accounts.
	if r := d.call(c, "GET", "/api/v1/sensors", nil); r.status != 401 {
		t.Fatalf("the old session still works after the deletion: %v", r)
	}
	waitUntil(t, 30*time.Second, "the vendor confirms", func() bool { j := d.journal(); return j.Complete() && j.Cloud.Verified })
	j := d.journal()
	if j.Cloud.Receipt == nil || j.Cloud.Receipt.Request != j.Request || j.Cloud.Receipt.Deleted["telemetry_records"] < 1 {
		t.Fatalf("receipt %+v", j.Cloud.Receipt)
	}
	// The public status page shows the confirmation without signing in.
	if page := d.call(d.client(), "GET", started.StatusURL, nil); page.status != 200 {
		t.Fatalf("status page: %v", page)
	}
	if page := d.call(d.client(), "GET", "/erasure/"+strings.Repeat("0", 32), nil); page.status != 404 {
		t.Fatalf("status page for a wrong token: %d", page.status)
	}

	// The vendor holds nothing of the device any more: no records, no consents, no
	// trace of its pseudonym; the device has a new one.
	if n := sent() + vendorCount(t, vendor, `"purpose"`) + vendorCount(t, vendor, oldStream); n != 0 {
		t.Fatalf("the vendor still holds %d traces of the device", n)
	}
	if s := outboxStream(t, d.data); s == oldStream || len(s) != 32 {
		t.Fatalf("pseudonym %q after the deletion, was %q", s, oldStream)
	}

	d.stop()
	after := dataFiles(t, d.data)
	// No user data in any table.
	hearthd := rows(t, filepath.Join(d.data, "hearthd.db"))
	for _, table := range []string{"sessions", "trusted_clients", "lock_states", "settings", "sensors", "consents"} {
		if len(hearthd[table]) != 0 {
			t.Errorf("hearthd.db %s still has %d rows: %v", table, len(hearthd[table]), hearthd[table])
		}
	}
	if u := hearthd["users"]; len(u) != 1 || !strings.Contains(u[0], `"owner"`) {
		t.Errorf("users %v, want the factory owner only", u)
	}
	for _, e := range hearthd["events"] {
		if !strings.Contains(e, "privacy.data_erased") && !strings.Contains(e, "privacy.erasure_confirmed") {
			t.Errorf("event left from before the deletion: %s", e)
		}
	}
	readings := rows(t, filepath.Join(d.data, "readings.db"))
	if len(readings["readings"]) != 0 || len(readings["sources"]) != 0 {
		t.Errorf("readings left: %v", readings)
	}
	outbox := rows(t, filepath.Join(d.data, "outbox.db"))
	if len(outbox["items"]) != 0 {
		t.Errorf("queued items left: %v", outbox["items"])
	}
	// Byte by byte: nothing that identified the users, their sensors or their
	// choices is left in any file, free pages and logs included.
	for name, raw := range after {
		for _, private := range []string{member, s.Sensor.ID, "Bedroom window", sensorOwnerPassword, "127.0.0.1"} {
			if bytes.Contains(raw, []byte(private)) {
				t.Errorf("%s still contains %q", name, private)
			}
		}
	}
	// Every file left is one the inventory declares.
	for name := range after {
		if !declared(name) {
			t.Errorf("%s is stored but the privacy inventory does not list it", name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok && name != privacy.ErasureFile && !strings.HasPrefix(name, "crash"+string(filepath.Separator)) {
			t.Errorf("%s appeared with the deletion", name)
		}
	}
	// The device works as on the first day: the label password, to be changed.
	d.start(bin.hearthd, "--cloud-url", cloudURL(cloudAddr))
	c2 := d.client()
	if r := d.login(c2, member, memberPassword); r.status != 401 {
		t.Fatalf("the deleted member signs in: %v", r)
	}
	if r := d.login(c2, "owner", d.label["default_password"]); r.status != 200 {
		t.Fatalf("label password after the deletion: %v", r)
	}
	if r := d.call(c2, "GET", "/api/v1/sensors", nil); r.code() != "password_change_required" {
		t.Fatalf("factory owner not asked to change the password: %v", r)
	}
}

// vendorKinds counts the documents the vendor stored by kind, checking each against the
// inventory: every stored line that is a document ({"kind":..., "doc":{...}}) must be of
// a kind the inventory lists and carry only the fields it lists.
func vendorKinds(t *testing.T, vendor string) map[string]int {
	t.Helper()
	kinds := map[string]int{}
	filepath.WalkDir(vendor, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		raw, _ := os.ReadFile(path)
		for _, line := range bytes.Split(raw, []byte("\n")) {
			var rec struct {
				Kind string          `json:"kind"`
				Doc  json.RawMessage `json:"doc"`
			}
			if json.Unmarshal(line, &rec) != nil || rec.Kind == "" || len(rec.Doc) == 0 {
				continue
			}
			kinds[rec.Kind]++
			if err := privacy.CheckFields(rec.Kind, rec.Doc); err != nil {
				t.Errorf("the vendor holds a document the inventory does not describe: %v", err)
			}
		}
		return nil
	})
	return kinds
}

// declared reports whether a data-directory file ("name") or table ("file.db:table") is
// listed in the inventory's Stores (a file, a directory prefix, a database file with its
// WAL and shared memory, or a table).
func declared(name string) bool {
	name = filepath.ToSlash(name)
	for _, c := range privacy.Inventory {
		for _, s := range c.Stores {
			if strings.Contains(name, ":") {
				if name == s {
					return true
				}
				continue
			}
			file, _, _ := strings.Cut(s, ":")
			if name == file || strings.HasPrefix(name, file+"/") || name == file+"-wal" || name == file+"-shm" {
				return true
			}
		}
	}
	return false
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// outboxStream is the device's pseudonym at the vendor: its outbox's stream id.
func outboxStream(t *testing.T, data string) string {
	t.Helper()
	for _, m := range rows(t, filepath.Join(data, "outbox.db"))["meta"] {
		var kv []string
		if json.Unmarshal([]byte(m), &kv) == nil && len(kv) == 2 && kv[0] == "stream" {
			return kv[1]
		}
	}
	t.Fatal("no stream in outbox.db")
	return ""
}

// fillReadings stores n readings of a sensor straight into the stopped device's
// readings database, as months of use would.
func (d *device) fillReadings(sensor string, n int) {
	d.t.Helper()
	r, err := sqlite.OpenReadings(d.t.Context(), filepath.Join(d.data, "readings.db"))
	if err != nil {
		d.t.Fatal(err)
	}
	defer r.Close()
	start := time.Now().Add(-24 * time.Hour)
	batch := make([]sensors.Record, 0, 4096)
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second)
		batch = append(batch, sensors.Record{Sensor: sensor, Reading: sensors.Reading{Kind: sensors.Temperature, Value: 20 + float64(i%50)/10, Time: at}, Received: at})
		if len(batch) == cap(batch) || i == n-1 {
			if err := r.Insert(d.t.Context(), batch); err != nil {
				d.t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// TS-0045 5.7.1.4, 5.6.1.1: a deletion cut off by a power loss (SIGKILL while it runs,
// caught by watching its journal) finishes at the next start, before the gateway
// serves: afterwards no user data is left, as if it had never been interrupted.
func TestErasureSurvivesPowerLoss(t *testing.T) {
	vendor := newVendor(t)
	for attempt := 1; ; attempt++ {
		d := provision(t, vendor)
		d.start(bin.hearthd)
		c := d.ownerClient()
		s := d.pair(c, "Nursery", "HS-TH1")
		if r := d.call(c, "POST", "/api/v1/users", map[string]string{"username": "grandpa-lee", "role": "member"}); r.status != 201 {
			t.Fatalf("add member: %v", r)
		}
		d.stop()
		d.fillReadings(s.Sensor.ID, 200_000)
		d.start(bin.hearthd)
		c = d.client()
		if r := d.login(c, "owner", sensorOwnerPassword); r.status != 200 {
			t.Fatalf("login: %v", r)
		}
		// Ask for the deletion and cut the power as soon as the journal shows it under way.
		go func() {
			body := strings.NewReader(`{"confirm":"delete-all-user-data"}`)
			req, _ := http.NewRequest("POST", d.url()+"/api/v1/privacy/erasure", body)
			req.Header.Set("Content-Type", "application/json")
			if res, err := c.Do(req); err == nil {
				res.Body.Close()
			}
		}()
		var cut privacy.Erasure
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			// Cut once a part is done and before the last: half-way.
			if j := d.journal(); j.Request != "" && (len(j.Device.Done) > 0 || j.Device.State != privacy.StatePending) {
				if j.Device.State == privacy.StatePending {
					d.cmd.Process.Kill()
					<-d.done
					d.cmd = nil
					cut = d.journal()
				}
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
		if cut.Request == "" || cut.Device.State != privacy.StatePending {
			d.stop()
			if attempt == 3 {
				t.Fatalf("the deletion finished before it could be interrupted, three times: the test proves nothing")
			}
			continue
		}
		t.Logf("attempt %d: power cut after parts %v", attempt, cut.Device.Done)
		// Power back: the deletion finishes before the gateway serves.
		d.start(bin.hearthd)
		if j := d.journal(); j.Device.State != privacy.StateCompleted || j.Request != cut.Request {
			t.Fatalf("after restart the journal says %+v", j)
		}
		c = d.client()
		if r := d.login(c, "owner", sensorOwnerPassword); r.status != 401 {
			t.Fatalf("the owner's chosen password still works: %v", r)
		}
		if r := d.login(c, "owner", d.label["default_password"]); r.status != 200 {
			t.Fatalf("label password: %v", r)
		}
		d.stop()
		db := rows(t, filepath.Join(d.data, "hearthd.db"))
		if len(db["users"]) != 1 || len(db["sensors"]) != 0 || len(db["settings"]) != 0 {
			t.Fatalf("left after the resumed deletion: users %v sensors %v settings %v", db["users"], db["sensors"], db["settings"])
		}
		if rd := rows(t, filepath.Join(d.data, "readings.db")); len(rd["readings"]) != 0 || len(rd["sources"]) != 0 {
			t.Fatalf("%d readings left after the resumed deletion", len(rd["readings"]))
		}
		for name, raw := range dataFiles(t, d.data) {
			for _, private := range []string{"grandpa-lee", s.Sensor.ID, "Nursery"} {
				if bytes.Contains(raw, []byte(private)) {
					t.Errorf("%s still contains %q", name, private)
				}
			}
		}
		return
	}
}

// TS-0045 5.7.1.9, 5.7.1.11: after a crash, a reduced report (function names, no
// values) goes to the vendor only with the owner's consent; without it the crash
// output is deleted at the next start and nothing is sent.
func TestCrashReportsOnlyWithConsent(t *testing.T) {
	cloudAddr := freeAddr(t)
	vendor := newVendor(t)
	startVendor(t, vendor, cloudAddr)
	d := provision(t, vendor)
	crash := func() {
		t.Helper()
		d.cmd.Process.Signal(syscall.SIGQUIT) // the runtime dumps its stacks and exits
		<-d.done
		d.cmd = nil
	}
	crashFiles := func() int {
		n := 0
		entries, _ := os.ReadDir(filepath.Join(d.data, "crash"))
		for _, e := range entries {
			if info, err := e.Info(); err == nil && info.Size() > 0 {
				n++
			}
		}
		return n
	}
	d.start(bin.hearthd, "--cloud-url", cloudURL(cloudAddr))
	c := d.ownerClient()
	crash()
	if crashFiles() != 1 {
		t.Fatalf("%d crash outputs kept, want 1", crashFiles())
	}
	d.start(bin.hearthd, "--cloud-url", cloudURL(cloudAddr))
	time.Sleep(3 * time.Second)
	if n := vendorCount(t, vendor, `"reason"`); n != 0 || crashFiles() != 0 {
		t.Fatalf("without consent: %d reports at the vendor, %d crash outputs left", n, crashFiles())
	}
	c = d.client()
	if r := d.login(c, "owner", sensorOwnerPassword); r.status != 200 {
		t.Fatalf("login: %v", r)
	}
	if n := d.eventCount(c, "gateway.crashed"); n != 1 {
		t.Fatalf("%d crash events", n)
	}
	d.setConsents(c, map[string]bool{"crash_reports": true})
	crash()
	d.start(bin.hearthd, "--cloud-url", cloudURL(cloudAddr))
	waitUntil(t, 20*time.Second, "the crash report reaches the vendor", func() bool { return vendorCount(t, vendor, `"reason":"signal"`) == 1 })
	for _, leak := range []string{"0x", "/usr/", ".go:", "goroutine"} {
		if n := vendorCount(t, vendor, leak); n != 0 {
			t.Errorf("the crash report carries %q", leak)
		}
	}
	if crashFiles() != 0 {
		t.Fatal("crash output left after it was reported")
	}
}
