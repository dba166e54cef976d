// Package sim is a simulated constrained sensor: plausible readings for each sensor
// model, and the client that delivers them to the gateway's MQTT broker the way a real
// coin-cell sensor must, over TLS, with its own credential, without losing readings
// while the gateway is away and without flooding it when it returns.
//
// Generator produces a model's readings in time order from a seed: temperature with a
// daily cycle, slow drift and noise; humidity loosely following temperature the other
// way; motion as a Poisson process whose rate follows the household's day; doors
// opening and closing; the battery slowly draining. The same seed and start give the
// same readings, so tests can reproduce them.
//
// Publisher delivers readings: MQTT 3.1.1 over TLS 1.2+ (internal/tlspolicy), QoS 1,
// clean session, the sensor ID as client ID and user name and its credential as
// password. Readings wait in a bounded buffer and leave it only when the gateway has
// acknowledged them, which it does once they are stored; after an outage the backlog
// is sent in order at no more than the model's rate.
//
// Threat model: the network between sensor and gateway is hostile, so the client
// trusts only the CA it is given and verifies the gateway's name; the credential is
// never logged. A gateway that refuses the sensor (wrong credential, quarantined or
// removed) is retried with growing delays rather than hammered.
//
// TS-0045 5.6.1.1: readings survive an outage of the gateway in a bounded buffer,
// optionally persisted to a file, and are delivered once it returns.
// TS-0045 5.6.1.3: reconnection after an outage uses exponential backoff with full
// jitter, so a fleet of sensors returns to a restarted gateway spread out in time.
//
// Concurrency: a Generator is used by one goroutine. A Publisher's Add and Stats may be
// called from any goroutine while Run runs.
package sim
