package privacy

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzParseConsentDoc: the vendor's parser of consent documents accepts only what it
// documents, and what it accepts survives a round trip.
func FuzzParseConsentDoc(f *testing.F) {
	f.Add([]byte(`{"purpose":"telemetry","granted":true,"version":"1","time":"2026-11-27T10:30:00Z"}`))
	f.Add([]byte(`{"purpose":"crash_reports","granted":false,"version":"2.1-a","time":"2026-11-27T10:30:00+08:00"}`))
	f.Add([]byte(`{"purpose":"advertising","granted":true,"version":"1","time":"2026-11-27T10:30:00Z"}`))
	f.Add([]byte(`{"purpose":"telemetry","granted":true,"version":"<script>","time":"x"}`))
	f.Add([]byte(`{"purpose":"telemetry","granted":true,"version":"1","time":"2026-11-27T10:30:00Z","user":"alice"}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConsentDoc(b)
		if err != nil {
			return
		}
		if !c.Purpose.Valid() || !validVersion(c.Version) {
			t.Fatalf("accepted %+v", c)
		}
		if _, err := time.Parse(time.RFC3339, c.Time); err != nil {
			t.Fatalf("accepted time %q", c.Time)
		}
		again, _ := json.Marshal(c)
		if c2, err := ParseConsentDoc(again); err != nil || c2 != c {
			t.Fatalf("round trip %s: %+v %v", again, c2, err)
		}
	})
}

func FuzzParseEraseRequest(f *testing.F) {
	f.Add([]byte(`{"request":"00112233445566778899aabbccddeeff"}`))
	f.Add([]byte(`{"request":"00112233445566778899AABBCCDDEEFF"}`))
	f.Add([]byte(`{"request":"../../etc/passwd"}`))
	f.Add([]byte(`{"request":"00112233445566778899aabbccddeeff","all":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseEraseRequest(b)
		if err != nil {
			return
		}
		if !IsID(r.Request) || strings.ContainsAny(r.Request, "./\\") {
			t.Fatalf("accepted %q", r.Request)
		}
	})
}

// FuzzReduceCrash: whatever the crash output, the report holds only Go symbol names,
// at most maxCrashFunctions of them, and never a line of the output verbatim that is
// not a symbol (a panic message with user data).
func FuzzReduceCrash(f *testing.F) {
	f.Add([]byte(sampleCrash))
	f.Add([]byte("fatal error: concurrent map writes\n\ngoroutine 7 [running]:\ninternal/runtime/maps.fatal({0x1, 0x2})\n"))
	f.Add([]byte("garbage\x00\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := ReduceCrash(b, "1.0.0", time.Unix(0, 0))
		if len(r.Functions) > maxCrashFunctions {
			t.Fatalf("%d functions", len(r.Functions))
		}
		for _, fn := range r.Functions {
			if _, ok := functionName(fn); !ok || fn == "" {
				t.Fatalf("function %q is not a symbol name", fn)
			}
		}
		if r.Reason != "panic" && r.Reason != "fatal error" && r.Reason != "signal" && r.Reason != "unknown" {
			t.Fatalf("reason %q", r.Reason)
		}
		doc, _ := json.Marshal(r)
		if err := CheckFields(KindCrashReport, doc); err != nil {
			t.Fatal(err)
		}
	})
}

const sampleCrash = `panic: user alice@example.com not found in /var/lib/hearth/secret

goroutine 42 [running]:
hearth/internal/web.(*Server).dashboard(0xc000123456, {0x1234, 0xc0001}, 0xc000200000)
	/build/internal/web/pages_dashboard.go:55 +0x1a5
net/http.HandlerFunc.ServeHTTP(...)
	/usr/lib/go/src/net/http/server.go:2294
created by net/http.(*Server).Serve in goroutine 1
	/usr/lib/go/src/net/http/server.go:3454 +0x485

goroutine 1 [IO wait]:
main.main()
`

// TS-0045 5.7.1.11: a crash report keeps the function names and drops the message.
func TestReduceCrash(t *testing.T) {
	r := ReduceCrash([]byte(sampleCrash), "1.2.3", time.Date(2026, 11, 27, 23, 59, 0, 0, time.UTC))
	want := []string{"hearth/internal/web.(*Server).dashboard", "net/http.HandlerFunc.ServeHTTP", "net/http.(*Server).Serve"}
	if r.Reason != "panic" || r.Firmware != "1.2.3" || r.Day != "2026-11-27" || strings.Join(r.Functions, ",") != strings.Join(want, ",") {
		t.Fatalf("report %+v", r)
	}
	doc, _ := json.Marshal(r)
	for _, leak := range []string{"alice", "/var/lib", "0xc000", "pages_dashboard.go", "main.main"} {
		if strings.Contains(string(doc), leak) {
			t.Errorf("report carries %q: %s", leak, doc)
		}
	}
}
