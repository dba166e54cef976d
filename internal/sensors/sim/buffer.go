package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"hearth/internal/atomicfile"
	"hearth/internal/sensors"
)

// DefaultBuffer is how many readings a sensor keeps while the gateway is away: at the
// default interval a climate sensor fills it in about four days.
const DefaultBuffer = 10000

// buffer holds the readings not yet acknowledged by the gateway, oldest first. It is
// bounded: when full, the oldest reading is dropped and counted, so a long outage
// loses the oldest data rather than the newest.
//
// TS-0045 5.6.1.1: readings taken while the gateway is away are kept and delivered
// once it returns; the buffer can be persisted so they also survive a restart.
type buffer struct {
	mu      sync.Mutex
	items   []item
	max     int
	next    uint64 // sequence number of the next reading added
	dropped uint64
	dirty   bool          // changed since the last save
	added   chan struct{} // signalled (without blocking) when a reading is added
}

// item is a buffered reading with its sequence number.
type item struct {
	seq uint64
	r   sensors.Reading
}

func newBuffer(max int) *buffer {
	return &buffer{max: max, added: make(chan struct{}, 1)}
}

// push adds r at the end; it reports whether the oldest reading had to make room.
func (b *buffer) push(r sensors.Reading) (dropped bool) {
	b.mu.Lock()
	if len(b.items) >= b.max {
		b.items = b.items[1:]
		b.dropped++
		dropped = true
	}
	b.items = append(b.items, item{seq: b.next, r: r})
	b.next++
	b.dirty = true
	b.mu.Unlock()
	select {
	case b.added <- struct{}{}:
	default:
	}
	return dropped
}

// peek returns the oldest reading without removing it.
func (b *buffer) peek() (item, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.items) == 0 {
		return item{}, false
	}
	return b.items[0], true
}

// ack removes the reading numbered seq, acknowledged by the gateway, if it is still
// the oldest (it may have been dropped to make room meanwhile).
func (b *buffer) ack(seq uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.items) > 0 && b.items[0].seq == seq {
		b.items[0] = item{}
		b.items = b.items[1:]
		b.dirty = true
	}
}

func (b *buffer) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.items)
}

func (b *buffer) droppedCount() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// bufferFile is the persisted form of the buffer: the wire payloads of the readings,
// oldest first, and the count of readings dropped so far.
type bufferFile struct {
	Version  int               `json:"version"`
	Dropped  uint64            `json:"dropped"`
	Readings []json.RawMessage `json:"readings"`
}

const bufferFileVersion = 1

// save writes the buffer to path atomically if it changed since the last save.
func (b *buffer) save(path string) error {
	b.mu.Lock()
	if !b.dirty {
		b.mu.Unlock()
		return nil
	}
	f := bufferFile{Version: bufferFileVersion, Dropped: b.dropped, Readings: make([]json.RawMessage, len(b.items))}
	for i, it := range b.items {
		f.Readings[i] = it.r.Marshal()
	}
	b.dirty = false
	b.mu.Unlock()
	data, err := json.Marshal(f)
	if err == nil {
		err = atomicfile.Write(path, data, 0o600)
	}
	if err != nil {
		b.mu.Lock()
		b.dirty = true
		b.mu.Unlock()
		return fmt.Errorf("save buffer: %w", err)
	}
	return nil
}

// load reads the buffer saved at path (none is an empty buffer). Each reading is
// validated as the gateway would at now; those it would refuse (too old, say) are
// dropped and counted, as are the oldest beyond the buffer's size.
func (b *buffer) load(path string, now time.Time) (discarded int, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load buffer: %w", err)
	}
	var f bufferFile
	if err := json.Unmarshal(data, &f); err != nil {
		return 0, fmt.Errorf("load buffer %s: %w", path, err)
	}
	if f.Version != bufferFileVersion {
		return 0, fmt.Errorf("load buffer %s: unknown version %d", path, f.Version)
	}
	b.mu.Lock()
	b.dropped += f.Dropped
	b.mu.Unlock()
	for _, raw := range f.Readings {
		r, err := sensors.ParseReading(raw, now)
		if err != nil {
			discarded++
			continue
		}
		b.push(r)
	}
	b.mu.Lock()
	b.dropped += uint64(discarded)
	b.dirty = false
	b.mu.Unlock()
	return discarded, nil
}
