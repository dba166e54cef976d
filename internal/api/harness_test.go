package api_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"hearth/internal/privacy"
	"hearth/internal/privacy/privacytest"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"hearth/internal/api"
	"hearth/internal/auth"
	"hearth/internal/sensors"
	"hearth/internal/sensors/sensorstest"
	"hearth/internal/settings"
	"hearth/internal/store/sqlite"
)

// labelPassword is this test run's label password, generated afresh: no credential is committed.
var labelPassword = mustGeneratePassword()

const ownerPassword = "a long garden secret"

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a running API on a TLS test server with a provisioned owner.
type env struct {
	t       *testing.T
	srv     *httptest.Server
	clk     *clock
	router  routers.Router
	sensors *sensors.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hearthd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{now: time.Now()}
	hasher := auth.Hasher{Iterations: auth.MinIterations}
	hash, _ := hasher.Hash(labelPassword)
	svc, err := auth.New(auth.Config{Hasher: hasher, Now: clk.Now, DefaultPasswordHash: hash, DeviceWords: []string{"HG-100"}}, db, &sqlite.EventLog{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.EnsureOwner(ctx, "owner", hash); err != nil {
		t.Fatal(err)
	}
	sens := sensorstest.Run(t, sensors.Config{Store: db, Events: &sqlite.EventLog{DB: db}, Now: clk.Now})
	consents, eraser := privacytest.Services(t, privacytest.Setup{Store: db, Authz: svc, Events: &sqlite.EventLog{DB: db}, Now: clk.Now,
		Parts:   []privacy.Part{{Name: "sensors", Erase: sens.EraseAll}, {Name: "database", Erase: db.EraseUserData}},
		Restore: func(ctx context.Context) error { return svc.EnsureOwner(ctx, "owner", hash) }})
	s, err := api.New(api.Config{Auth: svc, Consents: consents, Eraser: eraser, Sensors: sens, SensorsAddr: func() string { return "127.0.0.1:8883" }, Settings: settings.New(db, svc, &sqlite.EventLog{DB: db}, clk.Now), Events: &sqlite.EventLog{DB: db}, Now: clk.Now, Device: api.Device{
		Vendor: "Hearth Labs", Model: "HG-100", Name: "Hearth Gateway", Serial: "HRT-AB12-CD34",
		FirmwareVersion: "1.0.0", SupportEnd: "2031-05-01", FIPSMode: true, CryptoModule: "v1.0.0",
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.StartTLS()
	t.Cleanup(srv.Close)
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIYAML)
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: srv.URL + "/api/v1"}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, clk: clk, router: router, sensors: sens}
}

// client is a browser-like client with its own cookie jar.
type client struct {
	e      *env
	hc     *http.Client
	bearer string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	hc := *e.srv.Client() // a copy: each client has its own cookie jar
	hc.Jar = jar
	hc.Transport.(*http.Transport).TLSClientConfig.MinVersion = tls.VersionTLS12
	return &client{e: e, hc: &hc}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) code() string {
	var b struct{ Error string }
	json.Unmarshal(r.body, &b)
	return b.Error
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request; body may be a string (sent as is) or a value (sent as JSON). Every
// response to a documented operation is checked against openapi.yaml.
func (c *client) do(method, path string, body any, hdr ...string) resp {
	c.e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, c.e.srv.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, body: b}
	c.e.checkResponse(req, out)
	return out
}

// checkResponse validates a response against the document when its operation exists.
func (e *env) checkResponse(req *http.Request, r resp) {
	e.t.Helper()
	route, params, err := e.router.FindRoute(req)
	if err != nil {
		return // undocumented path: the caller asserts the status
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:                 r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		e.t.Errorf("%s %s -> %d %s: response does not match openapi.yaml: %v", req.Method, req.URL.Path, r.status, r.body, err)
	}
}

func (c *client) login(user, pw string) resp {
	c.e.t.Helper()
	return c.do("POST", "/api/v1/session", map[string]string{"username": user, "password": pw})
}

// owner returns a client signed in as the owner with the default password replaced.
func (e *env) owner() *client {
	e.t.Helper()
	c := e.client()
	if r := c.login("owner", labelPassword); r.status != 200 {
		e.t.Fatalf("login: %d %s", r.status, r.body)
	}
	if r := c.do("POST", "/api/v1/account/password", map[string]string{"current_password": labelPassword, "new_password": ownerPassword}); r.status != 204 {
		e.t.Fatalf("change password: %d %s", r.status, r.body)
	}
	return c
}

func mustGeneratePassword() string {
	p, err := auth.GeneratePassword(nil)
	if err != nil {
		panic(err)
	}
	return p
}
