package root

// TS-0045 5.5.1.1: at the repository root.
var Boot = true
