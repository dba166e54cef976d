// Package identity is the device's identity as the device sees it: the factory data
// written at provisioning (model, name, serial, support period, owner account), the
// vendor-signed device certificate and the trust anchor it chains to.
//
// At start the gateway loads and cross-checks all of it: the certificate must chain to
// the vendor root, carry the serial, model and name of the factory data, and certify the
// key sealed in this device's keystore. A changed serial, a swapped certificate or key,
// or data copied from another unit is detected and the gateway refuses to start.
//
// The vendor side (certificate authority, provisioning) lives in internal/provision and
// internal/identity/vendorca and is never linked into hearthd.
//
// TS-0045 5.4.1.2, 5.4.1.4, 5.3.1.16.
package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Layout of a device data directory.
const (
	FactoryDir = "factory"
	InfoFile   = "identity.json"
	CertFile   = "device.crt"
	// ServerCertFile is the HTTPS certificate chain: same key, no identifying subject.
	ServerCertFile = "https.crt"
	RootFile       = "vendor-root.crt"
	// KeystoreDir is the sealed keystore; KeyRecord the device identity key in it and
	// DefaultHashRecord the label password's hash.
	KeystoreDir       = "keystore"
	KeyRecord         = "device-identity"
	DefaultHashRecord = "default-password-hash"
)

// Info is the factory description of one device.
type Info struct {
	Vendor string `json:"vendor"`
	Model  string `json:"model"`
	Name   string `json:"name"`
	Serial string `json:"serial"`
	// SupportEnd is the last day (YYYY-MM-DD) the vendor provides security updates.
	SupportEnd     string    `json:"support_end"`
	Username       string    `json:"username"`
	ManufacturedAt time.Time `json:"manufactured_at"`
}

var (
	serialRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{3,31}$`)
	modelRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$`)
	userRE   = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,31}$`)
)

// ErrInvalidInfo wraps every validation failure of factory data.
var ErrInvalidInfo = errors.New("invalid device information")

// Validate checks every field's syntax.
func (i Info) Validate() error {
	bad := func(field, why string) error { return fmt.Errorf("%w: %s %s", ErrInvalidInfo, field, why) }
	switch {
	case !printable(i.Vendor, 64):
		return bad("vendor", "must be 1-64 printable characters")
	case !modelRE.MatchString(i.Model):
		return bad("model", "must be 1-32 letters, digits, spaces, '.', '_' or '-'")
	case !printable(i.Name, 64):
		return bad("name", "must be 1-64 printable characters")
	case !serialRE.MatchString(i.Serial):
		return bad("serial", "must be 4-32 upper-case letters, digits or '-'")
	case !userRE.MatchString(i.Username):
		return bad("username", "must be 3-32 characters a-z, 0-9, '.', '_', '-', starting with a letter")
	}
	if _, err := time.Parse(time.DateOnly, i.SupportEnd); err != nil {
		return bad("support_end", "must be a date YYYY-MM-DD")
	}
	return nil
}

// SupportEndDate returns the end of the support period.
func (i Info) SupportEndDate() time.Time {
	t, _ := time.Parse(time.DateOnly, i.SupportEnd)
	return t
}

func printable(s string, max int) bool {
	if s == "" || len(s) > max*4 || utf8.RuneCountInString(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return strings.TrimSpace(s) == s
}

// ParseInfo decodes and validates factory data, refusing unknown fields and trailing data.
func ParseInfo(data []byte) (Info, error) {
	if len(data) > 16<<10 {
		return Info{}, fmt.Errorf("%w: %d bytes is too large", ErrInvalidInfo, len(data))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var i Info
	if err := dec.Decode(&i); err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrInvalidInfo, err)
	}
	if dec.More() {
		return Info{}, fmt.Errorf("%w: trailing data", ErrInvalidInfo)
	}
	return i, i.Validate()
}
