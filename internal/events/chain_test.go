package events_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"hearth/internal/events"
	"hearth/internal/store/sqlite"
)

// device is a test device: an identity key, its certificate under a test root, and an
// event log in a real database.
type device struct {
	key   *ecdsa.PrivateKey
	chain []*x509.Certificate
	roots *x509.CertPool
	db    *sqlite.DB
	log   *sqlite.EventLog
	path  string
}

func newDevice(t testing.TB) *device {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "gateway", SerialNumber: "HRT-TEST-0001"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &key.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	path := filepath.Join(t.TempDir(), "hearthd.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &device{key: key, chain: []*x509.Certificate{leaf}, roots: roots, db: db, log: &sqlite.EventLog{DB: db}, path: path}
}

func (d *device) publish(n int) {
	for i := range n {
		d.log.Publish(context.Background(), events.Event{Time: time.Now().UTC(), Kind: events.LoginFailed, Severity: events.Warning,
			User: "mallory", Remote: "192.0.2.9", Detail: "wrong password", Args: []string{"a", string(rune('a' + i%26))}})
	}
}

func (d *device) export(t testing.TB) events.Export {
	t.Helper()
	x, err := d.log.Export(context.Background(), d.key, "HRT-TEST-0001", d.chain, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// roundTrip sends an export through JSON, as a file would.
func roundTrip(t testing.TB, x events.Export) events.Export {
	t.Helper()
	raw, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	y, err := events.ParseExport(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// TS-0045 5.8.1.1: an export verifies as it is, and any change to its entries is found.
func TestEventExportDetectsTampering(t *testing.T) {
	d := newDevice(t)
	d.publish(20)
	if err := d.log.SignHead(context.Background(), d.key, time.Now()); err != nil {
		t.Fatal(err)
	}
	d.publish(10)
	x := roundTrip(t, d.export(t))
	v, err := events.Verify(x, d.roots, time.Now())
	if err != nil {
		t.Fatalf("untouched export: %v", err)
	}
	if v.Entries != 30 || v.SignedHeads != 1 || v.Serial != "HRT-TEST-0001" {
		t.Fatalf("verified %+v", v)
	}
	tamper := map[string]func(x *events.Export){
		"edit a detail":    func(x *events.Export) { x.Entries[5].Detail = "right password" },
		"edit a user":      func(x *events.Export) { x.Entries[5].User = "alice" },
		"edit a time":      func(x *events.Export) { x.Entries[5].Time = x.Entries[5].Time.Add(time.Second) },
		"edit an argument": func(x *events.Export) { x.Entries[5].Args[1] = "z" },
		"delete an entry":  func(x *events.Export) { x.Entries = slices.Delete(x.Entries, 7, 8); x.Final.Count-- },
		"reorder entries":  func(x *events.Export) { x.Entries[3], x.Entries[4] = x.Entries[4], x.Entries[3] },
		"cut the tail":     func(x *events.Export) { x.Entries = x.Entries[:len(x.Entries)-1] },
		"cut the head":     func(x *events.Export) { x.Entries = x.Entries[1:] },
		"insert an entry": func(x *events.Export) {
			x.Entries = slices.Insert(x.Entries, 2, x.Entries[2])
		},
		"rewrite the chain after an edit": func(x *events.Export) {
			// An attacker recomputes every hash: the signed final head still differs.
			x.Entries[5].Detail = "right password"
			prev := x.Final.FirstPrev
			for i := range x.Entries {
				x.Entries[i].Prev = prev
				p, _ := hexDecode(prev)
				x.Entries[i].Hash = hexEncode(events.ChainHash(p, x.Entries[i].Event))
				prev = x.Entries[i].Hash
			}
		},
		"forge the final head": func(x *events.Export) { x.Final.Count = 29 },
		"other serial":         func(x *events.Export) { x.Serial = "HRT-OTHER" },
	}
	for name, f := range tamper {
		t.Run(name, func(t *testing.T) {
			y := roundTrip(t, x)
			f(&y)
			if _, err := events.Verify(y, d.roots, time.Now()); !errors.Is(err, events.ErrTampered) {
				t.Fatalf("not detected: %v", err)
			}
		})
	}
	// A certificate from another vendor's root is refused.
	if _, err := events.Verify(x, newDevice(t).roots, time.Now()); err == nil {
		t.Fatal("verified against another root")
	}
}

// Someone with the database who edits an entry and re-chains the rest gets a log the
// device signs again at export, but the head it signed earlier no longer matches.
func TestPeriodicHeadCatchesRechainedDatabase(t *testing.T) {
	d := newDevice(t)
	d.publish(10)
	if err := d.log.SignHead(context.Background(), d.key, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Rewrite entry 3 and re-chain everything in the file, then reopen.
	x := d.export(t)
	x.Entries[3].Detail = "nothing happened"
	prev, _ := hexDecode(x.Final.FirstPrev)
	d.db.Close()
	raw := openRaw(t, d.path)
	for _, en := range x.Entries {
		h := events.ChainHash(prev, en.Event)
		if _, err := raw.Exec(`UPDATE events SET detail = ?, prev = ?, hash = ? WHERE id = ?`, en.Detail, prev, h, en.ID); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
	raw.Close()
	db, err := sqlite.Open(context.Background(), d.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d.log = &sqlite.EventLog{DB: db}
	if _, err := events.Verify(roundTrip(t, d.export(t)), d.roots, time.Now()); !errors.Is(err, events.ErrTampered) {
		t.Fatalf("re-chained log verified: %v", err)
	}
}

// Entries stored before the log was chained get their hashes at the next open.
func TestUnchainedEntriesAreChainedAtOpen(t *testing.T) {
	d := newDevice(t)
	d.publish(5)
	d.db.Close()
	raw := openRaw(t, d.path)
	if _, err := raw.Exec(`UPDATE events SET prev = x'', hash = x''`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := sqlite.Open(context.Background(), d.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d.log = &sqlite.EventLog{DB: db}
	d.publish(2)
	if v, err := events.Verify(roundTrip(t, d.export(t)), d.roots, time.Now()); err != nil || v.Entries != 7 {
		t.Fatalf("%+v %v", v, err)
	}
}

// The log keeps its newest entries; the export of what is left still verifies.
func TestPrunedLogStillVerifies(t *testing.T) {
	d := newDevice(t)
	d.publish(10_050)
	x := d.export(t)
	if len(x.Entries) != 10_000 || x.Final.FirstID != 51 {
		t.Fatalf("%d entries from %d", len(x.Entries), x.Final.FirstID)
	}
	if _, err := events.Verify(roundTrip(t, x), d.roots, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func FuzzVerifyExport(f *testing.F) {
	d := newDevice(f)
	d.publish(3)
	raw, _ := json.Marshal(d.export(f))
	f.Add(raw)
	f.Add([]byte(`{"format":"hearth-events-v1","serial":"x","certificates":[],"entries":[],"final":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := events.ParseExport(bytes.NewReader(b))
		if err != nil {
			return
		}
		if _, err := events.Verify(x, d.roots, time.Now()); err == nil && !bytes.Equal(b, raw) {
			// Only the device's own export (or an equivalent encoding of it) verifies.
			y, _ := events.ParseExport(bytes.NewReader(raw))
			if len(x.Entries) != len(y.Entries) || x.Final.LastHash != y.Final.LastHash {
				t.Fatalf("a different log verified: %d entries", len(x.Entries))
			}
		}
	})
}
