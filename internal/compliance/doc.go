// Package compliance builds Hearth's TS-0045 compliance matrix, docs/COMPLIANCE.md,
// from three sources: the requirement catalogue of package standard, the
// conditions of Table 1 that Hearth declares it meets (Declared), and the clause
// tags in the repository's Go code.
//
// A clause tag is a comment that starts with the standard's name followed by a
// list of ids, in the form
//
//	TS-0045 <id>[, <id>...]: what the code does
//
// An id is a requirement item such as 5.1.2.2, or a range of items within one
// group written with the last number only (5.3.1.14-15) or in full
// (5.3.1.14-5.3.1.15). A tag in non-test code marks an implementation site,
// recorded as file:line. A tag in a _test.go file marks test evidence: it must sit
// inside, or in the comment directly above, a top-level Test, Fuzz or Benchmark
// function, recorded as dir.TestName. Shorter ids refer to a clause rather than
// an item (3.17, a term; 5.4.2, a group) and cite no item.
//
// Threat model: the matrix is evidence for an assessor, so it must not overstate.
// An id that is not in the catalogue, a malformed range, and a test tag that is
// attached to no test are errors naming file:line, so a typo fails the build
// instead of silently crediting or dropping an item. Applicable items without an
// implementation site are listed in their own section of the matrix. Output is
// deterministic: sorted, without timestamps or absolute paths, so a stale matrix
// shows up as a failing test (TestComplianceMatrixCurrent) and as a reviewable diff.
//
// The package reads files only; it holds no state between calls and is safe for
// concurrent use.
package compliance
