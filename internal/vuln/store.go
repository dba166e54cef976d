package vuln

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/filelock"
)

// Dir is the reports' directory under the vendor directory; OutboxDir the mail queue.
const (
	Dir       = "vulns"
	OutboxDir = "vulns/outbox"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("no such report")
	ErrFull     = errors.New("too many reports awaiting triage")
)

// Config configures a Store.
type Config struct {
	VendorDir string
	Policy    Policy           // zero: DefaultPolicy
	Now       func() time.Time // nil: time.Now
	Rand      io.Reader        // nil: crypto/rand
}

// Store keeps the reports of one vendor directory.
type Store struct {
	cfg Config
	dir string
}

// Open prepares the reports' directories (mode 0700).
func Open(cfg Config) (*Store, error) {
	if cfg.VendorDir == "" {
		return nil, errors.New("vuln: no vendor directory")
	}
	if cfg.Policy.FixDays == nil {
		cfg.Policy = DefaultPolicy()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	dir := filepath.Join(cfg.VendorDir, Dir)
	if err := os.MkdirAll(filepath.Join(cfg.VendorDir, OutboxDir), 0o700); err != nil {
		return nil, fmt.Errorf("vuln: %w", err)
	}
	return &Store{cfg: cfg, dir: dir}, nil
}

// Policy is the store's policy.
func (s *Store) Policy() Policy { return s.cfg.Policy }

// Submit stores a validated submission as a new report and returns it with the
// reporter's status token, which is not kept (only its SHA-256 is). The
// acknowledgement of receipt is the report's first history entry and the first message
// to the reporter.
//
// TS-0045 5.2.1.1 (b): every report is acknowledged at once, with the policy's triage
// deadline.
func (s *Store) Submit(sub Submission, source string) (Report, string, error) {
	if err := sub.Validate(); err != nil {
		return Report{}, "", err
	}
	unlock, err := s.lock(true)
	if err != nil {
		return Report{}, "", err
	}
	defer unlock()
	all, err := s.list()
	if err != nil {
		return Report{}, "", err
	}
	pending := 0
	for _, r := range all {
		if r.State == Received {
			pending++
		}
	}
	if pending >= s.cfg.Policy.MaxPending {
		return Report{}, "", ErrFull
	}
	id, token, err := s.newIDToken()
	if err != nil {
		return Report{}, "", err
	}
	now := s.cfg.Now().UTC().Truncate(time.Second)
	sum := sha256.Sum256([]byte(token))
	r := Report{ID: id, Received: now, Source: source, Title: sub.Title, Description: sub.Description,
		Product: sub.Product, Version: sub.Version, Contact: sub.Contact, ReporterCVSS: sub.CVSS,
		State: Received, TokenSHA256: hex.EncodeToString(sum[:])}
	if sub.CVSS != "" {
		c, _ := ParseCVSS(sub.CVSS) // validated above
		r.CVSS = &c
	}
	note := fmt.Sprintf("Report received. We will confirm or reject it by %s and update you at least every %d days.",
		s.cfg.Policy.AckDeadline(now).Format(time.DateOnly), s.cfg.Policy.UpdateDays)
	if err := s.change(&r, Change{At: now, State: Received, Note: note}); err != nil {
		return Report{}, "", err
	}
	return r, token, nil
}

// newIDToken draws a report id (64 bits) and a status token (256 bits).
func (s *Store) newIDToken() (string, string, error) {
	var b [8 + 32]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return "", "", fmt.Errorf("vuln: random: %w", err)
	}
	return "HV-" + hex.EncodeToString(b[:8]), base64.RawURLEncoding.EncodeToString(b[8:]), nil
}

// ValidToken reports whether t has the shape of a status token (43 base64url
// characters encoding 32 bytes).
func ValidToken(t string) bool {
	if len(t) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(t)
	return err == nil && len(b) == 32
}

// Status returns a report to the holder of its status token. A wrong token and an
// unknown id give the same ErrNotFound.
func (s *Store) Status(id, token string) (Report, error) {
	if !validID(id) || !ValidToken(token) {
		return Report{}, ErrNotFound
	}
	r, err := s.Get(id)
	if err != nil {
		return Report{}, err
	}
	sum := sha256.Sum256([]byte(token))
	want, err := hex.DecodeString(r.TokenSHA256)
	if err != nil || subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return Report{}, ErrNotFound
	}
	return r, nil
}

// Get reads one report.
func (s *Store) Get(id string) (Report, error) {
	if !validID(id) {
		return Report{}, ErrNotFound
	}
	unlock, err := s.lock(false)
	if err != nil {
		return Report{}, err
	}
	defer unlock()
	return s.read(id)
}

func (s *Store) read(id string) (Report, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, id+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return Report{}, ErrNotFound
	}
	if err != nil {
		return Report{}, fmt.Errorf("vuln: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return Report{}, fmt.Errorf("vuln: report %s: %w", id, err)
	}
	return r, nil
}

// List returns every report, oldest first.
func (s *Store) List() ([]Report, error) {
	unlock, err := s.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.list()
}

func (s *Store) list() ([]Report, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("vuln: %w", err)
	}
	var rs []Report
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !validID(id) || !e.Type().IsRegular() {
			continue
		}
		r, err := s.read(id)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool {
		if !rs[i].Received.Equal(rs[j].Received) {
			return rs[i].Received.Before(rs[j].Received)
		}
		return rs[i].ID < rs[j].ID
	})
	return rs, nil
}

// SetState moves a report to another state along the workflow, with a note for the
// reporter.
//
// TS-0045 5.2.1.1 (c): every change of state is recorded and sent to the reporter.
func (s *Store) SetState(id string, to State, note string) (Report, error) {
	return s.update(id, note, func(r *Report) (Change, error) {
		if !CanMove(r.State, to) {
			return Change{}, fmt.Errorf("%w: %s to %s", ErrTransition, r.State, to)
		}
		r.State = to
		return Change{State: to}, nil
	})
}

// SetCVSS records the vendor's CVSS assessment of a report, which sets its severity
// and fix deadline.
//
// TS-0045 5.2.1.2: the risk level decides the fix deadline.
func (s *Store) SetCVSS(id, vector, note string) (Report, error) {
	c, err := ParseCVSS(vector)
	if err != nil {
		return Report{}, err
	}
	return s.update(id, note, func(r *Report) (Change, error) {
		r.CVSS = &c
		if note == "" {
			note = fmt.Sprintf("Assessed as %s (CVSS %s %.1f); fix due by %s.", c.Severity, c.Version, c.Score,
				s.cfg.Policy.FixDeadline(r.Received, c.Severity).Format(time.DateOnly))
		}
		return Change{State: r.State, CVSS: &c, Note: note}, nil
	})
}

// Note adds a status update without changing the state.
func (s *Store) Note(id, note string) (Report, error) {
	if strings.TrimSpace(note) == "" {
		return Report{}, &FieldError{Field: "note", Msg: "required"}
	}
	return s.update(id, note, func(r *Report) (Change, error) { return Change{State: r.State}, nil })
}

func (s *Store) update(id, note string, f func(*Report) (Change, error)) (Report, error) {
	if err := CheckText(note, MaxNote, true); err != nil {
		return Report{}, &FieldError{Field: "note", Msg: err.Error()}
	}
	unlock, err := s.lock(true)
	if err != nil {
		return Report{}, err
	}
	defer unlock()
	if !validID(id) {
		return Report{}, ErrNotFound
	}
	r, err := s.read(id)
	if err != nil {
		return Report{}, err
	}
	c, err := f(&r)
	if err != nil {
		return Report{}, err
	}
	if c.Note == "" {
		c.Note = note
	}
	if c.Note == "" {
		c.Note = "State changed to " + string(c.State) + "."
	}
	c.At = s.cfg.Now().UTC().Truncate(time.Second)
	return r, s.change(&r, c)
}

// change appends c to the history, writes the report, then queues the message to the
// reporter. A crash between the two loses at most the mail; the status page, which
// reads the history, always has it.
func (s *Store) change(r *Report, c Change) error {
	r.History = append(r.History, c)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(s.dir, r.ID+".json"), append(b, '\n'), 0o600); err != nil {
		return err
	}
	return s.queueMail(*r, c, len(r.History))
}

// lock takes vulns/.lock, exclusive for a change, shared for a read.
func (s *Store) lock(exclusive bool) (func(), error) {
	unlock, err := filelock.Lock(filepath.Join(s.dir, ".lock"), exclusive)
	if err != nil {
		return nil, fmt.Errorf("vuln: lock: %w", err)
	}
	return unlock, nil
}
