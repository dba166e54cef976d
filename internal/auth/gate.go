package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrBusy means the password-hashing queue is full; the client should retry shortly.
var ErrBusy = errors.New("auth: too many logins in progress")

// Priority orders waiters for a hashing slot: lower values are served first.
type Priority int

const (
	// PriorityTrusted: the client holds a device cookie from an earlier successful login
	// to this account.
	PriorityTrusted Priority = iota
	// PriorityClean: the source has no recent failed login.
	PriorityClean
	// PrioritySuspect: the source failed a login recently.
	PrioritySuspect
	numPriorities
)

// Gate bounds how many password hashes run at once and decides who runs next: trusted
// clients first, then clean sources, then suspect ones. Within a class the newest waiter
// goes first: under overload a request that just arrived (the owner's) is served at once,
// while the backlog of a flood ages out. Each class has a bounded queue; a full queue
// answers ErrBusy at once, as does a wait longer than MaxWait, so an attacker's guesses
// wait behind each other, not in front of the owner's login.
type Gate struct {
	mu      sync.Mutex
	free    int
	queues  [numPriorities][]*waiter
	maxWait [numPriorities]int
	// MaxWait bounds how long a request waits for a slot.
	MaxWait time.Duration
}

type waiter struct {
	ready   chan struct{}
	evicted bool // set before ready is closed when the waiter is turned away
}

// NewGate allows slots concurrent hashes, and queues at most maxQueue waiters per class.
func NewGate(slots, maxQueue int) *Gate {
	g := &Gate{free: slots, MaxWait: 10 * time.Second}
	for i := range g.maxWait {
		g.maxWait[i] = maxQueue
	}
	return g
}

// Acquire waits for a hashing slot. The returned release must be called exactly once.
func (g *Gate) Acquire(ctx context.Context, p Priority) (release func(), err error) {
	g.mu.Lock()
	if g.free > 0 && g.empty() {
		g.free--
		g.mu.Unlock()
		return g.release, nil
	}
	if q := g.queues[p]; len(q) >= g.maxWait[p] {
		if len(q) == 0 {
			g.mu.Unlock()
			return nil, ErrBusy
		}
		oldest := q[0]
		g.queues[p] = q[1:]
		oldest.evicted = true
		close(oldest.ready)
	}
	w := &waiter{ready: make(chan struct{})}
	g.queues[p] = append(g.queues[p], w)
	g.mu.Unlock()
	timer := time.NewTimer(g.MaxWait)
	defer timer.Stop()
	var giveUp error
	select {
	case <-w.ready:
		g.mu.Lock()
		evicted := w.evicted
		g.mu.Unlock()
		if evicted {
			return nil, ErrBusy
		}
		return g.release, nil
	case <-ctx.Done():
		giveUp = ctx.Err()
	case <-timer.C:
		giveUp = ErrBusy
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.remove(p, w) && !w.evicted {
		// The slot was handed over as we gave up: pass it on.
		g.handOff()
	}
	return nil, giveUp
}

func (g *Gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.handOff()
}

// handOff gives a freed slot to the newest waiter of the best class, or returns it to
// the pool. Caller holds g.mu.
func (g *Gate) handOff() {
	for p := range g.queues {
		if q := g.queues[p]; len(q) > 0 {
			w := q[len(q)-1]
			g.queues[p] = q[:len(q)-1]
			close(w.ready)
			return
		}
	}
	g.free++
}

func (g *Gate) empty() bool {
	for _, q := range g.queues {
		if len(q) > 0 {
			return false
		}
	}
	return true
}

func (g *Gate) remove(p Priority, w *waiter) bool {
	q := g.queues[p]
	for i, x := range q {
		if x == w {
			g.queues[p] = append(q[:i:i], q[i+1:]...)
			return true
		}
	}
	return false
}
