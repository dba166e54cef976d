package rig

import (
	"net/netip"
	"os"
	"runtime"
	"testing"
)

func TestReadUsageSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	u, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.RSS <= 0 || u.HWM < u.RSS || u.Anon <= 0 || u.Anon+u.File > u.RSS {
		t.Errorf("implausible usage %+v", u)
	}
}

func TestParseKB(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"\t   1234 kB", 1234 << 10, true},
		{" 0 kB", 0, true},
		{" 12 MB", 0, false},
		{" x kB", 0, false},
	}
	for _, tt := range tests {
		got, err := parseKB(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseKB(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestBuildCommand(t *testing.T) {
	b := Build{Pkg: "./cmd/hearthd", Out: "DIR/hearthd", Release: true}
	want := `CGO_ENABLED=0 GOFIPS140=v1.0.0 go build -o DIR/hearthd -tags release -trimpath -ldflags "-s -w -X hearth/internal/buildinfo.version=1.0.0" ./cmd/hearthd`
	if got := b.Command(); got != want {
		t.Errorf("Command =\n%s\nwant\n%s", got, want)
	}
}

func TestLoopbackOnly(t *testing.T) {
	remote := Target{Addr: netip.MustParseAddrPort("192.0.2.1:443"), ServerName: "localhost"}
	if _, err := remote.Transport(Loopback(0, 0, 2), Conns{}); err == nil {
		t.Error("transport to a non-loopback address was allowed")
	}
	local := Target{Addr: netip.MustParseAddrPort("127.0.0.1:443"), ServerName: "localhost"}
	if _, err := local.Transport(netip.MustParseAddr("192.0.2.2"), Conns{}); err == nil {
		t.Error("transport from a non-loopback address was allowed")
	}
}
