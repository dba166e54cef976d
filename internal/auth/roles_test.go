package auth

import (
	"os"
	"strings"
	"testing"
)

// TS-0045 5.2.2.7: the written privilege table is the enforced one.
func TestPrivilegeTableDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/SECURITY-MODEL.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), PrivilegeTableMarkdown()) {
		t.Fatalf("docs/SECURITY-MODEL.md does not contain the privilege table enforced in code; paste:\n%s", PrivilegeTableMarkdown())
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
