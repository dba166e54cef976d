// Package outbox is the gateway's durable queue of documents for the vendor cloud:
// security events and periodic telemetry summaries. Items are written to disk before
// Enqueue returns, drained strictly in order in batches, and removed only after the
// cloud acknowledged them; a cloud that is away for hours or days costs nothing but
// queued items, bounded by count and bytes (the oldest are dropped first and the number
// dropped is reported to the cloud with the next batch).
//
// Consent: nothing is queued or sent unless Config.Allowed says so. When it stops
// saying so, the queue is emptied: items collected under a consent that has since been
// withdrawn are not kept for a later send.
//
// Threat model: power loss or a crash at any point (the queue is a SQLite database in
// WAL mode with synchronous=FULL, so an item Enqueue accepted survives and a torn write
// is discarded by SQLite's WAL checksums without touching earlier items); a long outage
// of the cloud (bounded storage, local operation unaffected); a fleet of gateways losing
// the same cloud at once (reconnects spread by full-jitter backoff); a cloud that keeps
// rejecting a batch (the offending item is isolated and dropped, not retried forever).
// The transport's authenticity (mutual TLS) is the Sender's business.
//
// Concurrency: Enqueue and Stats may be called from any goroutine while one Run loop
// drains the queue.
//
// TS-0045 5.6.1.1 (queued items survive power loss), 5.6.1.2 (the gateway keeps working
// without the cloud and catches up after it returns), 5.6.1.3 (jittered reconnects).
package outbox
