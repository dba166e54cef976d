package cloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/privacy"
)

// ErrStreamTaken means a unit sent a stream id another unit already uses.
var ErrStreamTaken = errors.New("the stream belongs to another unit")

// ledger is what the vendor holds from the units: their registers (streams, consents)
// and their records, kept in the files described in records.go, each fsynced before a
// batch or an erasure is acknowledged.
//
// One mutex serialises everything that writes or reads them, so a batch can never
// recreate data in the middle of an erasure. One process serves a vendor directory: the
// registers are read at start, the last sequence number of a stream on first use.
type ledger struct {
	vendor string
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	units    map[string]*unit  // serial -> register
	owner    map[string]string // stream -> serial
	dataLast map[string]int64  // stream -> last stored record's seq, once read
}

// openLedger reads every unit's register, cutting off torn last lines, and finishes
// the erasures a crash interrupted.
func openLedger(cfg Config) (*ledger, error) {
	l := &ledger{vendor: cfg.VendorDir, log: cfg.Log, now: cfg.Now,
		units: map[string]*unit{}, owner: map[string]string{}, dataLast: map[string]int64{}}
	for _, d := range []string{telemetryDir, devicesDir, erasuresDir} {
		if err := os.MkdirAll(filepath.Join(l.vendor, d), 0o700); err != nil {
			return nil, err
		}
	}
	names, err := os.ReadDir(filepath.Join(l.vendor, devicesDir))
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		serial, ok := strings.CutSuffix(n.Name(), ".jsonl")
		if !ok || !validSerialName(serial) {
			continue
		}
		u, err := readUnit(registerPath(l.vendor, serial), true, l.log)
		if err != nil {
			return nil, err
		}
		l.units[serial] = u
		for _, s := range u.streams {
			l.owner[s] = serial
		}
	}
	if err := l.resumeErasures(); err != nil {
		return nil, err
	}
	return l, nil
}

// unit returns a unit's register, empty for a unit that never sent anything.
func (l *ledger) unit(serial string) *unit {
	u, ok := l.units[serial]
	if !ok {
		u = newUnit()
		l.units[serial] = u
	}
	return u
}

// accept stores a batch from a unit: consent items go to its register; a data item is
// stored only under a granted consent for its purpose, otherwise refused (acknowledged,
// not stored). Items already seen are duplicates.
//
// TS-0045 5.6.1.1: an acknowledged batch is on disk. The register is written before
// the records, so a batch resent after a crash is judged the same way.
func (l *ledger) accept(serial string, b TelemetryBatch) (TelemetryResponse, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var res TelemetryResponse
	if o, ok := l.owner[b.Stream]; ok && o != serial {
		return res, ErrStreamTaken
	}
	u := l.unit(serial)
	dataLast, err := l.streamLast(b.Stream)
	if err != nil {
		return res, err
	}
	now := l.now().UTC()
	var reg []registerLine
	if _, ok := l.owner[b.Stream]; !ok {
		reg = append(reg, registerLine{Type: lineStream, Received: now, Stream: b.Stream})
	}
	consents := u.consents[:len(u.consents):len(u.consents)]
	decided := max(dataLast, u.seen[b.Stream])
	first := b.Items[0]
	firstNew := first.Seq > decided
	if first.Kind == privacy.KindConsent {
		firstNew = first.Seq > u.consentLast[b.Stream]
	}
	var data bytes.Buffer
	var stored, refused int64
	for _, it := range b.Items {
		if it.Kind == privacy.KindConsent {
			if it.Seq <= u.consentLast[b.Stream] {
				res.Duplicates++
				continue
			}
			doc, err := privacy.ParseConsentDoc(it.Doc)
			if err != nil {
				return res, err // checked by ParseTelemetryBatch
			}
			line := registerLine{Type: lineConsent, Received: now, Stream: b.Stream, Seq: it.Seq, Consent: &doc}
			reg = append(reg, line)
			consents = append(consents, line.record())
			res.Accepted++
			continue
		}
		if it.Seq <= decided {
			res.Duplicates++
			continue
		}
		p, _ := privacy.PurposeOf(it.Kind)
		c, ok := consentAt(consents, p, b.Stream, it.Seq)
		if !ok || !c.Granted {
			res.Refused++
			refused = it.Seq
			continue
		}
		rec := Record{Received: now, Stream: b.Stream, Seq: it.Seq, Kind: it.Kind, Time: it.Time, Doc: it.Doc, ConsentVersion: c.Version}
		if stored == 0 && firstNew {
			// Only when the batch's first item is new: a resent batch's drops were
			// recorded with it the first time.
			rec.Dropped = b.Dropped
		}
		line, err := json.Marshal(rec)
		if err != nil {
			return res, err
		}
		data.Write(append(line, '\n'))
		stored = it.Seq
		res.Accepted++
	}
	if err := l.appendRegister(serial, reg); err != nil {
		return res, err
	}
	if data.Len() > 0 {
		if err := appendSync(streamPath(l.vendor, b.Stream), data.Bytes()); err != nil {
			return res, err
		}
		l.dataLast[b.Stream] = stored
	}
	if refused > stored {
		// TS-0045 5.7.1.9: refused items are remembered as decided (not stored), so a
		// resent batch counts them as duplicates.
		if err := l.appendRegister(serial, []registerLine{{Type: lineSeen, Received: now, Stream: b.Stream, Seq: refused}}); err != nil {
			return res, err
		}
	}
	return res, nil
}

// appendRegister appends lines to a unit's register and applies them in memory.
func (l *ledger) appendRegister(serial string, lines []registerLine) error {
	if len(lines) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, line := range lines {
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		buf.Write(append(b, '\n'))
	}
	if err := appendSync(registerPath(l.vendor, serial), buf.Bytes()); err != nil {
		return err
	}
	u := l.unit(serial)
	for _, line := range lines {
		u.apply(line)
		if line.Type == lineStream {
			l.owner[line.Stream] = serial
		}
	}
	return nil
}

// streamLast returns the last stored sequence number of a stream, reading its file
// (and cutting off a torn last line) the first time.
func (l *ledger) streamLast(stream string) (int64, error) {
	if last, ok := l.dataLast[stream]; ok {
		return last, nil
	}
	path := streamPath(l.vendor, stream)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		l.dataLast[stream] = 0
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var last int64
	err = scanLines(f, true, l.log, func(b []byte) error {
		var r struct{ Seq int64 }
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		last = max(last, r.Seq)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	l.dataLast[stream] = last
	return last, nil
}

// appendSync appends data to a file and syncs it, and its directory when it created
// the file. A failed write is cut off again so the file keeps whole lines.
func appendSync(path string, data []byte) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Truncate(fi.Size())
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		return atomicfile.SyncDir(filepath.Dir(path))
	}
	return nil
}
