package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Item is one queued document as it is sent.
type Item struct {
	Seq  int64           `json:"seq"`
	Kind string          `json:"kind"`
	Time time.Time       `json:"time"`
	Doc  json.RawMessage `json:"doc"`
}

// Batch is what the cloud receives at POST /v1/telemetry: items in queue order, the
// queue's stream id (sequence numbers are unique within a stream) and the number of
// items dropped for lack of space since the last acknowledged batch.
type Batch struct {
	Stream  string `json:"stream"`
	Items   []Item `json:"items"`
	Dropped int64  `json:"dropped"`
}

// Sender delivers a batch. A nil error means the cloud acknowledged it and the items may
// be removed. An error wrapping ErrRejected means the cloud refused this batch for its
// content and will refuse it again; any other error is transient and the batch is
// retried after a backoff.
type Sender interface {
	Send(ctx context.Context, b Batch) error
}

// ErrRejected marks a permanent refusal of a batch by the cloud.
var ErrRejected = errors.New("batch rejected")

// HTTPSender posts batches as JSON. The client carries the transport's security: the
// gateway passes one whose TLS configuration presents the device's identity certificate
// and trusts only the vendor's roots.
type HTTPSender struct {
	client *http.Client
	url    string
	// Timeout bounds one request, connection to last response byte; zero means 30 s.
	Timeout time.Duration
}

var _ Sender = (*HTTPSender)(nil)

// NewHTTPSender sends to url (the cloud's /v1/telemetry) with a copy of client that
// does not follow redirects: documents go to the configured service or nowhere, and a
// redirect is answered as a transient failure.
func NewHTTPSender(client *http.Client, url string) *HTTPSender {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &HTTPSender{client: &c, url: url}
}

// maxResponse bounds how much of a response is read: enough for an error message.
const maxResponse = 4 << 10

// Send posts b and classifies the answer: 2xx acknowledges; 400, 413, 415, 422 and
// other refusals of the content wrap ErrRejected; 401 and 403 (the certificate is being
// renewed, or the unit awaits re-registration), 408, 429, 5xx and network errors are
// transient, since retrying later may succeed and dropping the batch would lose data.
func (s *HTTPSender) Send(ctx context.Context, b Batch) error {
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("%w: encode: %v", ErrRejected, err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("telemetry request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("telemetry request: %w", err)
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	io.Copy(io.Discard, io.LimitReader(res.Body, maxResponse)) // lets a short tail keep the connection reusable
	return classify(res.StatusCode, msg)
}

func classify(status int, msg []byte) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusUnauthorized, status == http.StatusForbidden,
		status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return fmt.Errorf("telemetry: cloud answered %d: %s", status, summary(msg))
	case status >= 400 && status < 500:
		return fmt.Errorf("%w: cloud answered %d: %s", ErrRejected, status, summary(msg))
	default:
		return fmt.Errorf("telemetry: cloud answered %d: %s", status, summary(msg))
	}
}

// summary makes a response body safe and short for a log line.
func summary(msg []byte) string {
	s := strings.TrimSpace(string(msg))
	if len(s) > 200 {
		s = s[:200]
	}
	return strconv.Quote(s)
}
