package sim

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"hearth/internal/sensors"
)

func batteryAt(v float64, t time.Time) sensors.Reading {
	return sensors.Reading{Kind: sensors.Battery, Value: v, Time: t.UTC()}
}

func TestBufferDropsOldestWhenFull(t *testing.T) {
	b := newBuffer(3)
	now := time.Now().Truncate(time.Second)
	for i := range 5 {
		b.push(batteryAt(float64(i), now))
	}
	if b.len() != 3 || b.droppedCount() != 2 {
		t.Fatalf("len %d dropped %d; want 3 kept, 2 dropped", b.len(), b.droppedCount())
	}
	head, _ := b.peek()
	if head.r.Value != 2 {
		t.Fatalf("oldest kept is %v, want 2", head.r.Value)
	}
	// A reading acknowledged after it was dropped removes nothing else.
	b.push(batteryAt(5, now))
	b.ack(head.seq)
	if next, _ := b.peek(); b.len() != 3 || next.r.Value != 3 {
		t.Fatalf("after acknowledging a dropped reading: len %d, head %v", b.len(), next.r.Value)
	}
	b.ack(3)
	if next, _ := b.peek(); next.r.Value != 4 {
		t.Fatalf("after acknowledging the head: head %v", next.r.Value)
	}
}

func TestBufferFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "buffer.json")
	now := time.Now().Truncate(time.Millisecond)
	b := newBuffer(10)
	b.push(batteryAt(80, now.Add(-8*24*time.Hour))) // older than the gateway accepts
	for i := range 4 {
		b.push(batteryAt(float64(90+i), now.Add(time.Duration(i)*time.Second)))
	}
	b.dropped = 7
	if err := b.save(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("buffer file: %v, %v", st, err)
	}

	// Loaded into a smaller buffer: the stale reading and the oldest beyond its size go.
	c := newBuffer(3)
	n, err := c.load(path, now)
	if err != nil || n != 1 {
		t.Fatalf("load: %d discarded, %v; want the stale reading discarded", n, err)
	}
	if c.len() != 3 || c.droppedCount() != 7+1+1 {
		t.Fatalf("loaded %d, dropped %d", c.len(), c.droppedCount())
	}
	for want := 91.0; want <= 93; want++ {
		it, _ := c.peek()
		if it.r.Value != want || !it.r.Time.Equal(now.Add(time.Duration(want-90)*time.Second)) {
			t.Fatalf("loaded %+v, want battery %v", it.r, want)
		}
		c.ack(it.seq)
	}

	if _, err := newBuffer(3).load(filepath.Join(t.TempDir(), "none"), now); err != nil {
		t.Fatalf("missing buffer file: %v", err)
	}
	for name, content := range map[string]string{
		"not JSON":        "{",
		"unknown version": `{"version":9,"readings":[]}`,
	} {
		bad := filepath.Join(t.TempDir(), "bad")
		os.WriteFile(bad, []byte(content), 0o600)
		if _, err := newBuffer(3).load(bad, now); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}
