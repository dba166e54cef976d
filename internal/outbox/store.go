package outbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hearth/internal/store/sqlitefile"
)

// queue is the on-disk FIFO: one SQLite file, one connection.
//
// TS-0045 5.6.1.1: opened by sqlitefile (WAL, synchronous=FULL), so each commit (an
// enqueued item, an acknowledged batch removed) is fsynced before the call returns:
// an item the caller believes queued survives power loss.
//
// Sequence numbers come from an AUTOINCREMENT key, so they are never reused, even after
// the queue was emptied; the cloud deduplicates retried batches by them within a stream.
// The stream id is drawn once when the file is created, so a gateway whose queue file
// was wiped (a factory reset) starts a new stream rather than repeating old numbers.
type queue struct {
	db     *sql.DB
	stream string
	// Totals kept in memory, loaded at open and updated after each commit.
	count, bytes int64
	counters
}

// counters are persisted in the meta table.
type counters struct {
	DroppedTotal      int64 // items dropped because the queue was full, ever
	DroppedUnreported int64 // of those, not yet reported to the cloud
	Rejected          int64 // items dropped because the cloud refused them
}

var schema = []string{
	`CREATE TABLE items (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		kind TEXT NOT NULL,
		time INTEGER NOT NULL,
		doc BLOB NOT NULL
	);
	CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);`,
}

func openQueue(ctx context.Context, path string) (*queue, error) {
	db, err := sqlitefile.Open(path, "busy_timeout(5000)", "journal_size_limit(16777216)")
	if err != nil {
		return nil, fmt.Errorf("open outbox: %w", err)
	}
	// One connection: the Run loop and Enqueue take turns, which also keeps the
	// in-memory totals exact.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	qu := &queue{db: db}
	if err := qu.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return qu, nil
}

func (q *queue) close() error { return q.db.Close() }

func (q *queue) load(ctx context.Context) error {
	if err := sqlitefile.Migrate(ctx, q.db, schema); err != nil {
		return fmt.Errorf("open outbox: %w", err)
	}
	stream, err := q.meta(ctx, "stream")
	if err != nil {
		return err
	}
	if stream == "" {
		stream = newStream()
		if _, err := q.db.ExecContext(ctx, "INSERT INTO meta(k, v) VALUES ('stream', ?)", stream); err != nil {
			return fmt.Errorf("open outbox: %w", err)
		}
	}
	q.stream = stream
	raw, err := q.meta(ctx, "counters")
	if err != nil {
		return err
	}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &q.counters); err != nil {
			return fmt.Errorf("open outbox: counters: %w", err)
		}
	}
	err = q.db.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(length(doc)), 0) FROM items").Scan(&q.count, &q.bytes)
	if err != nil {
		return fmt.Errorf("open outbox: %w", err)
	}
	return nil
}

// newStream draws a stream id: 128 random bits, the device's pseudonymous id at the
// vendor. It is not derived from anything the vendor knows about the device.
//
// TS-0045 5.7.1.11: telemetry carries a pseudonym, not the serial number.
func newStream() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (q *queue) meta(ctx context.Context, k string) (string, error) {
	var v string
	err := q.db.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = ?", k).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("outbox meta: %w", err)
	}
	return v, nil
}

// state is what a transaction may change besides the rows.
type state struct {
	count, bytes int64
	counters
}

// tx runs f in one write transaction on a copy of the state, saving the counters with
// it; the in-memory state changes only if the commit succeeds.
func (q *queue) tx(ctx context.Context, f func(*sql.Tx, *state) error) error {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer tx.Rollback()
	st := state{q.count, q.bytes, q.counters}
	if err := f(tx, &st); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	raw, _ := json.Marshal(st.counters)
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta(k, v) VALUES ('counters', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", string(raw)); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("outbox: commit: %w", err)
	}
	q.count, q.bytes, q.counters = st.count, st.bytes, st.counters
	return nil
}

// push appends an item and then drops the oldest items until the queue is within
// maxItems and maxBytes again, all in one transaction.
//
// TS-0045 5.6.1.1: storage stays bounded, so a long outage never fills the disk.
func (q *queue) push(ctx context.Context, kind string, t time.Time, doc []byte, maxItems, maxBytes int64) (dropped int64, err error) {
	err = q.tx(ctx, func(tx *sql.Tx, st *state) error {
		dropped = 0
		if _, err := tx.ExecContext(ctx, "INSERT INTO items(kind, time, doc) VALUES (?, ?, ?)", kind, t.UnixNano(), doc); err != nil {
			return err
		}
		st.count++
		st.bytes += int64(len(doc))
		for st.count > maxItems || st.bytes > maxBytes {
			var seq, size int64
			if err := tx.QueryRowContext(ctx, "SELECT seq, length(doc) FROM items ORDER BY seq LIMIT 1").Scan(&seq, &size); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM items WHERE seq = ?", seq); err != nil {
				return err
			}
			st.count--
			st.bytes -= size
			dropped++
		}
		st.DroppedTotal += dropped
		st.DroppedUnreported += dropped
		return nil
	})
	return dropped, err
}

// peek reads the oldest items: at most maxItems, and no more than maxBytes of documents
// unless a single item is larger.
func (q *queue) peek(ctx context.Context, maxItems int, maxBytes int) ([]Item, error) {
	rows, err := q.db.QueryContext(ctx, "SELECT seq, kind, time, doc FROM items ORDER BY seq LIMIT ?", maxItems)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	var items []Item
	size := 0
	for rows.Next() {
		var it Item
		var ns int64
		var doc []byte
		if err := rows.Scan(&it.Seq, &it.Kind, &ns, &doc); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		if len(items) > 0 && size+len(doc) > maxBytes {
			break
		}
		size += len(doc)
		it.Time = time.Unix(0, ns).UTC()
		it.Doc = json.RawMessage(doc)
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return items, nil
}

// remove deletes the items up to and including seq (acknowledged or refused), and
// records how many drops the cloud has now been told of and how many items it refused.
func (q *queue) remove(ctx context.Context, seq int64, reported, rejected int64) error {
	return q.tx(ctx, func(tx *sql.Tx, st *state) error {
		var n, size int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(length(doc)), 0) FROM items WHERE seq <= ?", seq).Scan(&n, &size); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM items WHERE seq <= ?", seq); err != nil {
			return err
		}
		st.count -= n
		st.bytes -= size
		st.DroppedUnreported = max(0, st.DroppedUnreported-reported)
		st.Rejected += rejected
		return nil
	})
}

// purgeKinds deletes the items of the given kinds and returns how many went.
func (q *queue) purgeKinds(ctx context.Context, kinds []string) (int64, error) {
	var n int64
	err := q.tx(ctx, func(tx *sql.Tx, st *state) error {
		n = 0
		for _, k := range kinds {
			var c, size int64
			if err := tx.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(length(doc)), 0) FROM items WHERE kind = ?", k).Scan(&c, &size); err != nil {
				return err
			}
			if c == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM items WHERE kind = ?", k); err != nil {
				return err
			}
			n += c
			st.count -= c
			st.bytes -= size
		}
		if st.count == 0 {
			st.DroppedUnreported = 0
		}
		return nil
	})
	return n, err
}

// hasKinds reports whether any item of the given kinds is queued.
func (q *queue) hasKinds(ctx context.Context, kinds []string) bool {
	for _, k := range kinds {
		var one int
		if q.db.QueryRowContext(ctx, "SELECT 1 FROM items WHERE kind = ? LIMIT 1", k).Scan(&one) == nil {
			return true
		}
	}
	return false
}

// reset deletes every item, clears the counters and draws a new stream id, in one
// transaction.
func (q *queue) reset(ctx context.Context) error {
	stream := newStream()
	err := q.tx(ctx, func(tx *sql.Tx, st *state) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM items"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta(k, v) VALUES ('stream', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", stream); err != nil {
			return err
		}
		*st = state{}
		return nil
	})
	if err != nil {
		return err
	}
	q.stream = stream
	if _, err := q.db.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("outbox: vacuum: %w", err)
	}
	return nil
}
