package vuln

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// PolicyFile is where a vendor may override the policy's contact and public URL (and
// its numbers), under the vendor directory. Without it DefaultPolicy applies.
const PolicyFile = "vulns/policy.json"

// LoadPolicy reads the vendor's policy over DefaultPolicy, strictly (known fields
// only), and validates it.
func LoadPolicy(vendorDir string) (Policy, error) {
	p := DefaultPolicy()
	b, err := os.ReadFile(filepath.Join(vendorDir, PolicyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("vulnerability policy: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("vulnerability policy %s: %w", PolicyFile, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, fmt.Errorf("vulnerability policy %s: data after the object", PolicyFile)
	}
	return p, p.Validate()
}

// Validate checks the policy's numbers, contact and URL.
func (p Policy) Validate() error {
	if p.AckWorkingDays < 1 || p.UpdateDays < 1 || p.DisclosureDays < 1 || p.ExploitedDisclosureDays < 1 ||
		p.ExpiresDays < 1 || p.ExpiresDays > 365 || p.MaxPending < 1 {
		return errors.New("vulnerability policy: days and limits must be positive (expiry at most 365 days)")
	}
	for _, s := range []Severity{Critical, High, Medium, Low, None} {
		if p.FixDays[s] < 1 {
			return fmt.Errorf("vulnerability policy: no fix deadline for %s", s)
		}
	}
	if _, ok := p.FixDays[p.UnscoredSeverity]; !ok {
		return errors.New("vulnerability policy: unknown severity for unscored reports")
	}
	if i := strings.IndexByte(p.Email, '@'); i < 1 || strings.ContainsAny(p.Email, " \r\n<>") {
		return errors.New("vulnerability policy: email is not an address")
	}
	u, err := url.Parse(p.PublicURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.HasSuffix(p.PublicURL, "/") || u.RawQuery != "" {
		return errors.New("vulnerability policy: public_url must be an https base URL without a trailing slash")
	}
	return nil
}

// SecurityTxt renders /.well-known/security.txt (RFC 9116) at now: contacts (e-mail
// and the intake form), an expiry ExpiresDays ahead (under the RFC's one year), the
// policy, the languages and the canonical URL.
//
// TS-0045 5.2.1.1 (a): the contact for reporting vulnerabilities is published where
// researchers look for it.
func (p Policy) SecurityTxt(now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Hearth vulnerability disclosure (TS-0045 5.2.1.1). No account needed to report.\n")
	fmt.Fprintf(&b, "Contact: mailto:%s\n", p.Email)
	fmt.Fprintf(&b, "Contact: %s/security/report\n", p.PublicURL)
	fmt.Fprintf(&b, "Expires: %s\n", now.UTC().Truncate(time.Second).AddDate(0, 0, p.ExpiresDays).Format(time.RFC3339))
	fmt.Fprintf(&b, "Policy: %s/security/policy\n", p.PublicURL)
	fmt.Fprintf(&b, "Preferred-Languages: zh-TW, en\n")
	fmt.Fprintf(&b, "Canonical: %s/.well-known/security.txt\n", p.PublicURL)
	return b.String()
}
