package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the HTTP header carrying a webhook request's signature:
//
//	Hearth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
//
// The HMAC key is the webhook's 32 secret bytes (shown to the owner, and stored in the
// settings JSON, as 64 hex digits: decode them, do not key with the hex text).
// A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares
// it in constant time, and refuses a timestamp outside its tolerance (replays). Several
// v1 entries may appear (a receiver accepts any that matches), for key rotation.
const SignatureHeader = "Hearth-Signature"

// Errors returned by Verify and ParseSignature.
var (
	ErrBadSignatureHeader = errors.New("alerts: malformed signature header")
	ErrBadSignature       = errors.New("alerts: signature does not match")
	ErrStaleSignature     = errors.New("alerts: signature timestamp outside tolerance")
)

const (
	maxHeaderLen  = 1024
	maxSignatures = 4
)

// Sign returns the SignatureHeader value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// ParseSignature parses a SignatureHeader value into its timestamp (as sent, in
// decimal) and its v1 signatures. Unknown keys are ignored; exactly one t and 1 to 4 v1
// entries of 32 bytes are required.
func ParseSignature(header string) (ts string, sigs [][]byte, err error) {
	if len(header) > maxHeaderLen {
		return "", nil, ErrBadSignatureHeader
	}
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, ErrBadSignatureHeader
		}
		switch k {
		case "t":
			if ts != "" || !validTimestamp(v) {
				return "", nil, ErrBadSignatureHeader
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size || len(sigs) == maxSignatures {
				return "", nil, ErrBadSignatureHeader
			}
			sigs = append(sigs, sig)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return "", nil, ErrBadSignatureHeader
	}
	return ts, sigs, nil
}

// validTimestamp accepts 1 to 12 decimal digits without a sign or leading zero.
func validTimestamp(v string) bool {
	if len(v) == 0 || len(v) > 12 || (v[0] == '0' && len(v) > 1) {
		return false
	}
	for _, c := range []byte(v) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Verify checks a webhook request: header is its SignatureHeader value, body its raw
// body, now the receiver's clock. It fails unless a v1 signature matches under secret
// and the timestamp is within tolerance of now (either way). Receivers should also
// discard an alert id they have seen.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) < 16 {
		return errors.New("alerts: secret too short")
	}
	ts, sigs, err := ParseSignature(header)
	if err != nil {
		return err
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	sec, _ := strconv.ParseInt(ts, 10, 64)
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStaleSignature
	}
	return nil
}
