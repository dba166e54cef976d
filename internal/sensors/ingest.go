package sensors

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"
)

// Record is one reading with the sensor that sent it and when it arrived.
type Record struct {
	Sensor   string
	Reading  Reading
	Received time.Time
}

// Point is one bucket of a chart series.
type Point struct {
	Time          time.Time `json:"time"`
	Avg, Min, Max float64
	Count         int
}

// ReadingStore persists readings.
type ReadingStore interface {
	// Insert stores records in one durable transaction: when it returns nil they
	// survive a crash or power loss.
	Insert(ctx context.Context, recs []Record) error
	Readings(ctx context.Context, sensor string, from, to time.Time, limit int) ([]Reading, error)
	Series(ctx context.Context, sensor string, k Kind, from, to time.Time, step time.Duration) ([]Point, error)
	// LastSeen returns the time of each listed sensor's latest reading.
	LastSeen(ctx context.Context, ids []string) (map[string]time.Time, error)
	// Prune deletes readings that arrived before cutoff and the oldest beyond maxRows.
	Prune(ctx context.Context, cutoff time.Time, maxRows int64) (int64, error)
	DeleteSensor(ctx context.Context, sensor string) error
	// DeleteAll deletes every reading and every sensor's number, leaving no copy in the
	// file or its log.
	DeleteAll(ctx context.Context) error
}

// ingest stores readings with group commit: one writer takes everything queued since
// its last transaction and commits it as one, so the cost of making a transaction
// durable (an fsync) is shared by every reading in it. A reading is acknowledged to its
// sensor only after the transaction holding it committed.
//
// TS-0045 5.6.1.1: an acknowledged reading survives a crash or power loss.
type ingest struct {
	store ReadingStore
	log   *slog.Logger
	queue chan pending
	// running is true while run commits what is queued.
	running atomic.Bool
}

// pending is a reading to store, or (refused != nil) the verdict on one that will not
// be, queued so that verdicts reach each sensor in the order of its readings.
type pending struct {
	rec     Record
	refused error
	done    func(error)
}

const (
	// ingestQueue bounds readings accepted but not yet committed; publishers wait
	// beyond it. The queue's buffer is allocated in full (about 130 bytes a reading), so
	// it is sized for what arrives during one commit at full load, not more.
	ingestQueue = 2048
	// maxBatch bounds one transaction.
	maxBatch = 4096
)

func newIngest(store ReadingStore, log *slog.Logger) *ingest {
	return &ingest{store: store, log: log, queue: make(chan pending, ingestQueue)}
}

func (in *ingest) submit(ctx context.Context, rec Record, done func(error)) error {
	return in.enqueue(ctx, pending{rec: rec, done: done})
}

func (in *ingest) refuse(ctx context.Context, why error, done func(error)) error {
	return in.enqueue(ctx, pending{refused: why, done: done})
}

func (in *ingest) enqueue(ctx context.Context, p pending) error {
	select {
	case in.queue <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errBarrier marks the barrier's place in the queue; it refuses nothing.
var errBarrier = errors.New("sensors: barrier")

// barrier returns once everything queued before it is committed (or at once when no
// run loop is committing, as nothing can then be queued).
func (in *ingest) barrier(ctx context.Context) error {
	if !in.running.Load() {
		return nil
	}
	passed := make(chan struct{})
	if err := in.refuse(ctx, errBarrier, func(error) { close(passed) }); err != nil {
		return err
	}
	select {
	case <-passed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
		return errors.New("sensors: readings queue did not drain")
	}
}

// run commits batches until ctx ends, then commits what is queued and returns.
func (in *ingest) run(ctx context.Context) {
	in.running.Store(true)
	defer in.running.Store(false)
	// The batch buffers grow with the load they see rather than start at maxBatch: a
	// gateway with few sensors never needs more than a few entries.
	var batch []pending
	var recs []Record
	for {
		select {
		case p := <-in.queue:
			batch = append(batch, p)
		case <-ctx.Done():
			in.drain(batch[:0], recs[:0])
			return
		}
		batch = in.fill(batch)
		recs = in.commit(context.WithoutCancel(ctx), batch, recs[:0])
		batch = batch[:0]
	}
}

// fill adds whatever else is queued, up to maxBatch, without waiting.
func (in *ingest) fill(batch []pending) []pending {
	for len(batch) < maxBatch {
		select {
		case p := <-in.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

func (in *ingest) drain(batch []pending, recs []Record) {
	for {
		batch = in.fill(batch[:0])
		if len(batch) == 0 {
			return
		}
		recs = in.commit(context.Background(), batch, recs[:0])
	}
}

// commit stores the batch in one transaction and tells each reading's sender; it
// returns recs, grown, for the next batch.
func (in *ingest) commit(ctx context.Context, batch []pending, recs []Record) []Record {
	for _, p := range batch {
		if p.refused == nil {
			recs = append(recs, p.rec)
		}
	}
	err := in.store.Insert(ctx, recs)
	if err != nil {
		in.log.Error("readings not stored", "count", len(recs), "err", err)
	}
	for _, p := range batch {
		if p.refused != nil {
			p.done(p.refused)
		} else {
			p.done(err)
		}
	}
	return recs
}
