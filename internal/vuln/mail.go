package vuln

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"hearth/internal/atomicfile"
)

// Mail is a message to a reporter, queued in vulns/outbox for the vendor's mail
// system. Only reports with a contact address get mail; every change is also on the
// report's status page.
type Mail struct {
	To       string    `json:"to"`
	Report   string    `json:"report"`
	Subject  string    `json:"subject"`
	Body     string    `json:"body"`
	QueuedAt time.Time `json:"queued_at"`
}

func (s *Store) queueMail(r Report, c Change, seq int) error {
	if r.Contact == "" {
		return nil
	}
	m := Mail{To: r.Contact, Report: r.ID, QueuedAt: c.At,
		Subject: fmt.Sprintf("[%s] %s: %s", r.ID, c.State, oneLine(r.Title, 80)),
		Body: fmt.Sprintf("Report %s (%s)\nState: %s\n\n%s\n\nYour status page needs the token you received with your report.\n",
			r.ID, r.Title, c.State, c.Note)}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s-%03d.json", c.At.UTC().Format("20060102T150405Z"), r.ID, seq)
	return atomicfile.Write(filepath.Join(s.cfg.VendorDir, OutboxDir, name), append(b, '\n'), 0o600)
}

// Outbox lists the queued messages, oldest first.
func (s *Store) Outbox() ([]Mail, error) {
	dir := filepath.Join(s.cfg.VendorDir, OutboxDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("vuln: %w", err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	ms := make([]Mail, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("vuln: %w", err)
		}
		var m Mail
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("vuln: outbox %s: %w", n, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// SentDir keeps the messages delivered to the mail relay.
const SentDir = "vulns/sent"

// DrainMail hands every queued message, oldest first, to send, and moves each one it
// accepted to SentDir, so it is sent once. It stops at the first failure (the relay is
// away: the rest waits for the next drain) and returns how many were sent.
//
// TS-0045 5.2.1.1: the reporter is told of every change of the report's status.
func (s *Store) DrainMail(send func(Mail) error) (int, error) {
	dir := filepath.Join(s.cfg.VendorDir, OutboxDir)
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("vuln: %w", err)
	}
	sent := filepath.Join(s.cfg.VendorDir, SentDir)
	if err := os.MkdirAll(sent, 0o700); err != nil {
		return 0, fmt.Errorf("vuln: %w", err)
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return n, fmt.Errorf("vuln: %w", err)
		}
		var m Mail
		if err := json.Unmarshal(b, &m); err != nil {
			return n, fmt.Errorf("vuln: outbox %s: %w", name, err)
		}
		if err := send(m); err != nil {
			return n, err
		}
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(sent, name)); err != nil {
			return n, fmt.Errorf("vuln: %w", err)
		}
		if err := atomicfile.SyncDir(dir); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
