package standard

import (
	"fmt"
	"slices"
	"strings"
)

// Item is one requirement item (安全要求項目) of the standard.
type Item struct {
	ID       string // "5.1.1.1"
	Aspect   string // aspect id, "5.1"
	AspectZH string // "身分鑑別"
	AspectEN string // "Authentication"
	Group    string // requirement group id, "5.1.1"
	GroupZH  string // "通行碼鑑別"
	GroupEN  string // "Password authentication"
	Level    Level
	// Conditions lists the conditions printed with the level in Table 1; it is
	// empty for unconditional items. MC and RC items always have conditions,
	// and so does 5.3.1.10, which Table 1 prints as M (11, 12).
	Conditions []Condition
	TextZH     string // requirement text of section 5, verbatim
	TextEN     string // English rendering of TextZH
	EN303645   string // ETSI EN 303 645 provision from Annex B, e.g. "5.1-1"
}

// Conditional reports whether the item lists any conditions.
func (it Item) Conditional() bool {
	return len(it.Conditions) > 0
}

// Applicability is how an item applies to a product that meets a given set of
// conditions.
type Applicability string

// The three outcomes of Item.Applicability.
const (
	AppliesMandatory   Applicability = "mandatory"
	AppliesRecommended Applicability = "recommended"
	NotApplicable      Applicability = "not-applicable"
)

// Applicability resolves the item for a product meeting the conditions in met.
// An item without conditions applies at its level. An item with conditions
// applies at its level only when every listed condition is met (RC (9, 12)
// needs both 9 and 12) and is NotApplicable otherwise. A nil met means no
// condition is met.
func (it Item) Applicability(met map[Condition]bool) Applicability {
	for _, c := range it.Conditions {
		if !met[c] {
			return NotApplicable
		}
	}
	if it.Level.Mandatory() {
		return AppliesMandatory
	}
	return AppliesRecommended
}

// Applicable resolves every item for a product meeting the conditions in met,
// keyed by item id.
func Applicable(met map[Condition]bool) map[string]Applicability {
	out := make(map[string]Applicability, len(catalogue))
	for _, it := range catalogue {
		out[it.ID] = it.Applicability(met)
	}
	return out
}

// Items returns all items in document order. The result is a copy that the
// caller may modify.
func Items() []Item {
	out := make([]Item, len(catalogue))
	for i, it := range catalogue {
		out[i] = it.clone()
	}
	return out
}

// Lookup returns the item with the given id, such as "5.3.1.6".
func Lookup(id string) (Item, bool) {
	i, ok := index[id]
	if !ok {
		return Item{}, false
	}
	return catalogue[i].clone(), true
}

func (it Item) clone() Item {
	it.Conditions = slices.Clone(it.Conditions)
	return it
}

var (
	catalogue = mustBuild(items)
	index     = indexByID(catalogue)
)

// mustBuild fills in the aspect and group of every item from its id. The data
// is static, so an inconsistency is a programming error.
func mustBuild(data []Item) []Item {
	out, err := build(data)
	if err != nil {
		panic(err)
	}
	return out
}

func build(data []Item) ([]Item, error) {
	out := make([]Item, len(data))
	for i, it := range data {
		g, err := groupOf(it.ID)
		if err != nil {
			return nil, err
		}
		a, err := aspectOf(g.Aspect)
		if err != nil {
			return nil, err
		}
		it.Aspect, it.AspectZH, it.AspectEN = a.ID, a.NameZH, a.NameEN
		it.Group, it.GroupZH, it.GroupEN = g.ID, g.NameZH, g.NameEN
		out[i] = it
	}
	return out, nil
}

func groupOf(itemID string) (Group, error) {
	cut := strings.LastIndexByte(itemID, '.')
	if cut < 0 {
		return Group{}, fmt.Errorf("item %q: malformed id", itemID)
	}
	for _, g := range groups {
		if g.ID == itemID[:cut] {
			return g, nil
		}
	}
	return Group{}, fmt.Errorf("item %q: no group %q", itemID, itemID[:cut])
}

func aspectOf(id string) (Aspect, error) {
	for _, a := range aspects {
		if a.ID == id {
			return a, nil
		}
	}
	return Aspect{}, fmt.Errorf("no aspect %q", id)
}

func indexByID(items []Item) map[string]int {
	m := make(map[string]int, len(items))
	for i, it := range items {
		m[it.ID] = i
	}
	return m
}
