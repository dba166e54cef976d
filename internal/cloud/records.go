package cloud

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"hearth/internal/privacy"
)

// The vendor directory's privacy layout:
//
//	telemetry/<stream>.jsonl                     records a unit sent under one pseudonymous stream id
//	privacy/devices/<serial>.jsonl               the unit's register: its streams and its consents
//	privacy/erasures/<serial>/<request>.json     erasure receipts, kept as proof of compliance
//	privacy/erasures/<serial>/<request>.intent   an erasure under way (finished on start)
//	privacy/processing.json                      the register of processing activities (optional)
//
// TS-0045 5.7.1.11: telemetry files carry only the stream, never the serial; the
// register is the one place that links a unit to its streams.
const (
	telemetryDir = "telemetry"
	devicesDir   = "privacy/devices"
	erasuresDir  = "privacy/erasures"
)

// Record is one document a unit sent and the vendor stored, as one line of its stream's
// file. Dropped is set on the first stored record of a batch that reported drops.
type Record struct {
	Received       time.Time       `json:"received"`
	Stream         string          `json:"stream"`
	Seq            int64           `json:"seq"`
	Kind           string          `json:"kind"`
	Time           string          `json:"time"`
	Doc            json.RawMessage `json:"doc"`
	Dropped        int64           `json:"dropped_before,omitempty"`
	ConsentVersion string          `json:"consent_version"`
}

// ConsentRecord is one consent given or withdrawn, as the vendor holds it: when it was
// received, under which stream and sequence number, and the unit's consent document.
type ConsentRecord struct {
	Received time.Time       `json:"received"`
	Stream   string          `json:"stream"`
	Seq      int64           `json:"seq"`
	Purpose  privacy.Purpose `json:"purpose"`
	Granted  bool            `json:"granted"`
	Version  string          `json:"version"`
	Time     string          `json:"time"`
}

// Types of register lines.
const (
	lineStream  = "stream"  // a stream of the unit, from its first batch
	lineConsent = "consent" // a consent item
	lineSeen    = "seen"    // every data item of the stream up to seq was decided
)

// registerLine is one line of a unit's register.
type registerLine struct {
	Type     string              `json:"type"`
	Received time.Time           `json:"received"`
	Stream   string              `json:"stream"`
	Seq      int64               `json:"seq,omitempty"`
	Consent  *privacy.ConsentDoc `json:"consent,omitempty"`
}

func (l registerLine) record() ConsentRecord {
	return ConsentRecord{Received: l.Received, Stream: l.Stream, Seq: l.Seq, Purpose: l.Consent.Purpose,
		Granted: l.Consent.Granted, Version: l.Consent.Version, Time: l.Consent.Time}
}

// unit is what a register says about one unit.
type unit struct {
	streams     []string
	consents    []ConsentRecord
	consentLast map[string]int64 // stream -> last consent seq
	seen        map[string]int64 // stream -> data items decided up to
}

func newUnit() *unit {
	return &unit{consentLast: map[string]int64{}, seen: map[string]int64{}}
}

func (u *unit) apply(l registerLine) error {
	if !privacy.IsID(l.Stream) {
		return errors.New("bad stream")
	}
	switch {
	case l.Type == lineStream:
		if !slices.Contains(u.streams, l.Stream) {
			u.streams = append(u.streams, l.Stream)
		}
	case l.Type == lineConsent && l.Consent != nil:
		u.consents = append(u.consents, l.record())
		u.consentLast[l.Stream] = max(u.consentLast[l.Stream], l.Seq)
	case l.Type == lineSeen:
		u.seen[l.Stream] = max(u.seen[l.Stream], l.Seq)
	default:
		return errors.New("unknown line")
	}
	return nil
}

// consentAt returns the consent in force for purpose when a stream's item seq was sent:
// the latest record for the purpose, leaving out the stream's own later records (so an
// item resent after a crash is judged as it was the first time).
//
// TS-0045 5.7.1.9, 5.7.1.10: nothing is processed without a consent in force; a
// withdrawal stops processing from the next item on.
func consentAt(consents []ConsentRecord, p privacy.Purpose, stream string, seq int64) (ConsentRecord, bool) {
	for i := len(consents) - 1; i >= 0; i-- {
		c := consents[i]
		if c.Purpose != p || (c.Stream == stream && c.Seq > seq) {
			continue
		}
		return c, true
	}
	return ConsentRecord{}, false
}

// scanLines calls fn with each complete line of f. An incomplete last line (a write
// torn by a crash) is truncated away when fix is set and ignored otherwise; lines fn
// refuses are logged and skipped.
func scanLines(f *os.File, fix bool, log *slog.Logger, fn func([]byte) error) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	rd := bufio.NewReader(f)
	var good int64
	for {
		line, err := rd.ReadBytes('\n')
		if err == io.EOF {
			if len(line) > 0 && fix {
				log.Warn("file had a torn last line, truncated", "file", f.Name(), "bytes", len(line))
				if err := f.Truncate(good); err != nil {
					return err
				}
				return f.Sync()
			}
			return nil
		}
		if err != nil {
			return err
		}
		good += int64(len(line))
		if err := fn(line); err != nil {
			log.Warn("file has an unreadable line", "file", f.Name(), "offset", good-int64(len(line)), "err", err)
		}
	}
}

// readUnit reads a unit's register; a missing register is an empty unit.
func readUnit(path string, fix bool, log *slog.Logger) (*unit, error) {
	u := newUnit()
	flag := os.O_RDONLY
	if fix {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if errors.Is(err, os.ErrNotExist) {
		return u, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	err = scanLines(f, fix, log, func(b []byte) error {
		var l registerLine
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		return u.apply(l)
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return u, nil
}

// readRecords calls fn with each record of a stream's file, ignoring a torn last line;
// a missing file has none.
func readRecords(path string, log *slog.Logger, fn func(Record, int) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	var inner error
	err = scanLines(f, false, log, func(b []byte) error {
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if inner == nil {
			inner = fn(r, len(b))
		}
		return nil
	})
	if err == nil {
		err = inner
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func streamPath(vendor, stream string) string {
	return filepath.Join(vendor, telemetryDir, stream+".jsonl")
}

func registerPath(vendor, serial string) string {
	return filepath.Join(vendor, devicesDir, serial+".jsonl")
}

// Export is everything the vendor holds about one unit (GET /v1/privacy/export).
type Export struct {
	Serial   string                 `json:"serial"`
	Streams  []string               `json:"streams"`
	Consents []ConsentRecord        `json:"consents"`
	Records  []Record               `json:"records"`
	Erasures []privacy.EraseReceipt `json:"erasures"`
}

// maxExport bounds an export: the stream files it reads may hold at most 32 MiB.
// Beyond it the export is refused (ErrExportTooLarge) rather than built in memory.
const maxExport = 32 << 20

// ErrExportTooLarge means a unit's data exceeds what one export document holds.
var ErrExportTooLarge = errors.New("the unit's data exceeds the export limit of 32 MiB")

// ReadExport reads everything the vendor directory holds about a unit, through its
// register, without changing anything. It may run while the services run: a record
// being written is left out.
func ReadExport(vendorDir, serial string) (Export, error) {
	return readExport(vendorDir, serial, slog.New(slog.DiscardHandler))
}

func readExport(vendor, serial string, log *slog.Logger) (Export, error) {
	e := Export{Serial: serial, Streams: []string{}, Consents: []ConsentRecord{}, Records: []Record{}, Erasures: []privacy.EraseReceipt{}}
	if !validSerialName(serial) {
		return e, errors.New("invalid serial")
	}
	u, err := readUnit(registerPath(vendor, serial), false, log)
	if err != nil {
		return e, err
	}
	e.Streams = append(e.Streams, u.streams...)
	e.Consents = append(e.Consents, u.consents...)
	var size int64
	for _, s := range u.streams {
		err := readRecords(streamPath(vendor, s), log, func(r Record, n int) error {
			if size += int64(n); size > maxExport {
				return ErrExportTooLarge
			}
			e.Records = append(e.Records, r)
			return nil
		})
		if err != nil {
			return e, err
		}
	}
	if e.Erasures, err = readReceipts(vendor, serial); err != nil {
		return e, err
	}
	return e, nil
}

// DeviceRecords returns every record the vendor holds for a unit, all its streams in
// the order they were first used, read through its register.
func DeviceRecords(vendorDir, serial string) ([]Record, error) {
	e, err := ReadExport(vendorDir, serial)
	return e.Records, err
}

// validSerialName reports whether a serial can name a file: the device registry has
// checked it already; this keeps path building safe on its own.
func validSerialName(s string) bool {
	return s != "" && len(s) <= 64 && !strings.ContainsAny(s, `/\`) && s != "." && s != ".." && filepath.Base(s) == s
}
