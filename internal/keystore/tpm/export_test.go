package tpm

// WellFormed reports whether b parses as a sealed-object blob.
func WellFormed(b []byte) bool {
	_, _, err := decodeBlob(b)
	return err == nil
}
