package standard

// Level is the requirement level printed in the third column of Table 1.
type Level string

// The four requirement levels of TS-0045.
const (
	// Mandatory (M) items are required of every product.
	Mandatory Level = "M"
	// Recommended (R) items are advised for every product.
	Recommended Level = "R"
	// MandatoryConditional (MC) items are required when their conditions hold.
	MandatoryConditional Level = "MC"
	// RecommendedConditional (RC) items are advised when their conditions hold.
	RecommendedConditional Level = "RC"
)

// Mandatory reports whether the level is M or MC.
func (l Level) Mandatory() bool {
	return l == Mandatory || l == MandatoryConditional
}

// Valid reports whether l is one of the four levels defined by the standard.
func (l Level) Valid() bool {
	switch l {
	case Mandatory, Recommended, MandatoryConditional, RecommendedConditional:
		return true
	}
	return false
}
