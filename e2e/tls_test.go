package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

type declaration struct {
	Listeners []struct {
		Name, Protocol string
		Flag           string
		// OpenWhile is empty for a listener that is always open.
		OpenWhile string `json:"open_while"`
	}
	UDPSockets []any `json:"udp_sockets"`
	TLS        struct {
		Versions          []string
		TLS12CipherSuites []string `json:"tls12_cipher_suites"`
	}
	UnauthenticatedOperations []struct{ Method, Path string } `json:"unauthenticated_operations"`
	DisclosedBeforeLogin      []string                        `json:"disclosed_before_login"`
}

func loadDeclaration(t *testing.T) declaration {
	t.Helper()
	raw, err := os.ReadFile("../declaration/hearthd.json")
	if err != nil {
		t.Fatal(err)
	}
	var d declaration
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// sclient runs openssl s_client with args and reports whether a handshake completed.
func sclient(t *testing.T, addr string, args ...string) (bool, string) {
	t.Helper()
	all := append([]string{"s_client", "-connect", addr, "-servername", "localhost", "-brief"}, args...)
	cmd := exec.Command(need(t, "openssl"), all...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	return err == nil && strings.Contains(string(out), "CONNECTION ESTABLISHED"), string(out)
}

// TS-0045 5.4.2.1, 5.1.2.3, 5.7.1.1: openssl s_client cannot negotiate TLS 1.0/1.1, nor any TLS 1.2
// suite outside the declared ECDHE + AES-GCM set. The client side is opened up
// (SECLEVEL=0) so every refusal comes from the gateway.
func TestOpenSSLNegotiatesOnlyDeclaredTLS(t *testing.T) {
	d := provision(t, newVendor(t))
	d.start(bin.hearthd)
	decl := loadDeclaration(t)
	for _, v := range []string{"-tls1", "-tls1_1"} {
		if ok, out := sclient(t, d.addr, v, "-cipher", "ALL:@SECLEVEL=0"); ok {
			t.Errorf("%s negotiated:\n%s", v, out)
		}
	}
	if ok, out := sclient(t, d.addr, "-tls1_3"); !ok {
		t.Errorf("TLS 1.3 refused:\n%s", out)
	}
	list, err := exec.Command(need(t, "openssl"), "ciphers", "-tls1_2", "ALL:COMPLEMENTOFALL:@SECLEVEL=0").Output()
	if err != nil {
		t.Fatal(err)
	}
	var accepted []string
	for _, suite := range strings.Split(strings.TrimSpace(string(list)), ":") {
		if strings.HasPrefix(suite, "TLS_") { // TLS 1.3 names
			continue
		}
		if ok, _ := sclient(t, d.addr, "-tls1_2", "-cipher", suite+":@SECLEVEL=0"); ok {
			accepted = append(accepted, suite)
		}
	}
	slices.Sort(accepted)
	want := slices.Sorted(slices.Values(decl.TLS.TLS12CipherSuites))
	if !slices.Equal(accepted, want) {
		t.Fatalf("TLS 1.2 suites accepted %v, declared %v", accepted, want)
	}
	for _, s := range accepted {
		if !strings.HasPrefix(s, "ECDHE-") || !strings.Contains(s, "GCM") {
			t.Errorf("suite %s lacks forward secrecy or AEAD", s)
		}
	}
}
