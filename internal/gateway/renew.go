package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"hearth/internal/events"
	"hearth/internal/identity"
	"hearth/internal/tlspolicy"
)

// renewer keeps the device's certificates fresh: from two thirds of their validity on it
// asks the vendor's issuing CA, over mutual TLS with the identity certificate, for new
// ones for the same key. Failures back off exponentially with full jitter (so a fleet
// does not retry in step) and, from the third in a row, raise a security event.
//
// Timing counts ticks of a monotonic ticker, not wall-clock deadlines, so a wall clock
// that jumps back or forth can neither stall nor hurry the retries. A wall clock that is
// behind the certificate's issuance is not trusted to say "not yet due": the renewer then
// asks anyway (at most once a day) and lets the vendor's clock decide.
//
// TS-0045 5.4.1.4: the per-device credential for the associated services stays valid.
type renewer struct {
	m      *Main
	base   *url.URL
	client *http.Client
	now    func() time.Time
	// skip is how many more ticks to wait before the next attempt.
	skip, failures int
	// maxSkip caps the backoff, in ticks.
	maxSkip int
}

const (
	renewTick        = time.Minute
	renewMaxBackoff  = 6 * time.Hour
	renewAlarmStreak = 3
	renewClockBehind = 24 * time.Hour
)

func newRenewer(m *Main, cloudURL string, now func() time.Time, tick time.Duration) (*renewer, error) {
	u, client, err := m.vendorClient(cloudURL)
	if err != nil {
		return nil, err
	}
	return &renewer{m: m, base: u, now: now, maxSkip: int(renewMaxBackoff / tick), client: client}, nil
}

// vendorClient is the HTTP client for the vendor services: the vendor root pinned, the
// device's identity certificate presented (read at each handshake, so a renewed one is
// used at once).
func (m *Main) vendorClient(cloudURL string) (*url.URL, *http.Client, error) {
	u, err := url.Parse(cloudURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, nil, fmt.Errorf("gateway: cloud URL must be https://host[:port], got %q", cloudURL)
	}
	tlsCfg, err := tlspolicy.MutualClient(m.identity().Roots, u.Hostname(), func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return m.identity().ClientCertificate(), nil
	})
	if err != nil {
		return nil, nil, err
	}
	// No overall timeout: update downloads are long; requests carry their own contexts
	// and the transport bounds the handshake and the wait for headers.
	return u, &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, TLSHandshakeTimeout: 15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second, IdleConnTimeout: 90 * time.Second}}, nil
}

func (r *renewer) run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	r.tick(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.tick(ctx)
		}
	}
}

// tick decides whether to attempt a renewal now and records the outcome.
func (r *renewer) tick(ctx context.Context) {
	id := r.m.identity()
	now := r.now()
	clockBehind := now.Before(id.Leaf.NotBefore)
	if !clockBehind && now.Before(identity.RenewAt(id.Leaf)) {
		r.failures, r.skip = 0, 0
		return
	}
	if r.skip > 0 {
		r.skip--
		return
	}
	next, err := r.renew(ctx, id)
	if err != nil {
		r.failed(ctx, id, err)
		return
	}
	r.failures, r.skip = 0, 0
	r.m.setIdentity(next)
	r.m.events.Publish(ctx, events.Event{Time: now.UTC(), Kind: events.CertificateRenewed, Severity: events.Info,
		Detail: "valid until " + next.Leaf.NotAfter.UTC().Format(time.DateOnly), Args: []string{next.Leaf.NotAfter.UTC().Format(time.DateOnly)}})
	if clockBehind {
		r.skip = int(renewClockBehind / renewTick)
	}
}

func (r *renewer) failed(ctx context.Context, id *identity.Identity, err error) {
	r.failures++
	ceiling := min(r.maxSkip, 1<<min(r.failures, 20))
	r.skip = rand.IntN(ceiling + 1)
	r.m.log.Warn("certificate renewal failed", "failures", r.failures, "err", err)
	if r.failures >= renewAlarmStreak {
		sev := events.Warning
		if r.now().After(id.Leaf.NotAfter.Add(-7 * 24 * time.Hour)) {
			sev = events.Critical
		}
		r.m.events.Publish(ctx, events.Event{Time: r.now().UTC(), Kind: events.CertificateRenewalFailing, Severity: sev,
			Detail: fmt.Sprintf("%d attempts failed; certificate expires %s: %v", r.failures, id.Leaf.NotAfter.UTC().Format(time.DateOnly), err),
			Args:   []string{strconv.Itoa(r.failures), id.Leaf.NotAfter.UTC().Format(time.DateOnly)}})
	}
}

// renew performs one renewal exchange and adopts its result.
func (r *renewer) renew(ctx context.Context, id *identity.Identity) (*identity.Identity, error) {
	csr, err := id.RenewalRequest()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base.JoinPath("/v1/device/certificate").String(), bytes.NewReader(csr))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/pkcs10")
	ctx2, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := r.client.Do(req.WithContext(ctx2))
	if err != nil {
		return nil, fmt.Errorf("renewal request: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("renewal response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("renewal refused: %s: %.200s", res.Status, body)
	}
	var out struct {
		IdentityChain string `json:"identity_chain"`
		HTTPSChain    string `json:"https_chain"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("renewal response: %w", err)
	}
	return id.Adopt(r.m.cfg.DataDir, []byte(out.IdentityChain), []byte(out.HTTPSChain))
}
