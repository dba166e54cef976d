package events

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"
)

// The security event log is tamper-evident: every stored entry carries the SHA-256 of
// the previous entry's hash and its own content (a hash chain), and the device signs
// the chain's head with its identity key, periodically and in every export. Editing,
// deleting, inserting or reordering an entry changes every hash after it, and moving
// the head needs the device's key, so an exported log is verified offline with the
// vendor's root certificate alone (`ts0045 verify-events`).
//
// TS-0045 5.8.1.1: tampering with the record of security events is detectable.

// HashSize is the size of an entry hash.
const HashSize = sha256.Size

// ChainHash is the hash of event e (whose ID is set) following the entry whose hash is
// prev (all zeros for the first entry ever): SHA-256 over a domain label, prev and every
// field, each length-prefixed, so no two different entries encode alike.
func ChainHash(prev []byte, e Event) []byte {
	h := sha256.New()
	h.Write([]byte("hearth-event-v1\x00"))
	field(h, prev)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.ID))
	h.Write(n[:])
	var nanos int64
	if !e.Time.IsZero() {
		nanos = e.Time.UnixNano()
	}
	binary.BigEndian.PutUint64(n[:], uint64(nanos))
	h.Write(n[:])
	for _, s := range []string{string(e.Kind), string(e.Severity), e.User, e.Remote, e.Detail} {
		field(h, []byte(s))
	}
	binary.BigEndian.PutUint64(n[:], uint64(len(e.Args)))
	h.Write(n[:])
	for _, a := range e.Args {
		field(h, []byte(a))
	}
	return h.Sum(nil)
}

func field(w io.Writer, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	w.Write(n[:])
	w.Write(b)
}

// ExportFormat names the export's format.
const ExportFormat = "hearth-events-v1"

// Export is a signed copy of the event log for offline verification.
type Export struct {
	Format string `json:"format"`
	// Serial is the device's serial number; Certificates its identity chain (PEM, leaf
	// first), which must chain to the vendor root.
	Serial       string   `json:"serial"`
	Certificates []string `json:"certificates"`
	// Entries are the events oldest first, each with its chain hashes.
	Entries []Entry `json:"entries"`
	// Heads are heads the device signed while the entries were logged.
	Heads []Head `json:"heads,omitempty"`
	// Final is the head signed at export time: it fixes the first and last entry, so
	// cutting entries off either end is detected too.
	Final Head `json:"final"`
}

// Entry is one exported event with its place in the chain.
type Entry struct {
	Event
	Prev string `json:"prev"` // hex
	Hash string `json:"hash"` // hex
}

// Head is a signed statement about the chain: the entries FirstID..LastID, the hash
// before the first (FirstPrev) and the last entry's hash. The signature is ECDSA with
// SHA-256 (ASN.1, base64) by the device's identity key over Statement().
type Head struct {
	FirstID   int64     `json:"first_id"`
	FirstPrev string    `json:"first_prev"`
	LastID    int64     `json:"last_id"`
	LastHash  string    `json:"last_hash"`
	Count     int64     `json:"count"`
	Time      time.Time `json:"time"`
	Signature string    `json:"signature"`
}

// Statement is the exact bytes a head's signature covers.
func (h Head) Statement() []byte {
	return fmt.Appendf(nil, "hearth-event-head-v1\nfirst=%d\nfirst_prev=%s\nlast=%d\nlast_hash=%s\ncount=%d\ntime=%s\n",
		h.FirstID, h.FirstPrev, h.LastID, h.LastHash, h.Count, h.Time.UTC().Format(time.RFC3339Nano))
}

// Sign sets h's signature by key.
func (h *Head) Sign(key crypto.Signer) error {
	sum := sha256.Sum256(h.Statement())
	sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("sign event head: %w", err)
	}
	h.Signature = base64.StdEncoding.EncodeToString(sig)
	return nil
}

// ErrTampered is wrapped by every verification failure that shows the log was altered.
var ErrTampered = errors.New("event log does not verify")

// Verified is what a successful verification established.
type Verified struct {
	Serial          string
	Entries         int
	FirstID, LastID int64
	SignedHeads     int // periodic heads that matched entries of the export
	ExportedAt      time.Time
}

// maxExport bounds what ParseExport reads.
const maxExport = 256 << 20

// ParseExport decodes an export strictly (no unknown fields, nothing after it).
func ParseExport(r io.Reader) (Export, error) {
	var x Export
	dec := json.NewDecoder(io.LimitReader(r, maxExport))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&x); err != nil {
		return x, fmt.Errorf("event export: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return x, errors.New("event export: data after the export")
	}
	if x.Format != ExportFormat {
		return x, fmt.Errorf("event export: format %q, want %q", x.Format, ExportFormat)
	}
	return x, nil
}

// Verify checks an export: the identity certificate chains to roots (nil: the
// certificates are not checked against a root, only used), the final head is signed by
// it and covers exactly the entries, every entry's hash follows from the one before,
// and every periodic head that falls within the entries matches them.
func Verify(x Export, roots *x509.CertPool, now time.Time) (Verified, error) {
	var v Verified
	leaf, err := x.leaf(roots, now)
	if err != nil {
		return v, err
	}
	if x.Serial != leaf.Subject.SerialNumber {
		return v, fmt.Errorf("%w: export names serial %q, certificate %q", ErrTampered, x.Serial, leaf.Subject.SerialNumber)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return v, errors.New("event export: identity key is not ECDSA")
	}
	if err := verifyHead(pub, x.Final); err != nil {
		return v, fmt.Errorf("%w: final head: %v", ErrTampered, err)
	}
	if int64(len(x.Entries)) != x.Final.Count {
		return v, fmt.Errorf("%w: %d entries, the signed head says %d", ErrTampered, len(x.Entries), x.Final.Count)
	}
	hashes := map[int64]string{}
	prev := x.Final.FirstPrev
	lastID := int64(0)
	for i, en := range x.Entries {
		if i == 0 && en.ID != x.Final.FirstID {
			return v, fmt.Errorf("%w: first entry is %d, the signed head says %d", ErrTampered, en.ID, x.Final.FirstID)
		}
		if en.ID <= lastID {
			return v, fmt.Errorf("%w: entry %d comes after entry %d", ErrTampered, en.ID, lastID)
		}
		if en.Prev != prev {
			return v, fmt.Errorf("%w: entry %d does not follow the entry before it (deleted, inserted or moved)", ErrTampered, en.ID)
		}
		p, err := hex.DecodeString(en.Prev)
		if err != nil || len(p) != HashSize {
			return v, fmt.Errorf("%w: entry %d: malformed previous hash", ErrTampered, en.ID)
		}
		want := hex.EncodeToString(ChainHash(p, en.Event))
		if en.Hash != want {
			return v, fmt.Errorf("%w: entry %d was altered", ErrTampered, en.ID)
		}
		hashes[en.ID] = en.Hash
		prev, lastID = en.Hash, en.ID
	}
	if len(x.Entries) > 0 && (lastID != x.Final.LastID || prev != x.Final.LastHash) {
		return v, fmt.Errorf("%w: last entry is %d, the signed head says %d", ErrTampered, lastID, x.Final.LastID)
	}
	for _, h := range x.Heads {
		if err := verifyHead(pub, h); err != nil {
			return v, fmt.Errorf("%w: head of entry %d: %v", ErrTampered, h.LastID, err)
		}
		if got, ok := hashes[h.LastID]; ok {
			if got != h.LastHash {
				return v, fmt.Errorf("%w: entry %d differs from what the device signed at %s", ErrTampered, h.LastID, h.Time.Format(time.RFC3339))
			}
			v.SignedHeads++
		}
	}
	v.Serial, v.Entries, v.FirstID, v.LastID, v.ExportedAt = x.Serial, len(x.Entries), x.Final.FirstID, x.Final.LastID, x.Final.Time
	return v, nil
}

func verifyHead(pub *ecdsa.PublicKey, h Head) error {
	sig, err := base64.StdEncoding.DecodeString(h.Signature)
	if err != nil {
		return errors.New("malformed signature")
	}
	sum := sha256.Sum256(h.Statement())
	if !ecdsa.VerifyASN1(pub, sum[:], sig) {
		return errors.New("signature does not verify")
	}
	return nil
}

// leaf parses the certificates and, with roots, checks the chain.
func (x Export) leaf(roots *x509.CertPool, now time.Time) (*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, p := range x.Certificates {
		b, _ := pem.Decode([]byte(p))
		if b == nil || b.Type != "CERTIFICATE" {
			return nil, errors.New("event export: malformed certificate")
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("event export: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("event export: no certificate")
	}
	if roots != nil {
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		// The log may be verified long after export: check the chain at the time the
		// device signed it.
		at := x.Final.Time
		if at.IsZero() || at.After(now) {
			at = now
		}
		if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, fmt.Errorf("%w: identity certificate: %v", ErrTampered, err)
		}
	}
	return certs[0], nil
}

// EncodeCertificates returns certs as PEM strings, for Export.Certificates.
func EncodeCertificates(certs []*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		var b bytes.Buffer
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		out = append(out, b.String())
	}
	return out
}
