package a

// TS-0045 5.3.1.15-14: reversed.
var x = 1
