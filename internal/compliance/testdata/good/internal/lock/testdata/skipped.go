package skipped

// TS-0045 5.2.1.1, 5.9.9.9: never scanned.
var skipped = 1
