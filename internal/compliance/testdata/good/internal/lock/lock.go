// Package lock is a fixture for the clause tag scanner.
//
// TS-0045 5.1.2.2: lock after 5 failures (EN 303 645 5.1-5).
package lock

// TS-0045 5.1.1.1, 5.1.1.2: a comma list.
const defaults = "TS-0045 5.2.1.1 in a string is not a tag"

// A list that wraps (TS-0045 5.4.2.1,
// 5.4.2.6) and a range written short, TS-0045 5.3.1.14-15.
var wrapped = 1

/*
Block comment.
TS-0045 5.3.1.14-5.3.1.15: a range written in full.
*/
var block = 2

// TS-0045 3.17, 5.4.2: clause references cite no item. TS-0045 v1.0:2021 is no tag.
func Lock() {
	// TS-0045 5.1.2.2: inside a function.
	_ = defaults
}
