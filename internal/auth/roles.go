package auth

import (
	"fmt"
	"strings"
)

// Role is an account's role. Hearth has two: the owner administers the device and its
// accounts; a member uses the device.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleMember Role = "member"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleMember }

// Permission is one thing a user can be allowed to do.
type Permission string

// Permissions, one per function of the REST API and web UI.
const (
	PermViewDevice     Permission = "device.view"
	PermOwnSession     Permission = "session.own"
	PermChangePassword Permission = "password.change-own"
	PermOwnTokens      Permission = "tokens.own"
	PermViewAPI        Permission = "api.describe"
	PermManageUsers    Permission = "users.manage"
	PermUnlockUsers    Permission = "users.unlock"
	PermViewEvents     Permission = "events.view"
	PermViewSettings   Permission = "settings.view"
	PermChangeSettings Permission = "settings.change"
	PermCheckUpdates   Permission = "updates.check"
	PermInstallUpdates Permission = "updates.install"
	PermViewSensors    Permission = "sensors.view"
	PermManageSensors  Permission = "sensors.manage"
	PermManageConsent  Permission = "privacy.consent"
	PermEraseData      Permission = "privacy.erase"
)

// PrivilegeRow is one line of the privilege table.
type PrivilegeRow struct {
	Permission  Permission
	Description string
	Roles       []Role
	// Reauth is true when the operation changes security settings and needs a recent
	// password entry.
	Reauth bool
}

// Privileges is the written privilege table: who may do what. docs/SECURITY-MODEL.md
// shows this table and a test keeps the two equal.
//
// TS-0045 5.2.2.7: privileges follow least privilege and separation of duty; members
// cannot administer accounts or read the security log. TS-0045 5.4.2.5: every change to
// a security setting is authenticated, most with a fresh password entry.
var Privileges = []PrivilegeRow{
	{PermViewDevice, "see model, name, serial, firmware version and support period", []Role{RoleOwner, RoleMember}, false},
	{PermOwnSession, "see and end own sessions, sign out everywhere", []Role{RoleOwner, RoleMember}, false},
	{PermChangePassword, "change own password (current password required)", []Role{RoleOwner, RoleMember}, true},
	{PermOwnTokens, "create API tokens for apps (listed and revoked with session.own)", []Role{RoleOwner, RoleMember}, true},
	{PermViewAPI, "read the API description", []Role{RoleOwner, RoleMember}, false},
	{PermManageUsers, "add and remove accounts, reset their passwords", []Role{RoleOwner}, true},
	{PermUnlockUsers, "see lockouts and unlock a locked account", []Role{RoleOwner}, false},
	{PermViewEvents, "read the security event log", []Role{RoleOwner}, false},
	{PermViewSettings, "see the security settings and the security posture", []Role{RoleOwner, RoleMember}, false},
	{PermChangeSettings, "change security settings (updates, notifications)", []Role{RoleOwner}, true},
	{PermCheckUpdates, "check for updates now", []Role{RoleOwner}, false},
	{PermInstallUpdates, "install an update now, or from a file", []Role{RoleOwner}, true},
	{PermViewSensors, "see paired sensors, what they sense and their readings", []Role{RoleOwner, RoleMember}, false},
	{PermManageSensors, "pair, quarantine, release, replace and remove sensors", []Role{RoleOwner}, true},
	{PermManageConsent, "give and withdraw consent to telemetry, crash reports and cloud backup", []Role{RoleOwner}, true},
	{PermEraseData, "delete all user data on the device and at the vendor (factory reset)", []Role{RoleOwner}, true},
}

// Allowed reports whether role r holds permission p.
func Allowed(r Role, p Permission) bool {
	for _, row := range Privileges {
		if row.Permission != p {
			continue
		}
		for _, x := range row.Roles {
			if x == r {
				return true
			}
		}
	}
	return false
}

// NeedsReauth reports whether p requires a recent password entry.
func NeedsReauth(p Permission) bool {
	for _, row := range Privileges {
		if row.Permission == p {
			return row.Reauth
		}
	}
	return true
}

// PrivilegeTableMarkdown renders Privileges as the Markdown table kept in
// docs/SECURITY-MODEL.md.
func PrivilegeTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| permission | what it allows | owner | member | needs recent password |\n|---|---|---|---|---|\n")
	mark := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "no"
	}
	for _, row := range Privileges {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", row.Permission, row.Description,
			mark(Allowed(RoleOwner, row.Permission)), mark(Allowed(RoleMember, row.Permission)), mark(row.Reauth))
	}
	return b.String()
}
