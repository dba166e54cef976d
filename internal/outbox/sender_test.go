package outbox

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHTTPSenderClassifiesAnswers(t *testing.T) {
	var status int
	var got Batch
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" || r.Method != http.MethodPost {
			t.Errorf("%s with %q", r.Method, r.Header.Get("Content-Type"))
		}
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(status)
		// A long body: the sender reads only a bounded prefix of it.
		w.Write([]byte(strings.Repeat("x", 1<<20)))
	}))
	defer srv.Close()
	s := NewHTTPSender(srv.Client(), srv.URL+"/v1/telemetry")
	b := Batch{Stream: "s", Items: []Item{{Seq: 1, Kind: KindTelemetry, Time: time.Unix(0, 0).UTC(), Doc: json.RawMessage(`{}`)}}}
	for _, tc := range []struct {
		status       int
		ok, rejected bool
	}{
		{200, true, false}, {202, true, false},
		{400, false, true}, {413, false, true}, {415, false, true}, {422, false, true},
		{401, false, false}, {403, false, false}, {408, false, false}, {429, false, false},
		{500, false, false}, {503, false, false},
	} {
		status = tc.status
		err := s.Send(t.Context(), b)
		switch {
		case tc.ok && err != nil, !tc.ok && err == nil:
			t.Errorf("%d: %v", tc.status, err)
		case errors.Is(err, ErrRejected) != tc.rejected:
			t.Errorf("%d: rejected=%v: %v", tc.status, !tc.rejected, err)
		case err != nil && len(err.Error()) > 400:
			t.Errorf("%d: error of %d bytes: the response was not bounded", tc.status, len(err.Error()))
		}
	}
	if got.Stream != "s" || len(got.Items) != 1 || got.Items[0].Seq != 1 {
		t.Fatalf("server received %+v", got)
	}
}

func TestHTTPSenderTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := NewHTTPSender(srv.Client(), srv.URL)
	s.Timeout = 50 * time.Millisecond
	start := time.Now()
	err := s.Send(t.Context(), Batch{})
	if err == nil || errors.Is(err, ErrRejected) {
		t.Fatalf("hanging cloud: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Send took %v despite a 50 ms timeout", d)
	}
}
