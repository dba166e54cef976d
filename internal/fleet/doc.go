// Package fleet checks the telemetry a vendor's fleet of gateways sends for security
// anomalies: brute-force login campaigns, lockout storms, tampered devices.
//
// The core is pure: [Aggregator] turns a device's stored documents (hourly summaries
// and security events) into daily counts per metric, and [Detect] scores one day of a
// fleet's counts against two robust baselines, the device's own previous days and the
// whole fleet on the same day, with thresholds kept as data ([Thresholds]). Nothing here
// reads files, clocks or the network; internal/cloud does the I/O.
//
// Statistics: a baseline is the median and the median absolute deviation (MAD) of the
// counts; a value's robust z-score is 0.6745·(x−median)/MAD'. MAD' is the MAD raised
// to a per-metric floor and to the spread of a Poisson count of the median's size
// (0.6745·√median): a handful of days of zero failures has MAD 0, and the floor keeps
// such a baseline from turning one failure into an infinite score; a device steadily
// at 300 failures a day is not flagged for 320. The per-metric absolute minimum keeps
// small counts from ever being flagged.
//
// Threat model: the devices are the vendor's own but may be attacked (password guessing
// against their login, a campaign against the whole fleet) or tampered with (altered
// firmware, refused updates). A compromised device may also lie in its telemetry: it
// can hide its own anomaly (the detector cannot see what is not reported) or inflate its
// counts, which only flags itself; a device's counts never lower another device's
// score except through the fleet median, which needs more than half the active devices
// to move. Parsers accept any bytes without panicking and ignore what they do not know.
// A campaign reaching more than half of the fleet on one day raises the fleet median;
// when that median reaches a metric's minimum the fleet test is set aside and the
// devices' own baselines decide.
//
// Concurrency: the functions hold no state; an Aggregator is used by one goroutine.
//
// TS-0045 5.8.1.2 (telemetry checked for security anomalies).
package fleet
