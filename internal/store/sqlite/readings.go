package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"hearth/internal/sensors"

	"hearth/internal/store/sqlitefile"
)

var _ sensors.ReadingStore = (*Readings)(nil)

// Readings is the sensor readings database, a file of its own beside the main one: the
// time series is large, written continuously and pruned by age, and keeping it apart
// means its traffic never waits on, or makes wait, a login or a settings change.
//
// Durability: WAL with synchronous=FULL, like the main database. Each Insert is one
// transaction holding a whole batch of readings (group commit), so the fsync that makes
// it durable is shared by the batch; a reading is acknowledged to its sensor only after
// the commit returned. synchronous=NORMAL would survive a crash of the process but could
// lose the last commits on power loss, breaking that promise.
//
// TS-0045 5.6.1.1: acknowledged readings survive power loss.
type Readings struct {
	db *sql.DB
	// w is the writer's own connection, used by Insert only, with its INSERT statements
	// for n rows prepared once: parsing a 200-row statement for every batch cost more
	// than executing it.
	wmu  sync.Mutex
	w    *sql.Conn
	stmt map[int]*sql.Stmt
	// nums caches each sensor's number in the sources table; guarded by wmu.
	nums map[string]int64
}

// OpenReadings opens (creating if needed) the readings database at path.
func OpenReadings(ctx context.Context, path string) (*Readings, error) {
	db, err := sqlitefile.Open(path, "busy_timeout(10000)", "journal_size_limit(67108864)")
	if err != nil {
		return nil, fmt.Errorf("open readings database: %w", err)
	}
	// One writer (the ingest loop) and a few readers for the API and UI.
	db.SetMaxOpenConns(4)
	r := &Readings{db: db, stmt: map[int]*sql.Stmt{}, nums: map[string]int64{}}
	if err := r.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if r.w, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open readings database: %w", err)
	}
	return r, nil
}

// readingMigrations create the schema. Version 2 stores sensors and kinds as small
// integers (sources maps a sensor's ID to its number; kinds are kindCodes): rows and
// index entries about half the size, so fewer pages change per commit and index
// comparisons are of integers.
var readingMigrations = []string{
	`CREATE TABLE readings (
		sensor TEXT NOT NULL,
		ts INTEGER NOT NULL,
		kind TEXT NOT NULL,
		value REAL NOT NULL,
		received INTEGER NOT NULL
	);
	CREATE INDEX readings_sensor_ts ON readings(sensor, ts);`,
	`CREATE TABLE sources (num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
	INSERT INTO sources (id) SELECT DISTINCT sensor FROM readings ORDER BY sensor;
	CREATE TABLE readings2 (
		sensor INTEGER NOT NULL,
		ts INTEGER NOT NULL,
		kind INTEGER NOT NULL,
		value REAL NOT NULL,
		received INTEGER NOT NULL
	);
	INSERT INTO readings2 (sensor, ts, kind, value, received)
		SELECT s.num, r.ts, CASE r.kind WHEN 'temperature' THEN 1 WHEN 'humidity' THEN 2 WHEN 'motion' THEN 3
			WHEN 'door' THEN 4 WHEN 'battery' THEN 5 ELSE 0 END, r.value, r.received
		FROM readings r JOIN sources s ON s.id = r.sensor ORDER BY r.rowid;
	DROP TABLE readings;
	ALTER TABLE readings2 RENAME TO readings;
	CREATE INDEX readings_sensor_ts ON readings(sensor, ts);`,
}

// kindCodes are the stored codes of the kinds; a code, once given, never changes.
var kindCodes = map[sensors.Kind]int64{sensors.Temperature: 1, sensors.Humidity: 2, sensors.Motion: 3, sensors.Door: 4, sensors.Battery: 5}

var codeKinds = func() map[int64]sensors.Kind {
	m := map[int64]sensors.Kind{}
	for k, c := range kindCodes {
		m[c] = k
	}
	return m
}()

// num returns sensor's number, adding it to sources on first use; the caller holds
// wmu and runs within the writer's transaction.
func (r *Readings) num(ctx context.Context, sensor string) (int64, error) {
	if n, ok := r.nums[sensor]; ok {
		return n, nil
	}
	var n int64
	err := r.w.QueryRowContext(ctx, `INSERT INTO sources (id) VALUES (?) ON CONFLICT (id) DO UPDATE SET id = excluded.id RETURNING num`, sensor).Scan(&n)
	if err != nil {
		return 0, err
	}
	r.nums[sensor] = n
	return n, nil
}

// bySensor is the condition selecting one sensor's rows by its ID.
const bySensor = `sensor = (SELECT num FROM sources WHERE id = ?)`

func (r *Readings) migrate(ctx context.Context) error {
	if err := sqlitefile.Migrate(ctx, r.db, readingMigrations); err != nil {
		return fmt.Errorf("readings: %w", err)
	}
	return nil
}

// Close closes the database.
func (r *Readings) Close() error {
	r.wmu.Lock()
	for _, st := range r.stmt {
		st.Close()
	}
	r.w.Close()
	r.wmu.Unlock()
	return r.db.Close()
}

// insertChunk is how many rows one INSERT statement carries.
const insertChunk = 200

// insertStmt returns the INSERT statement for n rows on the writer's connection; the
// caller holds wmu.
func (r *Readings) insertStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	if st, ok := r.stmt[n]; ok {
		return st, nil
	}
	st, err := r.w.PrepareContext(ctx, "INSERT INTO readings (sensor, ts, kind, value, received) VALUES (?,?,?,?,?)"+strings.Repeat(",(?,?,?,?,?)", n-1))
	if err != nil {
		return nil, err
	}
	r.stmt[n] = st
	return st, nil
}

// Insert implements sensors.ReadingStore: all records in one transaction, on the
// writer's connection with its prepared statements (the transaction is begun and ended
// by statements, since database/sql would prepare them again inside a Tx).
func (r *Readings) Insert(ctx context.Context, recs []sensors.Record) (err error) {
	if len(recs) == 0 {
		return nil
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if _, err := r.w.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("store readings: %w", err)
	}
	defer func() {
		if err != nil {
			// After a failed COMMIT SQLite may have rolled back already; then this
			// fails harmlessly. Numbers given to sensors in this transaction are gone.
			r.w.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			clear(r.nums)
			err = fmt.Errorf("store readings: %w", err)
		}
	}()
	args := make([]any, 0, 5*insertChunk)
	for len(recs) > 0 {
		n := min(len(recs), insertChunk)
		args = args[:0]
		for _, rc := range recs[:n] {
			num, err := r.num(ctx, rc.Sensor)
			if err != nil {
				return err
			}
			code, ok := kindCodes[rc.Reading.Kind]
			if !ok {
				return fmt.Errorf("reading of unknown kind %q", rc.Reading.Kind)
			}
			args = append(args, num, rc.Reading.Time.UnixNano(), code, rc.Reading.Value, rc.Received.UnixNano())
		}
		st, err := r.insertStmt(ctx, n)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
		recs = recs[n:]
	}
	_, err = r.w.ExecContext(ctx, "COMMIT")
	return err
}

// MaxReadingsPerQuery bounds one Readings call.
const MaxReadingsPerQuery = 10_000

// Readings implements sensors.ReadingStore.
func (r *Readings) Readings(ctx context.Context, sensor string, from, to time.Time, limit int) ([]sensors.Reading, error) {
	if limit <= 0 || limit > MaxReadingsPerQuery {
		limit = MaxReadingsPerQuery
	}
	rows, err := r.db.QueryContext(ctx, `SELECT ts, kind, value FROM readings WHERE `+bySensor+` AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?`,
		sensor, from.UnixNano(), to.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []sensors.Reading{}
	for rows.Next() {
		var t, kind int64
		var rd sensors.Reading
		if err := rows.Scan(&t, &kind, &rd.Value); err != nil {
			return nil, err
		}
		rd.Time, rd.Kind = time.Unix(0, t).UTC(), codeKinds[kind]
		out = append(out, rd)
	}
	return out, rows.Err()
}

// Series implements sensors.ReadingStore.
func (r *Readings) Series(ctx context.Context, sensor string, k sensors.Kind, from, to time.Time, step time.Duration) ([]sensors.Point, error) {
	if step <= 0 {
		return nil, errors.New("series: step must be positive")
	}
	rows, err := r.db.QueryContext(ctx, `SELECT (ts - ?) / ? AS b, avg(value), min(value), max(value), count(*) FROM readings
		WHERE `+bySensor+` AND kind = ? AND ts >= ? AND ts < ? GROUP BY b ORDER BY b`,
		from.UnixNano(), int64(step), sensor, kindCodes[k], from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sensors.Point
	for rows.Next() {
		var b int64
		var p sensors.Point
		if err := rows.Scan(&b, &p.Avg, &p.Min, &p.Max, &p.Count); err != nil {
			return nil, err
		}
		p.Time = from.Add(time.Duration(b) * step).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// LastSeen implements sensors.ReadingStore: the newest reading time of each sensor,
// one index lookup per sensor.
func (r *Readings) LastSeen(ctx context.Context, ids []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(ids))
	for _, id := range ids {
		var t sql.NullInt64
		if err := r.db.QueryRowContext(ctx, `SELECT max(ts) FROM readings WHERE `+bySensor, id).Scan(&t); err != nil {
			return nil, err
		}
		if t.Valid {
			out[id] = time.Unix(0, t.Int64).UTC()
		}
	}
	return out, nil
}

// pruneChunk bounds one delete transaction, so pruning never holds the writer long.
const pruneChunk = 20_000

// Prune implements sensors.ReadingStore. Rows are appended in arrival order, so the
// rows that arrived before cutoff are a prefix of the table by rowid: a binary search
// finds its end with a few index lookups instead of a scan.
func (r *Readings) Prune(ctx context.Context, cutoff time.Time, maxRows int64) (int64, error) {
	var lo, hi sql.NullInt64
	if err := r.db.QueryRowContext(ctx, `SELECT min(rowid), max(rowid) FROM readings`).Scan(&lo, &hi); err != nil {
		return 0, err
	}
	if !lo.Valid {
		return 0, nil
	}
	// end is the first rowid to keep.
	end, err := r.firstArrivedAt(ctx, lo.Int64, hi.Int64+1, cutoff.UnixNano())
	if err != nil {
		return 0, err
	}
	if maxRows > 0 {
		end = max(end, hi.Int64-maxRows+1)
	}
	var total int64
	for start := lo.Int64; start < end; start += pruneChunk {
		res, err := r.db.ExecContext(ctx, `DELETE FROM readings WHERE rowid >= ? AND rowid < ?`, start, min(start+pruneChunk, end))
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

// firstArrivedAt returns the smallest rowid in [lo, hi) whose row arrived at or after
// cutoff, or hi if none did.
func (r *Readings) firstArrivedAt(ctx context.Context, lo, hi, cutoff int64) (int64, error) {
	for lo < hi {
		mid := lo + (hi-lo)/2
		var id, received int64
		err := r.db.QueryRowContext(ctx, `SELECT rowid, received FROM readings WHERE rowid >= ? ORDER BY rowid LIMIT 1`, mid).Scan(&id, &received)
		if errors.Is(err, sql.ErrNoRows) {
			hi = mid
			continue
		}
		if err != nil {
			return 0, err
		}
		if received >= cutoff {
			hi = mid
		} else {
			lo = id + 1
		}
	}
	return lo, nil
}

// DeleteSensor implements sensors.ReadingStore.
func (r *Readings) DeleteSensor(ctx context.Context, sensor string) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if _, err := r.w.ExecContext(ctx, `DELETE FROM readings WHERE `+bySensor, sensor); err != nil {
		return err
	}
	delete(r.nums, sensor)
	_, err := r.w.ExecContext(ctx, `DELETE FROM sources WHERE id = ?`, sensor)
	return err
}

// DeleteAll implements sensors.ReadingStore: both tables emptied in one transaction,
// then the file rewritten without free pages and its log truncated.
func (r *Readings) DeleteAll(ctx context.Context) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	tx, err := r.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM readings`, `DELETE FROM sources`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	clear(r.nums)
	return Compact(ctx, r.w)
}

// Row is one stored reading with its place in the table, for backups.
type Row struct {
	ID     int64   `json:"-"`
	Sensor string  `json:"s"`
	Kind   string  `json:"k"`
	Value  float64 `json:"v"`
	Time   int64   `json:"t"` // Unix nanoseconds
}

// After returns up to limit readings stored after the row id, oldest first, and the
// largest row id in the table (0 when empty): a cursor above it means the table was
// emptied since and the caller should start again from 0.
func (r *Readings) After(ctx context.Context, id int64, limit int) ([]Row, int64, error) {
	var maxID int64
	if err := r.db.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) FROM readings`).Scan(&maxID); err != nil {
		return nil, 0, err
	}
	rows, err := r.db.QueryContext(ctx, `SELECT r.rowid, s.id, r.kind, r.value, r.ts FROM readings r JOIN sources s ON s.num = r.sensor
		WHERE r.rowid > ? ORDER BY r.rowid LIMIT ?`, id, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var row Row
		var kind int64
		if err := rows.Scan(&row.ID, &row.Sensor, &kind, &row.Value, &row.Time); err != nil {
			return nil, 0, err
		}
		row.Kind = string(codeKinds[kind])
		out = append(out, row)
	}
	return out, maxID, rows.Err()
}

// Count returns the number of stored readings of a sensor (all sensors if empty).
func (r *Readings) Count(ctx context.Context, sensor string) (int64, error) {
	var n int64
	var err error
	if sensor == "" {
		err = r.db.QueryRowContext(ctx, `SELECT count(*) FROM readings`).Scan(&n)
	} else {
		err = r.db.QueryRowContext(ctx, `SELECT count(*) FROM readings WHERE `+bySensor, sensor).Scan(&n)
	}
	return n, err
}
