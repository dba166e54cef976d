package compliance

import (
	"slices"

	"hearth/internal/standard"
)

// Declaration is Hearth's statement on one of the thirteen conditions printed
// above Table 1.
type Declaration struct {
	Condition standard.Condition
	Met       bool
	Reason    string // one line of English
}

// declared is Hearth's declaration, one entry per condition in order.
var declared = [...]Declaration{
	{1, true, "Owners and members sign in to the gateway with passwords."},
	{2, true, "Each gateway ships with its own default password printed on its label."},
	{3, true, "The constrained sensors the gateway manages cannot be updated."},
	{4, true, "Constrained sensors are part of the system."},
	{5, true, "The gateway itself is not a constrained device."},
	{6, true, "The gateway offers optional telemetry, off by default."},
	{7, true, "Personal data is processed on the basis of the user's consent."},
	{8, true, "The gateway authenticates its users."},
	{9, true, "The gateway updates automatically and notifies users of updates."},
	{10, true, "Each gateway has a unique identity bound to a vendor-signed certificate."},
	{11, true, "Updates are delivered over the network."},
	{12, true, "The gateway has an update mechanism."},
	{13, false, "No debug interface is reachable by physical access; none exists."},
}

// Declared returns Hearth's declaration for each of the thirteen conditions, in
// order. The result is a copy that the caller may modify.
func Declared() []Declaration {
	return slices.Clone(declared[:])
}

// Met returns the set of conditions the declarations say are met, the form
// standard.Item.Applicability takes.
func Met(ds []Declaration) map[standard.Condition]bool {
	met := make(map[standard.Condition]bool, len(ds))
	for _, d := range ds {
		if d.Met {
			met[d.Condition] = true
		}
	}
	return met
}
