package auth

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the privilege table in docs/SECURITY-MODEL.md")

const (
	tableStart = "<!-- privilege table: generated from internal/auth/roles.go; go test ./internal/auth -run TestPrivilegeTableDocumented -update -->\n"
	tableEnd   = "<!-- end privilege table -->"
)

// TS-0045 5.2.2.7: the written privilege table is the enforced one.
func TestPrivilegeTableDocumented(t *testing.T) {
	const path = "../../docs/SECURITY-MODEL.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(doc), tableStart)
	_, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok1 || !ok2 {
		t.Fatal("docs/SECURITY-MODEL.md lacks the privilege table markers")
	}
	want := before + tableStart + PrivilegeTableMarkdown() + tableEnd + after
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != string(doc) {
		t.Fatal("docs/SECURITY-MODEL.md's privilege table differs from the enforced one; run: go test ./internal/auth -run TestPrivilegeTableDocumented -update")
	}
}

func TestLeastPrivilege(t *testing.T) {
	for _, p := range []Permission{PermManageUsers, PermUnlockUsers, PermViewEvents} {
		if Allowed(RoleMember, p) {
			t.Errorf("members hold %s", p)
		}
		if !Allowed(RoleOwner, p) {
			t.Errorf("owners lack %s", p)
		}
	}
	if Allowed(Role("admin"), PermViewDevice) || Allowed(RoleOwner, Permission("nonexistent")) {
		t.Error("unknown roles or permissions are allowed")
	}
	if !NeedsReauth(PermManageUsers) || NeedsReauth(PermViewDevice) || !NeedsReauth(Permission("unknown")) {
		t.Error("re-authentication table wrong")
	}
}
