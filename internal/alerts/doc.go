// Package alerts raises alerts for security events the owner must not miss (an account
// locked out, an integrity violation, an update refused or failed) and delivers them
// through the channels the owner chose: the web UI's notification list and banner, signed
// HTTPS webhooks, e-mail through the owner's SMTP relay, and, only with the owner's
// consent, the vendor cloud.
//
// Rules are data (Settings.Rules): which event kinds alert through which channels. The
// defaults alert on lockouts, integrity violations and refused or failed updates through
// the UI, and through webhooks and e-mail when those are configured.
//
// Publish never waits for a network: a matching event becomes an alert written to a
// durable queue (a SQLite file in WAL mode with synchronous=FULL, bounded in size) with
// one delivery per channel and target, and Run delivers them with full-jitter backoff
// until each is delivered or, after Config.GiveUp (24 hours by default), marked failed.
// The status of every delivery (pending, delivered, failed; attempts, last error, times)
// is kept for the UI.
//
// Threat model: a network attacker between the gateway and a webhook receiver or SMTP
// relay (HTTPS only and STARTTLS required, both under internal/tlspolicy; webhook bodies
// are signed with a per-webhook HMAC-SHA256 secret and a timestamp, so a receiver can
// refuse forged and replayed requests with Verify); a receiver that misbehaves (bounded
// response reading, timeouts, no redirects followed, permanent refusals not retried
// forever); a crash or power loss between an event and its delivery (the queue survives);
// an alert storm (the queue is bounded, the oldest alerts are dropped first). Alerts
// carry only what the event carries: the caller passes a minimised event, and the user
// and remote address fields are never sent off the device by this package. Secrets
// (webhook secrets, the SMTP password) print as REDACTED.
//
// On disk (Config.Path, one SQLite file): table alerts (id, event_id, the minimised event
// as JSON, created, ui, read) and table deliveries (alert_id, channel, target, state,
// attempts, last_error, last_attempt, next_attempt, done), one row per alert, channel
// and target (the webhook's ID, empty for the other channels).
//
// Concurrency: Publish, List, Unread, MarkRead and SetSettings may be called from any
// goroutine while one Run loop delivers. Run delivers to different targets in parallel
// and to one target in order.
//
// TS-0045 5.8.1.1: an unauthorized software change detected by the product (an integrity
// violation, a refused firmware image) is reported to the user.
package alerts
