package release

// SetMaxTargetsSize lowers the targets metadata size limit for a test; the returned
// function restores it.
func SetMaxTargetsSize(n int) (restore func()) {
	old := maxSize["targets.json"]
	maxSize["targets.json"] = n
	return func() { maxSize["targets.json"] = old }
}
