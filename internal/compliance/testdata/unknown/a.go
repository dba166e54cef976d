package a

// TS-0045 5.1.2.9: an item the catalogue lacks.
var x = 1

// TS-0045 5.1.1.1, 5.9: a good item and a section the standard lacks.
var y = 2
