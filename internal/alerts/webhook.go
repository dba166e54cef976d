package alerts

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"hearth/internal/events"
	"hearth/internal/tlspolicy"
)

const maxResponseBytes = 16 << 10

// Payload is the JSON body of a webhook request.
type Payload struct {
	// ID is "<stream>-<alert id>": the same for every retry of one alert, so a receiver
	// can discard duplicates, and not reused after the gateway's queue was wiped.
	ID       string          `json:"id"`
	Time     time.Time       `json:"time"` // the event's
	Kind     events.Kind     `json:"kind"`
	Severity events.Severity `json:"severity"`
	Device   *Device         `json:"device,omitempty"`
	Summary  string          `json:"summary"`
}

// newHTTPClient is the webhook client: TLS under tlspolicy with roots, no proxy from the
// environment, redirects not followed, every phase bounded by timeout.
func newHTTPClient(roots *x509.CertPool, timeout time.Duration) (*http.Client, error) {
	tc, err := tlspolicy.Client(roots, "") // the transport sets the name of each host
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DialContext:            (&net.Dialer{Timeout: timeout}).DialContext,
		TLSClientConfig:        tc,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: maxResponseBytes,
		MaxIdleConns:           4,
		IdleConnTimeout:        time.Minute,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}

// payload builds the webhook body of j.
func (a *Alerter) payload(j job) ([]byte, error) {
	e := j.event
	return json.Marshal(Payload{ID: fmt.Sprintf("%s-%d", a.db.stream, j.alert), Time: e.Time.UTC(), Kind: e.Kind, Severity: e.Severity, Device: a.cfg.Device, Summary: summary(e)})
}

// postWebhook makes one signed request. 2xx is delivered; 4xx other than 408 and 429 is
// a permanent refusal; anything else is retried.
//
// TS-0045 5.8.1.1: the alert reaches the owner's receiver, signed so that it can tell
// the gateway's alerts from forgeries and replays.
func (a *Alerter) postWebhook(ctx context.Context, w WebhookSpec, j job) error {
	// TS-0045 5.4.2.1: checked again at each attempt: only https leaves the gateway
	// unless the insecure switch is set.
	if err := checkWebhookURL(w.URL, w.InsecureAllowHTTP); err != nil {
		return permanent{err}
	}
	body, err := a.payload(j)
	if err != nil {
		return permanent{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return permanent{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hearth-alerts/1")
	req.Header.Set(SignatureHeader, Sign(w.Secret, a.cfg.Now(), body))
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests:
		return permanent{fmt.Errorf("webhook answered %d", c)}
	default:
		return fmt.Errorf("webhook answered %d", c)
	}
}
