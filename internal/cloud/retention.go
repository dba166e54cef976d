package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/privacy"
)

// Prune deletes the records kept longer than the register of processing activities
// allows for their purpose (retention_days; 0 keeps them until the owner deletes) and
// returns how many it deleted. The consent registers and erasure receipts are not
// pruned here.
//
// TS-0045 5.7.1.8: data is kept no longer than the register says.
func (s *Server) Prune() (int, error) {
	keep := map[privacy.Purpose]time.Duration{}
	for _, a := range s.processing.Activities {
		if a.Purpose != "" && a.RetentionDays > 0 {
			keep[a.Purpose] = time.Duration(a.RetentionDays) * 24 * time.Hour
		}
	}
	return s.ledger.prune(keep)
}

func (l *ledger) prune(keep map[privacy.Purpose]time.Duration) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	total := 0
	for serial, u := range l.units {
		for _, stream := range u.streams {
			n, err := l.pruneStream(serial, stream, keep, now)
			if err != nil {
				return total, err
			}
			total += n
		}
	}
	return total, nil
}

// pruneStream rewrites a stream's file without its expired records. The register first
// remembers the stream's last sequence number, so a batch resent later is still known.
func (l *ledger) pruneStream(serial, stream string, keep map[privacy.Purpose]time.Duration, now time.Time) (int, error) {
	path := streamPath(l.vendor, stream)
	var kept bytes.Buffer
	var last int64
	dropped := 0
	err := readRecords(path, l.log, func(r Record, _ int) error {
		last = max(last, r.Seq)
		p, _ := privacy.PurposeOf(r.Kind)
		if d, ok := keep[p]; ok && now.Sub(r.Received) > d {
			dropped++
			return nil
		}
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		kept.Write(append(b, '\n'))
		return nil
	})
	if err != nil || dropped == 0 {
		return 0, err
	}
	if err := l.appendRegister(serial, []registerLine{{Type: lineSeen, Received: now.UTC(), Stream: stream, Seq: last}}); err != nil {
		return 0, err
	}
	if kept.Len() == 0 {
		if err := removeIfExists(path); err != nil {
			return 0, err
		}
		return dropped, atomicfile.SyncDir(filepath.Join(l.vendor, telemetryDir))
	}
	if err := atomicfile.Write(path, kept.Bytes(), 0o600); err != nil {
		return 0, err
	}
	return dropped, nil
}

// pruneHourly prunes at start and every hour until ctx ends.
func (s *Server) pruneHourly(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := s.Prune()
		switch {
		case err != nil:
			s.cfg.Log.Error("prune expired records", "err", err)
		case n > 0:
			s.cfg.Log.Info("pruned expired records", "records", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
