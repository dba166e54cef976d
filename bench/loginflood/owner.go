package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"hearth/bench/internal/rig"
)

// ownerKind is one kind of client the owner signs in from.
type ownerKind struct {
	name string
	// returning clients present the __Host-device cookie of their previous login.
	returning bool
	// net is the third octet of the kind's source addresses, 127.0.net.1 upwards.
	net byte
}

// kinds are measured side by side.
var kinds = [2]ownerKind{
	{name: "returning (device cookie)", returning: true, net: 1},
	{name: "fresh (no cookie)", returning: false, net: 2},
}

// ownerAddr is the i-th source address of kind k.
func ownerAddr(k ownerKind, i int) netip.Addr { return rig.Loopback(0, k.net, byte(i%254+1)) }

// ownerResult is the outcome of a series of owner logins.
type ownerResult struct {
	// ok holds the latency of each successful login; handshake and server split it into
	// the TCP and TLS handshake and the time from the request written to the first byte
	// of the response (the server's work, including any wait for a hashing slot).
	ok, handshake, server []time.Duration
	// failed counts unsuccessful logins by outcome ("429 rate_limited", "error: timeout").
	failed map[string]int
	// notable lists failed logins and those slower than slowLogin, with when they started
	// relative to the start of the series: "+0.4 s: 503 busy".
	notable []string
}

// slowLogin is the owner login latency goal; slower logins are listed as notable.
const slowLogin = time.Second

func (r ownerResult) attempts() int {
	n := len(r.ok)
	for _, v := range r.failed {
		n += v
	}
	return n
}

func (r ownerResult) failures() int { return r.attempts() - len(r.ok) }

// prober signs the owner in, one login at a time, each over a new TCP and TLS connection
// as a browser coming back after a while would.
type prober struct {
	kind     ownerKind
	target   rig.Target
	user     string
	password string
	// jar is the returning client's cookie jar; fresh clients get a new one per login.
	jar     http.CookieJar
	sources int
	next    int
}

// login performs one login and records it in r; t0 is the start of the series.
func (p *prober) login(ctx context.Context, r *ownerResult, t0 time.Time) {
	src := ownerAddr(p.kind, p.next%p.sources)
	p.next++
	tr, err := p.target.Transport(src, rig.Conns{})
	if err != nil {
		r.failed["error: "+err.Error()]++
		return
	}
	defer tr.CloseIdleConnections()
	jar := p.jar
	if !p.kind.returning {
		jar = rig.NewJar()
	} else if !hasCookie(jar, p.target.URL("/"), deviceCookie) {
		r.failed["no device cookie to present"]++
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tm := &timing{start: time.Now()}
	ctx = httptrace.WithClientTrace(ctx, tm.trace())
	reply, err := rig.Login(ctx, rig.Client(tr, jar), p.target, p.user, p.password)
	took := time.Since(tm.start)
	handshake, server := tm.split()
	at := fmt.Sprintf("+%.1f s: ", tm.start.Sub(t0).Seconds())
	switch {
	case err != nil:
		r.failed[errOutcome(err)]++
		r.notable = append(r.notable, at+errOutcome(err))
	case reply.Status != http.StatusOK:
		r.failed[reply.Outcome()]++
		r.notable = append(r.notable, at+reply.Outcome())
	default:
		r.ok = append(r.ok, took)
		r.handshake = append(r.handshake, handshake)
		r.server = append(r.server, server)
		if took > slowLogin {
			r.notable = append(r.notable, at+took.Round(time.Millisecond).String())
		}
	}
}

// timing records the phases of one request. The trace hooks run on the transport's
// goroutines, hence the mutex.
type timing struct {
	start time.Time // set before the request, read-only after

	mu                        sync.Mutex
	tlsDone, wrote, firstByte time.Time
}

func (t *timing) trace() *httptrace.ClientTrace {
	set := func(p *time.Time) {
		t.mu.Lock()
		defer t.mu.Unlock()
		*p = time.Now()
	}
	return &httptrace.ClientTrace{
		TLSHandshakeDone:     func(tls.ConnectionState, error) { set(&t.tlsDone) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { set(&t.wrote) },
		GotFirstResponseByte: func() { set(&t.firstByte) },
	}
}

// split returns the TCP+TLS handshake time and the time from request written to first
// response byte.
func (t *timing) split() (handshake, server time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tlsDone.Sub(t.start), t.firstByte.Sub(t.wrote)
}

// probe signs the owner in with each prober in turn, one login at a time: hearthd
// serialises the logins of one account, so overlapping logins would measure each other.
// A login starts every every/len(ps) (later if the previous one is still running) until
// stop is closed or each prober has done limit logins (0: no limit).
func probe(ctx context.Context, ps []*prober, stop <-chan struct{}, every time.Duration, limit int) []ownerResult {
	out := make([]ownerResult, len(ps))
	for i := range out {
		out[i].failed = map[string]int{}
	}
	t0 := time.Now()
	t := time.NewTicker(every / time.Duration(len(ps)))
	defer t.Stop()
	for i := 0; limit == 0 || i < limit*len(ps); i++ {
		ps[i%len(ps)].login(ctx, &out[i%len(ps)], t0)
		select {
		case <-ctx.Done():
			return out
		case <-stop:
			return out
		case <-t.C:
		}
	}
	return out
}

// deviceCookie is the trusted-client cookie a returning client presents.
const deviceCookie = "__Host-device"

func hasCookie(jar http.CookieJar, rawURL, name string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	for _, c := range jar.Cookies(u) {
		if c.Name == name {
			return true
		}
	}
	return false
}
